"""Service health as the API and the pages show it, read from what the monitor records.

`HealthView.current()` gives each known service's latest state; the API, the services page and
the live feed all read through it, so they show the same thing. `StoreHealth` reads the monitor's
tables in the desk, so a monitor running anywhere on the same desk (in `serve --monitor`, or a
separate `passmuster monitor`) shows up here. Before any probe every service is `unknown`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

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


# The sparkline covers this much recent history (one query over every target's samples).
SPARK_WINDOW_MS = 10 * 60 * 1000
SPARK_POINTS = 30


class StoreHealth:
    """Health from the monitor's store in the desk."""

    def __init__(self, engine: Any) -> None:
        from passmuster.storage.monitor_store import MonitorStore

        self._engine = engine
        self._store = MonitorStore(engine)

    def states(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, (state, _service) in self._store.service_states().items():
            out[name] = _worst(out.get(name), state.health.value)
        return out

    def current(self) -> dict[str, ServiceHealth]:
        rows = self._store.target_rows()
        recent = self._recent()
        out: dict[str, ServiceHealth] = {}
        for row in rows:
            name = row.service or row.name
            state = row.state.health.value
            if name in out and _worst(out[name].state, state) == out[name].state:
                continue  # a service with several targets shows its worst one
            out[name] = ServiceHealth(
                name=name,
                state=state,
                latency_ms=None if row.last_latency is None else row.last_latency * 1000.0,
                checked_at=None
                if row.last_at is None
                else datetime.fromtimestamp(row.last_at / 1000, UTC),
                reason=row.last_reason,
                recent=recent.get(row.name, []),
            )
        return out

    def _recent(self) -> dict[str, list[float | None]]:
        since = int(time.time() * 1000) - SPARK_WINDOW_MS
        return {
            name: [None if v is None else v * 1000.0 for v in values[-SPARK_POINTS:]]
            for name, values in self._store.recent_latencies(since).items()
        }


_RANK = {"down": 3, "degraded": 2, "unknown": 1, "up": 0}


def _worst(a: str | None, b: str) -> str:
    if a is None:
        return b
    return a if _RANK.get(a, 1) >= _RANK.get(b, 1) else b
