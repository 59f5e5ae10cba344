"""What the use-case tests share: a clock the test moves by hand, so rules that depend on time
(SLA clocks, leases, reports over periods) are tested without waiting."""

from __future__ import annotations

from datetime import datetime, timedelta


class HandClock:
    """The desk's clock: reads `now`, which only `advance` (or the test) moves."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
