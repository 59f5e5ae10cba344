"""Monitored targets: the configured set, who probes which (leases), each one's health state,
its last probe and counters, and the flips between states.

Claims are atomic on both databases: `UPDATE … WHERE name IN (SELECT … FOR UPDATE SKIP LOCKED)`
on PostgreSQL, where two workers never wait on each other's rows; on SQLite the same statement
runs inside `BEGIN IMMEDIATE`, so claims are serialised and the lease condition is re-checked
by the outer `WHERE` (compare-and-set). A lease expires, so a worker killed mid-probe only
delays its probe, never loses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Engine,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from passmuster.core.health import Health, TargetState
from passmuster.core.targets import Target
from passmuster.storage.claims import claim_rows
from passmuster.storage.engine import read_transaction, write_transaction
from passmuster.storage.monitor_tables import (
    LATENCY_BUCKETS,
    monitor_flips,
    monitor_targets,
)
from passmuster.storage.probe_history_store import Sample, insert_samples


@dataclass(frozen=True, slots=True)
class Claimed:
    target: Target
    state: TargetState


@dataclass(frozen=True, slots=True)
class Record:
    """What one probe changes: the target's new state, its next due time and its sample."""

    name: str
    state: TargetState
    next_due: int
    sample: Sample


@dataclass(frozen=True, slots=True)
class FlipRow:
    id: int
    target: str
    service: str | None
    at: int
    old: str
    new: str
    reason: str
    incident: int | None
    suppressed_by: str | None


@dataclass(frozen=True, slots=True)
class TargetRow:
    """A target as status pages and metrics show it."""

    name: str
    service: str | None
    url: str
    active: bool
    state: TargetState
    last_at: int | None
    last_ok: bool | None
    last_latency: float | None
    last_status: int | None
    last_reason: str | None
    probes: int
    probe_failures: int
    target: Target
    latency_sum: float = 0.0
    buckets: tuple[int, ...] = ()  # per LATENCY_BUCKETS, not cumulative


@dataclass(frozen=True, slots=True)
class SyncReport:
    added: int
    changed: int
    removed: int


class TargetStore:
    """Targets, their leases and health state."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._targets: dict[str, Target] = {}

    def sync_targets(self, targets: Mapping[str, Target], now: int) -> SyncReport:
        """Make the table match the configured targets. Known targets keep their health, a
        changed one is due at once, a removed one goes inactive (its history stays)."""
        t = monitor_targets
        added = changed = removed = 0
        with write_transaction(self.engine) as conn:
            rows = {r.name: r for r in conn.execute(select(t.c.name, t.c.digest, t.c.active))}
            fresh = [
                {
                    "name": name,
                    "service": target.service,
                    "url": target.url,
                    "spec": target.to_json(),
                    "digest": target.digest(),
                    "active": True,
                    "next_due": now,
                    "health": Health.UNKNOWN.value,
                    "failures": 0,
                    "successes": 0,
                    "recent_failures": "[]",
                    "flips": 0,
                    "incident_open": False,
                    "probes": 0,
                    "probe_failures": 0,
                    "latency_sum": 0.0,
                    **{f"h{i}": 0 for i in range(_BUCKETS)},
                }
                for name, target in targets.items()
                if name not in rows
            ]
            if fresh:
                dialect_insert = (
                    postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
                )
                # Another worker may sync the same targets at the same moment: first one wins.
                stmt = dialect_insert(t).on_conflict_do_nothing(index_elements=["name"])
                added = len(conn.execute(stmt.returning(t.c.name), fresh).all())
            for name, target in targets.items():
                digest = target.digest()
                row = rows.get(name)
                if row is None:
                    continue
                if row.digest != digest or not row.active:
                    conn.execute(
                        update(t)
                        .where(t.c.name == name)
                        .values(
                            service=target.service,
                            url=target.url,
                            spec=target.to_json(),
                            digest=digest,
                            active=True,
                            next_due=now,
                        )
                    )
                    changed += 1
            gone = [n for n, r in rows.items() if r.active and n not in targets]
            if gone:
                conn.execute(update(t).where(t.c.name.in_(gone)).values(active=False))
                removed = len(gone)
        return SyncReport(added, changed, removed)

    def claim_due(self, owner: str, now: int, *, limit: int, lease_ms: int) -> list[Claimed]:
        """Lease up to `limit` due targets to `owner`; nobody else probes them until released
        or until the lease runs out."""
        t = monitor_targets
        free = or_(t.c.lease_until.is_(None), t.c.lease_until < now)
        stmt = claim_rows(
            t,
            t.c.name,
            free=free,
            due=[t.c.active.is_(True), t.c.next_due <= now],
            order=t.c.next_due,
            limit=limit,
            values={"lease_owner": owner, "lease_until": now + lease_ms},
        ).returning(*_STATE_COLUMNS, t.c.spec, t.c.digest)
        with write_transaction(self.engine) as conn:
            rows = conn.execute(stmt).all()
        return [Claimed(self._target(r.digest, r.spec), _state(r)) for r in rows]

    def _target(self, digest: str, spec: str) -> Target:
        """Targets by digest: a claimed target's JSON is parsed once, not on every probe."""
        found = self._targets.get(digest)
        if found is None:
            if len(self._targets) > 100_000:
                self._targets.clear()
            found = self._targets[digest] = Target.from_json(spec)
        return found

    def renew(self, owner: str, name: str, until: int) -> bool:
        """Extend a lease we hold; False when it was lost (expired and taken by another)."""
        t = monitor_targets
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(t)
                .where(t.c.name == name, t.c.lease_owner == owner)
                .values(lease_until=until)
            )
        return result.rowcount == 1

    def record(
        self,
        owner: str,
        records: Sequence[Record],
        *,
        keep_samples: bool = True,
        flips: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Store probe outcomes and release their leases (only rows `owner` still holds)."""
        if not records:
            return
        t = monitor_targets
        params = [
            {
                "b_name": r.name,
                "b_owner": owner,
                "health": r.state.health.value,
                "failures": r.state.failures,
                "successes": r.state.successes,
                "recent_failures": json.dumps(list(r.state.recent_failures)),
                "since": r.state.since,
                "flips": r.state.flips,
                "incident": r.state.incident,
                "incident_open": r.state.incident_open,
                "incident_closed_at": r.state.incident_closed_at,
                "next_due": r.next_due,
                "last_at": r.sample.at,
                "last_ok": r.sample.ok,
                "last_latency": r.sample.latency,
                "last_status": r.sample.status,
                "last_reason": r.sample.reason,
                "b_failed": 0 if r.sample.ok else 1,
                "b_latency": r.sample.latency,
                **_bucket_params(r.sample.latency),
            }
            for r in records
        ]
        stmt = (
            update(t)
            .where(t.c.name == bindparam("b_name"), t.c.lease_owner == bindparam("b_owner"))
            .values(
                health=bindparam("health"),
                failures=bindparam("failures"),
                successes=bindparam("successes"),
                recent_failures=bindparam("recent_failures"),
                since=bindparam("since"),
                flips=bindparam("flips"),
                incident=bindparam("incident"),
                incident_open=bindparam("incident_open"),
                incident_closed_at=bindparam("incident_closed_at"),
                next_due=bindparam("next_due"),
                last_at=bindparam("last_at"),
                last_ok=bindparam("last_ok"),
                last_latency=bindparam("last_latency"),
                last_status=bindparam("last_status"),
                last_reason=bindparam("last_reason"),
                probes=t.c.probes + 1,
                probe_failures=t.c.probe_failures + bindparam("b_failed"),
                latency_sum=t.c.latency_sum + bindparam("b_latency"),
                **{f"h{i}": t.c[f"h{i}"] + bindparam(f"b_h{i}") for i in range(_BUCKETS)},
                lease_owner=None,
                lease_until=None,
            )
        )
        with write_transaction(self.engine) as conn:
            conn.execute(stmt, params)
            if flips:
                conn.execute(insert(monitor_flips), list(flips))
            if keep_samples:
                insert_samples(
                    conn,
                    [
                        {
                            "target": r.sample.target,
                            "at": r.sample.at,
                            "ok": r.sample.ok,
                            "degraded": r.sample.degraded,
                            "latency": r.sample.latency,
                            "status": r.sample.status,
                            "reason": r.sample.reason or None,
                        }
                        for r in records
                    ],
                )

    def release(self, owner: str, names: Iterable[str]) -> None:
        t = monitor_targets
        names = list(names)
        if not names:
            return
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(t)
                .where(t.c.name.in_(names), t.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    def target_rows(self, *, active_only: bool = True) -> list[TargetRow]:
        t = monitor_targets
        stmt = select(t).order_by(t.c.name)
        if active_only:
            stmt = stmt.where(t.c.active.is_(True))
        with read_transaction(self.engine) as conn:
            rows = conn.execute(stmt).all()
        return [
            TargetRow(
                name=r.name,
                service=r.service,
                url=r.url,
                active=bool(r.active),
                state=_state(r),
                last_at=r.last_at,
                last_ok=r.last_ok,
                last_latency=r.last_latency,
                last_status=r.last_status,
                last_reason=r.last_reason,
                probes=r.probes,
                probe_failures=r.probe_failures,
                target=Target.from_json(r.spec),
                latency_sum=r.latency_sum,
                buckets=tuple(r._mapping[f"h{i}"] for i in range(_BUCKETS)),
            )
            for r in rows
        ]

    def states(self) -> dict[str, TargetState]:
        """Current state of every active target, for dependency decisions."""
        t = monitor_targets
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(*_STATE_COLUMNS).where(t.c.active.is_(True))).all()
        return {r.name: _state(r) for r in rows}

    def service_states(self) -> dict[str, tuple[TargetState, str | None]]:
        """By service label: the state and the service name (targets without one use theirs)."""
        t = monitor_targets
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(*_STATE_COLUMNS).where(t.c.active.is_(True))).all()
        return {(r.service or r.name): (_state(r), r.service) for r in rows}

    def next_due(self, *, free_at: int) -> int | None:
        """The earliest due time of an active target nobody holds at `free_at`, or None."""
        t = monitor_targets
        free = or_(t.c.lease_until.is_(None), t.c.lease_until < free_at)
        with read_transaction(self.engine) as conn:
            value = conn.execute(
                select(func.min(t.c.next_due)).where(t.c.active.is_(True), free)
            ).scalar_one_or_none()
        return None if value is None else int(value)

    def make_due(self, now: int) -> None:
        """Every active target due now (probe everything once)."""
        t = monitor_targets
        with write_transaction(self.engine) as conn:
            conn.execute(update(t).where(t.c.active.is_(True)).values(next_due=now))

    def add_flip(
        self,
        *,
        target: str,
        service: str | None,
        at: int,
        old: str,
        new: str,
        reason: str,
        incident: int | None,
        suppressed_by: str | None,
    ) -> int:
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                insert(monitor_flips)
                .values(
                    target=target,
                    service=service,
                    at=at,
                    old=old,
                    new=new,
                    reason=reason,
                    incident=incident,
                    suppressed_by=suppressed_by,
                )
                .returning(monitor_flips.c.id)
            )
            return int(result.scalar_one())

    def flips(
        self, *, after: int = 0, limit: int = 100, target: str | None = None
    ) -> list[FlipRow]:
        f = monitor_flips
        stmt = select(f).where(f.c.id > after).order_by(f.c.id).limit(limit)
        if target is not None:
            stmt = stmt.where(f.c.target == target)
        with read_transaction(self.engine) as conn:
            return [FlipRow(**r._mapping) for r in conn.execute(stmt)]


_BUCKETS = len(LATENCY_BUCKETS)


def _bucket_params(latency: float) -> dict[str, int]:
    index = next((i for i, bound in enumerate(LATENCY_BUCKETS) if latency <= bound), _BUCKETS)
    return {f"b_h{i}": 1 if i == index else 0 for i in range(_BUCKETS)}


_STATE_COLUMNS = (
    monitor_targets.c.name,
    monitor_targets.c.service,
    monitor_targets.c.health,
    monitor_targets.c.failures,
    monitor_targets.c.successes,
    monitor_targets.c.recent_failures,
    monitor_targets.c.since,
    monitor_targets.c.flips,
    monitor_targets.c.incident,
    monitor_targets.c.incident_open,
    monitor_targets.c.incident_closed_at,
)


def _state(row: Any) -> TargetState:
    return TargetState(
        health=Health(row.health),
        failures=row.failures,
        successes=row.successes,
        recent_failures=tuple(json.loads(row.recent_failures or "[]")),
        since=row.since,
        incident=row.incident,
        incident_open=bool(row.incident_open),
        incident_closed_at=row.incident_closed_at,
        flips=row.flips,
    )
