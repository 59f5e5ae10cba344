"""Service health as the API and the pages show it, read from whatever the monitor records.

`HealthView.current()` gives each known service's latest state; the API, the services page and
the live feed all read through it, so they show the same thing. Without a monitor every service
is `unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

STATES = ("up", "degraded", "down", "unknown")


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    name: str
    state: str = "unknown"
    latency_ms: float | None = None
    checked_at: datetime | None = None
    reason: str | None = None
    # Recent probe latencies, oldest first, for the sparkline (None marks a failed probe).
    recent: list[float | None] = field(default_factory=list)


class HealthView(Protocol):
    def current(self) -> dict[str, ServiceHealth]: ...

    def states(self) -> dict[str, str]:
        """Just each service's state: what the live feed compares between two looks."""
        ...


class NoHealth:
    """No monitor: nothing is known."""

    def current(self) -> dict[str, ServiceHealth]:
        return {}

    def states(self) -> dict[str, str]:
        return {}
