"""What the monitor knows right now, for `passmuster status`, the services page and the API.

`overview(desk)` lists every monitored target with its health, last latency, last failure
reason and the open incidents of its service; `latency_series` gives recent latencies for a
sparkline (raw samples, then per-minute roll-ups for older points).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from passmuster.core.issues import IssueQuery, IssueType
from passmuster.errors import NotFound
from passmuster.storage.monitor_store import MonitorStore
from passmuster.usecases.desk import Desk


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    name: str  # the target's name
    service: str | None
    health: str  # unknown, up, degraded, down
    since: datetime | None
    latency_ms: float | None
    checked_at: datetime | None
    reason: str | None
    incident: int | None  # the open incident of this target, if any
    open_incidents: list[int] = field(default_factory=list)  # of the service, any source
    probes: int = 0
    failures: int = 0


def _time(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def overview(desk: Desk) -> list[ServiceStatus]:
    """Every active target, with the open incidents of its service."""
    store = MonitorStore(desk.engine)
    open_by_service: dict[str, list[int]] = {}
    for issue in desk.issues(IssueQuery(types=[IssueType.INCIDENT], active_only=True)):
        for service in issue.services:
            open_by_service.setdefault(service, []).append(issue.number)
    result = []
    for row in store.target_rows():
        state = row.state
        result.append(
            ServiceStatus(
                name=row.name,
                service=row.service,
                health=state.health.value,
                since=_time(state.since),
                latency_ms=None if row.last_latency is None else row.last_latency * 1000,
                checked_at=_time(row.last_at),
                reason=row.last_reason if row.last_ok is False else None,
                incident=state.incident if state.incident_open else None,
                open_incidents=sorted(open_by_service.get(row.service or row.name, [])),
                probes=row.probes,
                failures=row.probe_failures,
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    name: str
    kind: str
    state: str  # enabled, or disabled (by a permanent error, until enabled again)
    disabled_reason: str | None
    disabled_at: datetime | None
    sent: int
    failed: int
    pending: int  # waiting to be sent (kept while the channel is disabled)
    last_error: str | None  # of its most recent notification that had one


def channels(desk: Desk) -> list[ChannelStatus]:
    """Notification channels: state, sent and failed counts, pending ones, the last error."""
    store = MonitorStore(desk.engine)
    depth = store.outbox_depth()
    errors = store.last_errors()
    return [
        ChannelStatus(
            name=row.name,
            kind=row.kind,
            state="disabled" if row.disabled_reason else "enabled",
            disabled_reason=row.disabled_reason,
            disabled_at=_time(row.disabled_at),
            sent=row.sent,
            failed=row.failed,
            pending=depth.get((row.name, "pending"), 0) + depth.get((row.name, "sending"), 0),
            last_error=errors.get(row.name),
        )
        for row in store.channels()
    ]


def enable_channel(desk: Desk, name: str) -> bool:
    """Enable a channel a permanent error disabled; its waiting notifications go out on the
    monitor's next delivery round. False when it was not disabled; NotFound when unknown."""
    store = MonitorStore(desk.engine)
    row = next((r for r in store.channels() if r.name == name), None)
    if row is None:
        known = ", ".join(r.name for r in store.channels()) or "none yet"
        raise NotFound(f"no notification channel {name!r} (known: {known})", field="name")
    if row.disabled_reason is None:
        return False
    store.enable_channel(name)
    return True


def latency_series(
    desk: Desk, target: str, *, since: datetime, limit: int = 120
) -> list[tuple[datetime, float | None]]:
    """(time, latency in ms or None for a failed probe), oldest first, at most `limit` points.

    Older than the raw window, per-minute averages stand in for the samples.
    """
    store = MonitorStore(desk.engine)
    since_ms = int(since.timestamp() * 1000)
    points: list[tuple[int, float | None]] = []
    for bucket, count, ok, latency_sum, _ in store.rollups(target, "m"):
        if bucket >= since_ms and count:
            points.append((bucket, (latency_sum / count) * 1000 if ok else None))
    for sample in store.samples(target, since=since_ms):
        points.append((sample.at, sample.latency * 1000 if sample.ok else None))
    points.sort(key=lambda p: p[0])
    if len(points) > limit:
        step = len(points) / limit
        points = [points[int(i * step)] for i in range(limit)]
    return [(datetime.fromtimestamp(at / 1000, UTC), value) for at, value in points]
