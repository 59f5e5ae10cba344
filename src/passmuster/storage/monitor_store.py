"""The monitor's store: target leases, health state, history roll-ups and the notification outbox.

Claims are atomic on both databases: `UPDATE … WHERE name IN (SELECT … FOR UPDATE SKIP LOCKED)`
on PostgreSQL, where two workers never wait on each other's rows; on SQLite the same statement
runs inside `BEGIN IMMEDIATE`, so claims are serialised and the lease condition is re-checked
by the outer `WHERE` (compare-and-set). A lease expires, so a worker killed mid-probe or
mid-delivery only delays its work, never loses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Engine,
    Integer,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert

from passmuster.core.health import Health, TargetState
from passmuster.core.targets import Target
from passmuster.core.uptime import DAY_MS
from passmuster.storage.engine import read_transaction, write_transaction
from passmuster.storage.monitor_tables import (
    LATENCY_BUCKETS,
    monitor_channels,
    monitor_flips,
    monitor_jobs,
    monitor_outbox,
    monitor_rollups,
    monitor_samples,
    monitor_targets,
    monitor_uptime_days,
)
from passmuster.storage.uptime_store import day_rollup_source

MINUTE_MS = 60_000
HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Claimed:
    target: Target
    state: TargetState


@dataclass(frozen=True, slots=True)
class Sample:
    target: str
    at: int
    ok: bool
    degraded: bool
    latency: float
    status: int | None
    reason: str | None


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
class Outgoing:
    """A notification to enqueue on one channel."""

    key: str
    channel: str
    kind: str
    payload: Mapping[str, Any]
    incident: int | None = None
    not_before: int = 0
    status: str = "pending"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    key: str
    channel: str
    kind: str
    payload: dict[str, Any]
    incident: int | None
    status: str
    attempts: int
    not_before: int
    last_error: str | None
    created_at: int
    sent_at: int | None


@dataclass(frozen=True, slots=True)
class ChannelRow:
    name: str
    kind: str
    disabled_reason: str | None
    disabled_at: int | None
    sent: int
    failed: int
    config_digest: str | None = None


@dataclass(frozen=True, slots=True)
class SyncReport:
    added: int
    changed: int
    removed: int


@dataclass(frozen=True, slots=True)
class CompactReport:
    samples_rolled: int
    minutes_rolled: int
    hours_dropped: int
    outbox_dropped: int


class MonitorStore:
    """Every read and write the monitor makes outside the tracker's issues."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        self._targets: dict[str, Target] = {}

    # -- targets -------------------------------------------------------------------------------

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
                    postgresql.insert if self._dialect == "postgresql" else sqlite.insert
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
        due = (
            select(t.c.name)
            .where(t.c.active.is_(True), t.c.next_due <= now, free)
            .order_by(t.c.next_due)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(t)
            .where(t.c.name.in_(due.scalar_subquery()), free)
            .values(lease_owner=owner, lease_until=now + lease_ms)
            .returning(*_STATE_COLUMNS, t.c.spec, t.c.digest)
        )
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
                self._insert_samples(
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

    def add_samples(self, samples: Sequence[Mapping[str, Any]]) -> None:
        """Store probe samples taken elsewhere (rows of `monitor_samples`: target, at, ok,
        degraded, latency …), counted in their days as recorded ones are."""
        if samples:
            with write_transaction(self.engine) as conn:
                self._insert_samples(conn, samples)

    def _insert_samples(self, conn: Connection, samples: Sequence[Mapping[str, Any]]) -> None:
        """Insert samples and add them to their targets' day counts, in the caller's
        transaction: the day counts hold exactly what the samples (and, once compacted, the day
        roll-ups) hold."""
        conn.execute(insert(monitor_samples), list(samples))
        days: dict[tuple[str, int], list[int]] = {}
        for sample in samples:
            at = int(sample["at"])
            tally = days.setdefault((str(sample["target"]), at - at % DAY_MS), [0, 0])
            tally[0] += 1
            tally[1] += 1 if sample["ok"] else 0
        u = monitor_uptime_days
        dialect_insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(u)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["target", "day"],
                set_={"count": u.c.count + stmt.excluded["count"], "ok": u.c.ok + stmt.excluded.ok},
            ),
            [
                {"target": target, "day": day, "count": count, "ok": ok}
                for (target, day), (count, ok) in sorted(days.items())
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

    # -- flips ---------------------------------------------------------------------------------

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

    # -- history -------------------------------------------------------------------------------

    def samples(self, target: str, *, since: int = 0) -> list[Sample]:
        s = monitor_samples
        stmt = (
            select(s.c.target, s.c.at, s.c.ok, s.c.degraded, s.c.latency, s.c.status, s.c.reason)
            .where(s.c.target == target, s.c.at >= since)
            .order_by(s.c.at)
        )
        with read_transaction(self.engine) as conn:
            return [Sample(*r) for r in conn.execute(stmt)]

    def recent_latencies(self, since: int) -> dict[str, list[float | None]]:
        """Per target, its probes' latencies in seconds since `since` (ms), oldest first;
        None marks a failed probe."""
        s = monitor_samples
        query = (
            select(s.c.target, s.c.ok, s.c.latency)
            .where(s.c.at >= since)
            .order_by(s.c.target, s.c.at)
        )
        series: dict[str, list[float | None]] = {}
        with read_transaction(self.engine) as conn:
            for target, ok, latency in conn.execute(query):
                series.setdefault(target, []).append(float(latency) if ok else None)
        return series

    def rollups(self, target: str, resolution: str) -> list[tuple[int, int, int, float, float]]:
        """(bucket, count, ok, latency_sum, latency_max) per minute ("m") or hour ("h")."""
        r = monitor_rollups
        stmt = (
            select(r.c.bucket, r.c.count, r.c.ok, r.c.latency_sum, r.c.latency_max)
            .where(r.c.target == target, r.c.resolution == resolution)
            .order_by(r.c.bucket)
        )
        with read_transaction(self.engine) as conn:
            return [tuple(row) for row in conn.execute(stmt)]

    def compact(self, now: int, *, raw_ms: int, minutes_ms: int, hours_ms: int) -> CompactReport:
        """Roll raw samples older than `raw_ms` into minutes, minutes older than `minutes_ms`
        into hours, and drop hours older than `hours_ms`: storage stays bounded."""
        s, r = monitor_samples, monitor_rollups
        raw_cut = (now - raw_ms) // MINUTE_MS * MINUTE_MS
        minute_cut = (now - minutes_ms) // HOUR_MS * HOUR_MS
        with write_transaction(self.engine) as conn:
            bucket = (s.c.at - s.c.at % MINUTE_MS).label("bucket")
            rolled = conn.execute(select(func.count()).where(s.c.at < raw_cut)).scalar_one()
            if rolled:
                source = (
                    select(
                        s.c.target,
                        literal("m"),
                        bucket,
                        func.count(),
                        func.sum(cast(s.c.ok, Integer)),
                        func.sum(s.c.latency),
                        func.max(s.c.latency),
                    )
                    .where(s.c.at < raw_cut)
                    .group_by(s.c.target, bucket)
                )
                conn.execute(self._merge_rollups(source))
                # The same samples summed by day too: the status page's bars read days only.
                conn.execute(self._merge_rollups(day_rollup_source(raw_cut)))
                conn.execute(delete(s).where(s.c.at < raw_cut))
            minutes = conn.execute(
                select(func.count()).where(r.c.resolution == "m", r.c.bucket < minute_cut)
            ).scalar_one()
            if minutes:
                hour = (r.c.bucket - r.c.bucket % HOUR_MS).label("hbucket")
                source = (
                    select(
                        r.c.target,
                        literal("h"),
                        hour,
                        func.sum(r.c.count),
                        func.sum(r.c.ok),
                        func.sum(r.c.latency_sum),
                        func.max(r.c.latency_max),
                    )
                    .where(r.c.resolution == "m", r.c.bucket < minute_cut)
                    .group_by(r.c.target, hour)
                )
                conn.execute(self._merge_rollups(source))
                conn.execute(delete(r).where(r.c.resolution == "m", r.c.bucket < minute_cut))
            dropped = conn.execute(
                delete(r).where(r.c.resolution.in_(("h", "d")), r.c.bucket < now - hours_ms)
            ).rowcount
            # The day counts go with the day roll-ups they repeat.
            u = monitor_uptime_days
            conn.execute(delete(u).where(u.c.day < now - hours_ms))
            # Notifications of incidents still open stay: reminders count from the opening
            # they follow and key each one by it, however long the incident lasts.
            o, t = monitor_outbox, monitor_targets
            still_open = select(t.c.incident).where(
                t.c.incident_open.is_(True), t.c.incident.is_not(None)
            )
            outbox = conn.execute(
                delete(o).where(
                    o.c.status.in_(("sent", "suppressed")),
                    o.c.created_at < now - minutes_ms,
                    or_(o.c.incident.is_(None), o.c.incident.not_in(still_open)),
                )
            ).rowcount
        return CompactReport(int(rolled), int(minutes), int(dropped or 0), int(outbox or 0))

    def _merge_rollups(self, source: Any) -> Insert:
        r = monitor_rollups
        cols = ["target", "resolution", "bucket", "count", "ok", "latency_sum", "latency_max"]
        dialect_insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(r).from_select(cols, source)
        excluded = stmt.excluded
        return stmt.on_conflict_do_update(
            index_elements=["target", "resolution", "bucket"],
            set_={
                "count": r.c.count + excluded["count"],
                "ok": r.c.ok + excluded.ok,
                "latency_sum": r.c.latency_sum + excluded.latency_sum,
                "latency_max": func.greatest(r.c.latency_max, excluded.latency_max)
                if self._dialect == "postgresql"
                else func.max(r.c.latency_max, excluded.latency_max),
            },
        )

    def counts(self) -> dict[str, int]:
        """Rows per history table, to show storage stays bounded."""
        with read_transaction(self.engine) as conn:
            return {
                "samples": conn.execute(
                    select(func.count()).select_from(monitor_samples)
                ).scalar_one(),
                "rollups": conn.execute(
                    select(func.count()).select_from(monitor_rollups)
                ).scalar_one(),
            }

    # -- outbox --------------------------------------------------------------------------------

    def enqueue(self, items: Sequence[Outgoing], now: int) -> int:
        """Add notifications; one already there (same key and channel) is left alone."""
        if not items:
            return 0
        o = monitor_outbox
        rows = [
            {
                "key": i.key,
                "channel": i.channel,
                "kind": i.kind,
                "payload": json.dumps(dict(i.payload), sort_keys=True, default=str),
                "incident": i.incident,
                "status": i.status,
                "attempts": 0,
                "not_before": i.not_before or now,
                "created_at": now,
            }
            for i in items
        ]
        dialect_insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = (
            dialect_insert(o)
            .on_conflict_do_nothing(index_elements=["key", "channel"])
            .returning(o.c.id)
        )
        with write_transaction(self.engine) as conn:
            # RETURNING counts what was inserted; executemany's rowcount is not reliable.
            return len(conn.execute(stmt, rows).all())

    def claim_outbox(
        self, owner: str, now: int, *, limit: int, lease_ms: int, channels: Sequence[str]
    ) -> list[OutboxRow]:
        """Lease due notifications on enabled channels. A notification waits for earlier ones
        of the same incident on its channel, so "resolved" never overtakes "opened"."""
        if not channels:
            return []
        o = monitor_outbox
        earlier = o.alias("earlier")
        ready = or_(
            and_(o.c.status == "pending", o.c.not_before <= now),
            and_(o.c.status == "sending", o.c.lease_until < now),
        )
        blocked = exists().where(
            earlier.c.channel == o.c.channel,
            earlier.c.incident == o.c.incident,
            earlier.c.id < o.c.id,
            earlier.c.status.in_(("pending", "sending")),
        )
        due = (
            select(o.c.id)
            .where(ready, o.c.channel.in_(list(channels)), ~blocked)
            .order_by(o.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(o)
            .where(o.c.id.in_(due.scalar_subquery()), ready)
            .values(
                status="sending",
                lease_owner=owner,
                lease_until=now + lease_ms,
                attempts=o.c.attempts + 1,
            )
            .returning(o)
        )
        with write_transaction(self.engine) as conn:
            return [_outbox(r) for r in conn.execute(stmt)]

    def mark_sent(self, row_id: int, owner: str, now: int) -> bool:
        o = monitor_outbox
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(o)
                .where(o.c.id == row_id, o.c.lease_owner == owner, o.c.status == "sending")
                .values(status="sent", sent_at=now, lease_owner=None, lease_until=None)
            )
            if result.rowcount == 1:
                self._count(conn, row_id, "sent")
        return result.rowcount == 1

    def mark_retry(self, row_id: int, owner: str, not_before: int, error: str) -> None:
        o = monitor_outbox
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(o)
                .where(o.c.id == row_id, o.c.lease_owner == owner, o.c.status == "sending")
                .values(
                    status="pending",
                    not_before=not_before,
                    last_error=error,
                    lease_owner=None,
                    lease_until=None,
                )
            )

    def mark_failed(self, row_id: int, owner: str, error: str) -> None:
        o = monitor_outbox
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(o)
                .where(o.c.id == row_id, o.c.lease_owner == owner, o.c.status == "sending")
                .values(status="failed", last_error=error, lease_owner=None, lease_until=None)
            )
            if result.rowcount == 1:
                self._count(conn, row_id, "failed")

    def hold(self, row_id: int, owner: str, error: str) -> None:
        """Put a claimed notification back untouched (its channel was just disabled)."""
        o = monitor_outbox
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(o)
                .where(o.c.id == row_id, o.c.lease_owner == owner)
                .values(
                    status="pending",
                    attempts=o.c.attempts - 1,
                    last_error=error,
                    lease_owner=None,
                    lease_until=None,
                )
            )

    def _count(self, conn: Connection, row_id: int, column: str) -> None:
        o, c = monitor_outbox, monitor_channels
        channel = select(o.c.channel).where(o.c.id == row_id).scalar_subquery()
        conn.execute(update(c).where(c.c.name == channel).values({column: c.c[column] + 1}))

    def suppress(self, incidents: Sequence[int], kinds: Sequence[str]) -> int:
        """Hold back pending notifications of these incidents (a root cause explains them)."""
        if not incidents:
            return 0
        o = monitor_outbox
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(o)
                .where(
                    o.c.incident.in_(list(incidents)),
                    o.c.kind.in_(list(kinds)),
                    o.c.status == "pending",
                )
                .values(status="suppressed")
            )
        return int(result.rowcount or 0)

    def was_notified(self, incident: int, kinds: Sequence[str]) -> bool:
        """Whether an opening of this incident went (or is going) out, i.e. was not held back."""
        o = monitor_outbox
        stmt = select(o.c.id).where(
            o.c.incident == incident, o.c.kind.in_(list(kinds)), o.c.status != "suppressed"
        )
        with read_transaction(self.engine) as conn:
            return conn.execute(stmt.limit(1)).first() is not None

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

    def outbox(self, *, status: str | None = None, limit: int = 1000) -> list[OutboxRow]:
        o = monitor_outbox
        stmt = select(o).order_by(o.c.id).limit(limit)
        if status is not None:
            stmt = stmt.where(o.c.status == status)
        with read_transaction(self.engine) as conn:
            return [_outbox(r) for r in conn.execute(stmt)]

    def outbox_depth(self) -> dict[tuple[str, str], int]:
        """Count of notifications by (channel, status)."""
        o = monitor_outbox
        stmt = select(o.c.channel, o.c.status, func.count()).group_by(o.c.channel, o.c.status)
        with read_transaction(self.engine) as conn:
            return {(r[0], r[1]): int(r[2]) for r in conn.execute(stmt)}

    # -- channels ------------------------------------------------------------------------------

    def ensure_channels(self, channels: Mapping[str, tuple[str, str]]) -> list[str]:
        """Register configured channels (name → (kind, configuration digest)).

        A channel whose configuration changed (the URL fixed, a header replaced) is enabled
        again; returns the names of the channels that were. A channel recorded before digests
        were kept takes its digest without being enabled.
        """
        c = monitor_channels
        enabled: list[str] = []
        with write_transaction(self.engine) as conn:
            known = {
                r.name: (r.kind, r.config_digest, r.disabled_reason)
                for r in conn.execute(
                    select(c.c.name, c.c.kind, c.c.config_digest, c.c.disabled_reason)
                )
            }
            for name, (kind, digest) in channels.items():
                if name not in known:
                    try:
                        with conn.begin_nested():
                            conn.execute(
                                insert(c).values(
                                    name=name, kind=kind, sent=0, failed=0, config_digest=digest
                                )
                            )
                    except IntegrityError:
                        pass
                    continue
                old_kind, old_digest, disabled = known[name]
                if (old_kind, old_digest) == (kind, digest):
                    continue
                values: dict[str, Any] = {"kind": kind, "config_digest": digest}
                if old_kind != kind or old_digest is not None:
                    values.update(disabled_reason=None, disabled_at=None)
                    if disabled is not None:
                        enabled.append(name)
                conn.execute(update(c).where(c.c.name == name).values(values))
        return enabled

    def last_errors(self) -> dict[str, str]:
        """Per channel, the error of its most recent notification that had one."""
        o = monitor_outbox
        latest = (
            select(func.max(o.c.id))
            .where(o.c.last_error.is_not(None))
            .group_by(o.c.channel)
            .scalar_subquery()
        )
        stmt = select(o.c.channel, o.c.last_error).where(o.c.id.in_(latest))
        with read_transaction(self.engine) as conn:
            return {r[0]: str(r[1]) for r in conn.execute(stmt)}

    def channels(self) -> list[ChannelRow]:
        c = monitor_channels
        with read_transaction(self.engine) as conn:
            return [ChannelRow(**r._mapping) for r in conn.execute(select(c).order_by(c.c.name))]

    def disable_channel(self, name: str, reason: str, now: int) -> None:
        c = monitor_channels
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(c).where(c.c.name == name).values(disabled_reason=reason, disabled_at=now)
            )

    def enable_channel(self, name: str) -> bool:
        c = monitor_channels
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(c).where(c.c.name == name).values(disabled_reason=None, disabled_at=None)
            )
        return result.rowcount == 1

    # -- jobs ----------------------------------------------------------------------------------

    def acquire_job(self, name: str, owner: str, now: int, lease_ms: int) -> int | None:
        """Take the job's lease; its cursor, or None when another worker holds it."""
        j = monitor_jobs
        with write_transaction(self.engine) as conn:
            if conn.execute(select(j.c.name).where(j.c.name == name)).first() is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(j).values(name=name, cursor=0))
                except IntegrityError:
                    pass
            result = conn.execute(
                update(j)
                .where(
                    j.c.name == name,
                    or_(j.c.lease_until.is_(None), j.c.lease_until < now, j.c.lease_owner == owner),
                )
                .values(lease_owner=owner, lease_until=now + lease_ms)
                .returning(j.c.cursor)
            ).first()
        return None if result is None else int(result[0])

    def set_job_cursor(self, name: str, owner: str, cursor: int) -> None:
        j = monitor_jobs
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(j).where(j.c.name == name, j.c.lease_owner == owner).values(cursor=cursor)
            )


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


def _outbox(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row.id,
        key=row.key,
        channel=row.channel,
        kind=row.kind,
        payload=json.loads(row.payload),
        incident=row.incident,
        status=row.status,
        attempts=row.attempts,
        not_before=row.not_before,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )
