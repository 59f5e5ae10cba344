"""Whole-desk reports (statistics and the SLA report) computed in SQL over `issue_timelines`.

Each query adds up the timeline sums (core.timeline_sums) with the `[sla]` policy and the report's
moment as parameters: the database returns counts and the few values the statistics need one by
one (resolution and acknowledgement times, whose means and medians are taken in Python exactly as
core.stats takes them). Issues whose sums cannot answer alone (`regular` false, or a last status
change after the report's moment) come back as rows, and core.sla evaluates their timelines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    and_,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql import Select

from passmuster.core.issues import Status
from passmuster.core.timeline_sums import ClockTerms, micros
from passmuster.storage.issue_tables import issue_services, issue_timelines, issues, services

t = issue_timelines
_FINISHED = tuple(s.value for s in Status if not s.is_active)


@dataclass(slots=True)
class _Clock:
    """SQL expressions for one clock of one policy at one moment."""

    limit: ColumnElement[Any]
    risk: ColumnElement[Any]
    decided: ColumnElement[bool]
    no_clock: ColumnElement[bool]
    elapsed_stopped: ColumnElement[Any]
    elapsed_now: ColumnElement[Any]
    running_now: ColumnElement[bool]
    in_running: ColumnElement[Any]


def _total(columns: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    if not columns:
        return literal(0, BigInteger)
    total = columns[0]
    for column in columns[1:]:
        total = total + column
    return total


def _by_severity(values: dict[str, int]) -> ColumnElement[Any]:
    if not values:
        return literal(None, BigInteger)
    return case(
        *((t.c.severity == name, literal(value, BigInteger)) for name, value in values.items()),
        else_=literal(None, BigInteger),
    )


def _clock(terms: ClockTerms, now: int) -> _Clock:
    moment = literal(now, BigInteger)
    running_last = t.c.last_status.in_(terms.running) if terms.running else literal(False)
    in_running = _total([t.c[f"in_{s}"] for s in terms.running])
    to_ack = _total([t.c[f"to_ack_{s}"] for s in terms.running])
    finished = t.c.last_status.in_(_FINISHED)
    stopped: ColumnElement[Any]
    elapsed_stopped: ColumnElement[Any]
    if terms.clock == "respond":
        # Stopped by the acknowledgement, else by finishing (core.sla.clock_status).
        stopped = func.coalesce(t.c.acknowledged, t.c.finished)
        elapsed_stopped = case((t.c.acknowledged.is_not(None), to_ack), else_=in_running)
    else:
        stopped = t.c.finished
        elapsed_stopped = in_running
    return _Clock(
        limit=_by_severity(terms.limits),
        risk=_by_severity(terms.at_risk),
        decided=and_(stopped.is_not(None), stopped <= moment),
        no_clock=and_(finished, stopped.is_(None)),
        elapsed_stopped=elapsed_stopped,
        elapsed_now=in_running
        + case((running_last, moment - t.c.last_start), else_=literal(0, BigInteger)),
        running_now=running_last,
        in_running=in_running,
    )


def _answerable(now: int) -> ColumnElement[bool]:
    """Rows whose sums alone give the timeline's answer at `now` (see core.timeline_sums)."""
    return and_(t.c.regular == 1, t.c.last_start <= literal(now, BigInteger))


def _opened_between(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if since is not None:
        where.append(t.c.opened >= micros(since))
    if until is not None:
        where.append(t.c.opened < micros(until))
    return where


# --- statistics ------------------------------------------------------------------------------


@dataclass(slots=True)
class StatsRows:
    """What the statistics are assembled from (core.stats.stats_from_rows)."""

    # (month, severity, status, type, has resolution time, count)
    counts: list[tuple[str, str, str, str, bool, int]] = field(default_factory=list)
    # (month, microseconds from opening to resolution) of resolved and closed issues
    resolutions: list[tuple[str, int]] = field(default_factory=list)
    # microseconds from a clock's start to the acknowledgement
    acknowledgements: list[int] = field(default_factory=list)
    # (clock, state, count): state is met, missed or pending
    attainment: list[tuple[str, str, int]] = field(default_factory=list)
    # rows of issue_timelines whose clocks core.sla evaluates (see _answerable)
    unanswered: list[Any] = field(default_factory=list)
    # (number, title, status, severity, priority) of active issues, most severe first
    active: list[tuple[int, str, str, str, str | None]] = field(default_factory=list)
    # (service, active issues)
    services: list[tuple[str, int]] = field(default_factory=list)


def _attainment_state(clock: _Clock) -> ColumnElement[Any]:
    return case(
        (clock.limit.is_(None), literal(None)),
        (
            clock.decided,
            case((clock.elapsed_stopped <= clock.limit, literal("met")), else_=literal("missed")),
        ),
        (clock.no_clock, literal(None)),
        (clock.elapsed_now > clock.limit, literal("missed")),
        else_=literal("pending"),
    )


def stats_rows(
    connection: Connection,
    clocks: Sequence[ClockTerms],
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> StatsRows:
    moment = micros(now)
    where = _opened_between(since, until)
    out = StatsRows()
    has_resolution = t.c.resolved.is_not(None)
    out.counts = [
        (r[0], r[1], r[2], r[3], bool(r[4]), int(r[5]))
        for r in connection.execute(
            select(
                t.c.opened_month, t.c.severity, t.c.status, t.c.type, has_resolution, func.count()
            )
            .where(*where)
            .group_by(t.c.opened_month, t.c.severity, t.c.status, t.c.type, has_resolution)
        )
    ]
    out.resolutions = [
        (r[0], int(r[1]))
        for r in connection.execute(
            select(t.c.opened_month, t.c.resolved - t.c.opened).where(
                *where, t.c.status.in_(_FINISHED), has_resolution
            )
        )
    ]
    out.acknowledgements = [
        int(v)
        for (v,) in connection.execute(
            select(t.c.acknowledged - t.c.clock_start).where(*where, t.c.acknowledged.is_not(None))
        )
    ]
    answerable = _answerable(moment)
    for terms in clocks:
        state = _attainment_state(_clock(terms, moment)).label("state")
        found = connection.execute(
            select(state, func.count()).where(*where, answerable).group_by(state)
        )
        out.attainment += [(terms.clock, s, int(n)) for s, n in found if s is not None]
    out.unanswered = list(connection.execute(select(t).where(*where, not_(answerable))))
    window = []
    if since is not None:
        window.append(issues.c.opened_at >= since)
    if until is not None:
        window.append(issues.c.opened_at < until)
    out.active = [
        (r[0], r[1], r[2], r[3], r[4])
        for r in connection.execute(
            select(issues.c.number, issues.c.title, issues.c.status, issues.c.severity)
            .add_columns(issues.c.priority)
            .where(issues.c.is_active == 1, *window)
            .order_by(issues.c.severity_rank, issues.c.number)
        )
    ]
    out.services = [
        (r[0], int(r[1]))
        for r in connection.execute(
            select(services.c.name, func.count())
            .select_from(issue_services)
            .join(services, services.c.id == issue_services.c.service_id)
            .join(t, t.c.issue_number == issue_services.c.issue_number)
            .where(t.c.is_active == 1, *where)
            .group_by(services.c.name)
        )
    ]
    return out


def resolution_micros(connection: Connection) -> list[int]:
    """Microseconds from opening to resolution of every resolved or closed issue with both."""
    stmt = select(t.c.resolved - t.c.opened).where(
        t.c.status.in_(_FINISHED), t.c.resolved.is_not(None)
    )
    return [int(v) for (v,) in connection.execute(stmt)]


# --- the SLA report ----------------------------------------------------------------------------


def _listed(terms: ClockTerms, moment: int) -> Select[Any]:
    clock = _clock(terms, moment)
    listed = or_(
        clock.elapsed_now > clock.limit,
        and_(clock.running_now, clock.limit - clock.elapsed_now <= clock.risk),
    )
    return (
        select(
            literal(terms.clock).label("clock"),
            t.c.issue_number.label("number"),
            issues.c.title,
            t.c.severity,
            t.c.status,
            issues.c.assignee,
            t.c.clock_start,
            t.c.last_start,
            clock.limit.label("limit_us"),
            clock.elapsed_now.label("elapsed_us"),
            clock.in_running.label("in_running_us"),
            case((clock.limit <= clock.in_running, t.c.segments)).label("segments"),
            t.c.finished,
            t.c.acknowledged,
            (clock.limit - clock.elapsed_now).label("remaining_us"),
            issues.c.severity_rank,
            literal(0 if terms.clock == "respond" else 1).label("clock_order"),
        )
        .join(issues, issues.c.number == t.c.issue_number)
        .where(
            t.c.is_active == 1,
            _answerable(moment),
            clock.limit.is_not(None),
            not_(clock.decided),
            not_(clock.no_clock),
            listed,
        )
    )


def sla_rows(connection: Connection, clocks: Sequence[ClockTerms], *, now: datetime) -> list[Any]:
    """Clocks of active issues at risk or breached at `now`, by the sums: rows that start with
    the clock's name and go on as core.timeline_sums.ListedRow, most overdue first (as
    core.sla.sla_report orders them)."""
    moment = micros(now)
    parts = union_all(*(_listed(terms, moment) for terms in clocks)).subquery()
    stmt = select(*list(parts.c)[:14]).order_by(
        parts.c.remaining_us, parts.c.severity_rank, parts.c.number, parts.c.clock_order
    )
    return list(connection.execute(stmt))


def sla_unanswered(connection: Connection, *, now: datetime) -> list[Any]:
    """Active issues whose clocks the sums cannot answer at `now`, with their title and
    assignee: core.sla evaluates them from the timeline the row carries."""
    stmt = (
        select(t, issues.c.title, issues.c.assignee)
        .join(issues, issues.c.number == t.c.issue_number)
        .where(t.c.is_active == 1, not_(_answerable(micros(now))))
    )
    return list(connection.execute(stmt))
