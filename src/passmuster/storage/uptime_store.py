"""Probe history summed for uptime: per day (the status page's bars) and over a period (badges).

The tiers are disjoint in time: raw samples are newer than every minute roll-up, minutes newer
than every hour. A period's tally is the sum of the three tiers from its start. Day roll-ups
("d") repeat what raw samples became as they were compacted, so a day's tally is its day
roll-up plus the raw samples of that day not compacted yet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)

from passmuster.core.uptime import DAY_MS, Tally, day_of
from passmuster.storage.engine import read_transaction
from passmuster.storage.issue_tables import services
from passmuster.storage.monitor_tables import (
    monitor_rollups,
    monitor_samples,
    monitor_targets,
    monitor_uptime_days,
)


def rebuild_uptime_days(conn: Connection) -> None:
    """Count every target's samples by day again from the day roll-ups and the raw samples
    (what the migration adding the counts does, and a way back should they ever be lost)."""
    r, s, u = monitor_rollups, monitor_samples, monitor_uptime_days
    history = union_all(
        select(
            r.c.target.label("target"), r.c.bucket.label("day"), r.c["count"].label("n"), r.c.ok
        ).where(r.c.resolution == "d"),
        select(
            s.c.target,
            (s.c.at - s.c.at % DAY_MS).label("day"),
            literal(1).label("n"),
            cast(s.c.ok, Integer).label("ok"),
        ),
    ).subquery()
    conn.execute(delete(u))
    conn.execute(
        insert(u).from_select(
            ["target", "day", "count", "ok"],
            select(
                history.c.target, history.c.day, func.sum(history.c.n), func.sum(history.c.ok)
            ).group_by(history.c.target, history.c.day),
        )
    )


class UptimeStore:
    """Reads the monitor's history as tallies; never writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def days(
        self, since_ms: int, *, targets: list[str] | None = None
    ) -> dict[str, dict[int, Tally]]:
        """target -> day start (ms) -> tally, for days from `since_ms`, summed from the day
        roll-ups and the raw samples: the reference `bar_days` must agree with."""
        r, s = monitor_rollups, monitor_samples
        rolled = select(
            r.c.target.label("target"),
            r.c.bucket.label("day"),
            r.c["count"].label("count"),
            r.c.ok.label("ok"),
            r.c.latency_sum.label("latency"),
        ).where(r.c.resolution == "d", r.c.bucket >= since_ms)
        raw = select(
            s.c.target.label("target"),
            (s.c.at - s.c.at % DAY_MS).label("day"),
            literal(1).label("count"),
            cast(s.c.ok, Integer).label("ok"),
            s.c.latency.label("latency"),
        ).where(s.c.at >= since_ms)
        if targets is not None:
            rolled = rolled.where(r.c.target.in_(targets))
            raw = raw.where(s.c.target.in_(targets))
        both = union_all(rolled, raw).subquery()
        # Summed in the database: one row per target and day reaches Python, not one per
        # roll-up and sample.
        stmt = select(
            both.c.target,
            both.c.day,
            func.sum(both.c["count"]),
            func.sum(both.c.ok),
            func.sum(both.c.latency),
        ).group_by(both.c.target, both.c.day)
        out: dict[str, dict[int, Tally]] = defaultdict(dict)
        with read_transaction(self.engine) as conn:
            for target, day, count, ok, latency in conn.execute(stmt).all():
                out[target][int(day)] = Tally(int(count), int(ok or 0), float(latency or 0.0))
        return dict(out)

    def bar_days(self, since_ms: int, targets: list[str]) -> dict[str, dict[int, tuple[int, int]]]:
        """target -> day start (ms) -> (probes, passed) for days from `since_ms`: what `days`
        finds, read from the day counts the monitor keeps as it stores samples, one row per
        target and day instead of summing roll-ups and raw samples."""
        u = monitor_uptime_days
        stmt = select(u.c.target, u.c.day, u.c["count"], u.c.ok).where(
            u.c.target.in_(targets), u.c.day >= since_ms
        )
        out: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
        with read_transaction(self.engine) as conn:
            # 18,000 plain tuples from the driver for 200 services: the columns need no
            # conversion, and making a Row of each costs more than the query.
            for target, day, count, ok in conn.execute(stmt).cursor.fetchall():
                out[target][day] = (count, ok)
        return dict(out)

    def uptime_since(self, since_ms: int, targets: list[str]) -> tuple[int, int]:
        """(probes, passed) over `targets` from `since_ms` on: what `periods` counts, with the
        whole days read from the day counts (one row a day) and only the part of the first day
        after `since_ms` from the minute, hour and raw tiers. Minute and hour buckets never
        straddle a day, so the split loses nothing (while hours are kept at least as long as
        the period, 400 days by default)."""
        r, s, u = monitor_rollups, monitor_samples, monitor_uptime_days
        next_day = day_of(since_ms) + DAY_MS
        rolled = select(func.sum(r.c["count"]), func.sum(r.c.ok)).where(
            r.c.target.in_(targets),
            r.c.resolution.in_(("m", "h")),
            r.c.bucket >= since_ms,
            r.c.bucket < next_day,
        )
        raw = select(func.count(), func.sum(cast(s.c.ok, Integer))).where(
            s.c.target.in_(targets), s.c.at >= since_ms, s.c.at < next_day
        )
        days = select(func.sum(u.c["count"]), func.sum(u.c.ok)).where(
            u.c.target.in_(targets), u.c.day >= next_day
        )
        count = ok = 0
        with read_transaction(self.engine) as conn:
            for query in (rolled, raw, days):
                found, passed = conn.execute(query).one()
                count += int(found or 0)
                ok += int(passed or 0)
        return count, ok

    def periods(self, starts: dict[str, int], targets: list[str]) -> dict[str, Tally]:
        """Period name -> tally over `targets` from that period's start (ms): one query per
        tier for all periods, as a badge needs them on every request."""
        r, s = monitor_rollups, monitor_samples
        earliest = min(starts.values())

        def sums(count: Any, ok: Any, latency: Any, at: Any) -> list[Any]:
            columns: list[Any] = []
            for since in starts.values():
                inside = at >= since
                columns += [
                    func.sum(case((inside, count), else_=0)),
                    func.sum(case((inside, ok), else_=0)),
                    func.sum(case((inside, latency), else_=0.0)),
                ]
            return columns

        rolled = select(*sums(r.c["count"], r.c.ok, r.c.latency_sum, r.c.bucket)).where(
            r.c.resolution.in_(("m", "h")), r.c.bucket >= earliest, r.c.target.in_(targets)
        )
        raw = select(*sums(literal(1), cast(s.c.ok, Integer), s.c.latency, s.c.at)).where(
            s.c.at >= earliest, s.c.target.in_(targets)
        )
        out = {name: Tally() for name in starts}
        with read_transaction(self.engine) as conn:
            for query in (rolled, raw):
                row = conn.execute(query).one()
                for n, name in enumerate(starts):
                    count, ok, latency = row[3 * n : 3 * n + 3]
                    out[name] = out[name] + Tally(
                        int(count or 0), int(ok or 0), float(latency or 0.0)
                    )
        return out

    def period(self, since_ms: int, *, targets: list[str] | None = None) -> dict[str, Tally]:
        """target -> tally of every probe from `since_ms` on (raw, minute and hour tiers)."""
        r, s = monitor_rollups, monitor_samples
        rolled = (
            select(r.c.target, func.sum(r.c["count"]), func.sum(r.c.ok), func.sum(r.c.latency_sum))
            .where(r.c.resolution.in_(("m", "h")), r.c.bucket >= since_ms)
            .group_by(r.c.target)
        )
        raw = (
            select(s.c.target, func.count(), func.sum(cast(s.c.ok, Integer)), func.sum(s.c.latency))
            .where(s.c.at >= since_ms)
            .group_by(s.c.target)
        )
        if targets is not None:
            rolled = rolled.where(r.c.target.in_(targets))
            raw = raw.where(s.c.target.in_(targets))
        out: dict[str, Tally] = {}
        with read_transaction(self.engine) as conn:
            for query in (rolled, raw):
                for target, count, ok, latency in conn.execute(query):
                    tally = Tally(int(count or 0), int(ok or 0), float(latency or 0.0))
                    out[target] = out[target] + tally if target in out else tally
        return out


@dataclass(frozen=True, slots=True)
class TargetHealth:
    """A target's name, service and health: what the status page needs of a target, read
    without parsing its probe specification."""

    name: str
    service: str | None
    health: str


def target_health(engine: Engine) -> list[TargetHealth]:
    t = monitor_targets
    stmt = select(t.c.name, t.c.service, t.c.health).where(t.c.active.is_(True)).order_by(t.c.name)
    with read_transaction(engine) as conn:
        return [TargetHealth(str(r[0]), r[1], str(r[2])) for r in conn.execute(stmt)]


def service_target_health(engine: Engine, service: str) -> list[TargetHealth]:
    """The active targets of one service (those naming it, or named for it without naming a
    service): what `target_health` finds for it, without reading every target."""
    t = monitor_targets
    stmt = (
        select(t.c.name, t.c.service, t.c.health)
        .where(
            t.c.active.is_(True),
            or_(t.c.service == service, and_(t.c.service.is_(None), t.c.name == service)),
        )
        .order_by(t.c.name)
    )
    with read_transaction(engine) as conn:
        return [TargetHealth(str(r[0]), r[1], str(r[2])) for r in conn.execute(stmt)]


def in_catalog(engine: Engine, name: str) -> bool:
    with read_transaction(engine) as conn:
        found = conn.execute(select(services.c.id).where(services.c.name == name)).first()
    return found is not None


def catalog_names(engine: Engine) -> list[str]:
    """The desk's service names, in catalog order."""
    with read_transaction(engine) as conn:
        return [
            str(n) for n in conn.execute(select(services.c.name).order_by(services.c.id)).scalars()
        ]
