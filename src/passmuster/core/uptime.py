"""Uptime: probe counts summed over a period, and what the status page and badges make of them.

The monitor keeps probe history in tiers (raw samples, minute, hour and day roll-ups); the
store sums the tiers into `Tally`s and this module turns them into figures: a percentage, a
level for the bar's colour, the 90 days of a service's bar.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
BAR_DAYS = 90


@dataclass(frozen=True, slots=True)
class Tally:
    """Probes in a period: how many ran, how many passed, their summed latency (seconds)."""

    count: int = 0
    ok: int = 0
    latency_sum: float = 0.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.count + other.count, self.ok + other.ok, self.latency_sum + other.latency_sum
        )

    @property
    def uptime(self) -> float | None:
        """Percentage of probes that passed; None when nothing was probed."""
        return None if self.count == 0 else 100.0 * self.ok / self.count

    @property
    def mean_latency_ms(self) -> float | None:
        return None if self.count == 0 else 1000.0 * self.latency_sum / self.count


def total(tallies: Iterable[Tally]) -> Tally:
    out = Tally()
    for tally in tallies:
        out = out + tally
    return out


class Level(enum.StrEnum):
    """How a day or a period looks on the page: the bar's colour."""

    NONE = "none"  # no probes
    GOOD = "good"  # >= 99.9 %
    MINOR = "minor"  # >= 99 %
    MAJOR = "major"  # >= 95 %
    OUTAGE = "outage"  # below


def level(uptime: float | None) -> Level:
    if uptime is None:
        return Level.NONE
    if uptime >= 99.9:
        return Level.GOOD
    if uptime >= 99.0:
        return Level.MINOR
    if uptime >= 95.0:
        return Level.MAJOR
    return Level.OUTAGE


def percent(uptime: float | None, digits: int = 2) -> str:
    """`99.95%`; never rounds a lost probe up to 100%."""
    if uptime is None:
        return "no data"
    if uptime < 100.0:
        scale = 10**digits
        uptime = int(uptime * scale) / scale
        return f"{uptime:.{digits}f}%"
    return "100%"


@dataclass(frozen=True, slots=True)
class Day:
    start_ms: int
    tally: Tally
    incidents: int = 0

    @property
    def level(self) -> Level:
        return level(self.tally.uptime)


def day_of(at_ms: int) -> int:
    return at_ms - at_ms % DAY_MS


def bar_starts(today_ms: int, length: int = BAR_DAYS) -> range:
    """The starts of the last `length` days ending today, oldest first."""
    first = day_of(today_ms) - (length - 1) * DAY_MS
    return range(first, first + length * DAY_MS, DAY_MS)


def bar(
    days: Mapping[int, Tally],
    *,
    today_ms: int,
    incidents: Mapping[int, int] | None = None,
    length: int = BAR_DAYS,
) -> list[Day]:
    """The last `length` days ending today, oldest first; days without probes are empty."""
    counts = incidents or {}
    empty = Tally()
    return [
        Day(start, days.get(start, empty), counts.get(start, 0))
        for start in bar_starts(today_ms, length)
    ]


def uptime_of(counts: Iterable[tuple[int, int]]) -> float | None:
    """Percentage of probes that passed over (probes, passed) pairs; None without probes."""
    count = ok = 0
    for probes, passed in counts:
        count += probes
        ok += passed
    return None if count == 0 else 100.0 * ok / count


def incident_days(
    spans: Iterable[tuple[int, int | None]], *, now_ms: int, since_ms: int = 0
) -> dict[int, int]:
    """How many incidents touched each day from `since_ms`'s day on: spans are (opened,
    resolved or None) in ms."""
    counts: dict[int, int] = {}
    first = day_of(since_ms)
    for opened, closed in spans:
        end = now_ms if closed is None else closed
        day = max(day_of(opened), first)
        while day <= end:
            counts[day] = counts.get(day, 0) + 1
            day += DAY_MS
    return counts
