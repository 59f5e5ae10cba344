"""Probe history: every probe's sample, rolled into minutes, hours and days as it ages, and the
per-day counts the status page's bars read. Storage stays bounded: `compact` rolls and drops.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Engine,
    Integer,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import Insert

from passmuster.core.uptime import DAY_MS
from passmuster.storage.engine import read_transaction, write_transaction
from passmuster.storage.monitor_tables import (
    monitor_rollups,
    monitor_samples,
    monitor_uptime_days,
)

MINUTE_MS = 60_000


HOUR_MS = 3_600_000


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
class CompactReport:
    samples_rolled: int
    minutes_rolled: int
    hours_dropped: int


class ProbeHistoryStore:
    """The probes' samples and their roll-ups."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_samples(self, samples: Sequence[Mapping[str, Any]]) -> None:
        """Store probe samples taken elsewhere (rows of `monitor_samples`: target, at, ok,
        degraded, latency …), counted in their days as recorded ones are."""
        if samples:
            with write_transaction(self.engine) as conn:
                insert_samples(conn, samples)

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
            rolled = conn.execute(select(func.count()).where(s.c.at < raw_cut)).scalar_one()
            if rolled:
                conn.execute(self._merge_rollups(_samples_by(raw_cut, "m", MINUTE_MS)))
                # The same samples summed by day too: the status page's bars read days only.
                conn.execute(self._merge_rollups(_samples_by(raw_cut, "d", DAY_MS)))
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
        return CompactReport(int(rolled), int(minutes), int(dropped or 0))

    def _merge_rollups(self, source: Any) -> Insert:
        r = monitor_rollups
        cols = ["target", "resolution", "bucket", "count", "ok", "latency_sum", "latency_max"]
        dialect_insert = (
            postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        )
        stmt = dialect_insert(r).from_select(cols, source)
        excluded = stmt.excluded
        return stmt.on_conflict_do_update(
            index_elements=["target", "resolution", "bucket"],
            set_={
                "count": r.c.count + excluded["count"],
                "ok": r.c.ok + excluded.ok,
                "latency_sum": r.c.latency_sum + excluded.latency_sum,
                "latency_max": func.greatest(r.c.latency_max, excluded.latency_max)
                if self.engine.dialect.name == "postgresql"
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


def insert_samples(conn: Connection, samples: Sequence[Mapping[str, Any]]) -> None:
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
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
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


def _samples_by(before_ms: int, resolution: str, width_ms: int) -> Select[Any]:
    """Raw samples older than `before_ms` summed per target and `width_ms` bucket, as roll-up
    rows of `resolution` (for an upsert into the roll-ups)."""
    s = monitor_samples
    bucket = (s.c.at - s.c.at % width_ms).label("bucket")
    return (
        select(
            s.c.target,
            literal(resolution),
            bucket,
            func.count(),
            func.sum(cast(s.c.ok, Integer)),
            func.sum(s.c.latency),
            func.max(s.c.latency),
        )
        .where(s.c.at < before_ms)
        .group_by(s.c.target, bucket)
    )
