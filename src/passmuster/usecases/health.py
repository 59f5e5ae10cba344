"""Current health, read from what the monitor records: the one reader every surface uses.

`StoreHealth` reads the monitor's tables in the desk, so a monitor running anywhere on the same
desk (in `serve --monitor`, or a separate `passmuster monitor`) shows up here. `targets()` gives
each monitored target's latest state (`monitored_target` turns a stored row into it); `current()`
folds those into each service's state, its worst target's, for the API, the services page, the
MCP tools and the live feed; `overview(desk)` adds each service's open incidents for
`passmuster status`. Before any probe every service is `unknown`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from passmuster.core.epoch_ms import moment_or_none
from passmuster.core.health import urgency
from passmuster.core.issues import IssueQuery, IssueType

if TYPE_CHECKING:
    from passmuster.storage.probe_history_store import ProbeHistoryStore
    from passmuster.storage.target_store import TargetRow, TargetStore
    from passmuster.usecases.desk import Desk

STATES = ("up", "degraded", "down", "unknown")


@dataclass(frozen=True, slots=True)
class MonitoredTarget:
    """One monitored target as the monitor last recorded it."""

    name: str
    service: str | None
    state: str  # unknown, up, degraded, down
    since: datetime | None  # when it entered that state
    latency_ms: float | None
    checked_at: datetime | None
    last_ok: bool | None  # whether the last probe held every condition
    reason: str | None  # the last probe's reason: a failure's, or a degraded answer's
    incident: int | None  # the open incident of this target, if any
    probes: int
    failures: int


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


def monitored_target(row: TargetRow) -> MonitoredTarget:
    state = row.state
    return MonitoredTarget(
        name=row.name,
        service=row.service,
        state=state.health.value,
        since=moment_or_none(state.since),
        latency_ms=None if row.last_latency is None else row.last_latency * 1000.0,
        checked_at=moment_or_none(row.last_at),
        last_ok=row.last_ok,
        reason=row.last_reason,
        incident=state.incident if state.incident_open else None,
        probes=row.probes,
        failures=row.probe_failures,
    )


class StoreHealth:
    """Health from the monitor's store in the desk."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    # Made when first read: the server makes this view to start, and the monitor's stores (with
    # the modules of every table they read) need not be imported before it answers.
    @cached_property
    def _targets(self) -> TargetStore:
        from passmuster.storage.target_store import TargetStore

        return TargetStore(self._engine)

    @cached_property
    def _history(self) -> ProbeHistoryStore:
        from passmuster.storage.probe_history_store import ProbeHistoryStore

        return ProbeHistoryStore(self._engine)

    def states(self) -> dict[str, str]:
        # Every target's state without reading its probe specification; a service with several
        # targets takes its worst, as in `current()`.
        from passmuster.storage.uptime_store import target_health as stored_states

        out: dict[str, str] = {}
        for target in stored_states(self._engine):
            name = target.service or target.name
            out[name] = _worst(out.get(name), target.health)
        return out

    def targets(self) -> list[MonitoredTarget]:
        """Every active target, in the store's order."""
        return [monitored_target(row) for row in self._targets.target_rows()]

    def current(self) -> dict[str, ServiceHealth]:
        recent = self._recent()
        out: dict[str, ServiceHealth] = {}
        for target in self.targets():
            name = target.service or target.name
            if name in out and _worst(out[name].state, target.state) == out[name].state:
                continue  # a service with several targets shows its worst one
            out[name] = ServiceHealth(
                name=name,
                state=target.state,
                latency_ms=target.latency_ms,
                checked_at=target.checked_at,
                reason=target.reason,
                recent=recent.get(target.name, []),
            )
        return out

    def _recent(self) -> dict[str, list[float | None]]:
        since = int(time.time() * 1000) - SPARK_WINDOW_MS
        return {
            name: [None if v is None else v * 1000.0 for v in values[-SPARK_POINTS:]]
            for name, values in self._history.recent_latencies(since).items()
        }


def _worst(a: str | None, b: str) -> str:
    if a is None:
        return b
    return a if urgency(a) >= urgency(b) else b


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """A target's row in `passmuster status`: its health and its service's open incidents."""

    name: str  # the target's name
    service: str | None
    health: str  # unknown, up, degraded, down
    since: datetime | None
    latency_ms: float | None
    checked_at: datetime | None
    reason: str | None  # why the last probe failed; None when it held
    incident: int | None  # the open incident of this target, if any
    open_incidents: list[int] = field(default_factory=list)  # of the service, any source
    probes: int = 0
    failures: int = 0


def overview(desk: Desk) -> list[ServiceStatus]:
    """Every active target, with the open incidents of its service."""
    targets = StoreHealth(desk.engine).targets()
    # Only the incidents of the targets' services: a desk's other open incidents (thousands, on
    # a desk with years of history) were all read, whole, at every look at the status.
    watched = sorted({target.service or target.name for target in targets})
    open_by_service: dict[str, list[int]] = {}
    if watched:
        query = IssueQuery(types=[IssueType.INCIDENT], active_only=True, services=watched)
        for issue in desk.issues(query):
            for service in issue.services:
                open_by_service.setdefault(service, []).append(issue.number)
    return [
        ServiceStatus(
            name=target.name,
            service=target.service,
            health=target.state,
            since=target.since,
            latency_ms=target.latency_ms,
            checked_at=target.checked_at,
            reason=target.reason if target.last_ok is False else None,
            incident=target.incident,
            open_incidents=sorted(open_by_service.get(target.service or target.name, [])),
            probes=target.probes,
            failures=target.failures,
        )
        for target in targets
    ]
