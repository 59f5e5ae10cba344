"""Whole-desk reports (statistics and the SLA report) computed in SQL over `issue_timelines`.

Each query adds up the timeline sums (core.timeline_sums) with the `[sla]` policy and the report's
moment as parameters: the database returns counts and the few values the statistics need one by
one (resolution and acknowledgement times, whose means and medians are taken in Python exactly as
core.stats takes them). Issues whose sums cannot answer alone (`regular` false, or a last status
change after the report's moment) come back as rows, and core.sla evaluates their timelines.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    not_,
    null,
    select,
    text,
)
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import TextClause

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
        return null()
    return case(
        *((t.c.severity == name, literal_column(str(int(v)))) for name, v in values.items()),
        else_=null(),
    )


# The report's moment (UTC microseconds): the one parameter of the queries built below, which
# are built once per policy and reused (building and compiling them costs more than running them
# on a small desk).
_NOW = bindparam("b_now", type_=BigInteger)


def _clock(terms: ClockTerms) -> _Clock:
    moment = _NOW
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
        limit=_by_severity({name: limit for name, limit, _ in terms.limits}),
        risk=_by_severity({name: risk for name, _, risk in terms.limits}),
        decided=and_(stopped.is_not(None), stopped <= moment),
        no_clock=and_(finished, stopped.is_(None)),
        elapsed_stopped=elapsed_stopped,
        elapsed_now=in_running
        + case((running_last, moment - t.c.last_start), else_=literal(0, BigInteger)),
        running_now=running_last,
        in_running=in_running,
    )


def _answerable() -> ColumnElement[bool]:
    """Rows whose sums alone give the timeline's answer at the moment (core.timeline_sums)."""
    return and_(t.c.regular == 1, t.c.last_start <= _NOW)


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


@dataclass(frozen=True, slots=True)
class _StatsQueries:
    counts: Select[Any]
    resolutions: Select[Any]
    acknowledgements: Select[Any]
    unanswered: Select[Any]
    active: Select[Any]
    services: Select[Any]


_SINCE = bindparam("b_since", type_=BigInteger)
_UNTIL = bindparam("b_until", type_=BigInteger)


@functools.lru_cache(maxsize=32)
def _stats_queries(clocks: tuple[ClockTerms, ...], since: bool, until: bool) -> _StatsQueries:
    where: list[ColumnElement[bool]] = []
    if since:
        where.append(t.c.opened >= _SINCE)
    if until:
        where.append(t.c.opened < _UNTIL)
    has_resolution = t.c.resolved.is_not(None)
    answerable = _answerable()
    # One scan counts issues by month, severity, status and type and, where the sums answer
    # alone, by the state of each clock (NULL elsewhere: those rows come back one by one).
    states = [
        case((answerable, _attainment_state(_clock(terms))), else_=literal("unanswered"))
        for terms in clocks
    ]
    keys = [t.c.opened_month, t.c.severity, t.c.status, t.c.type, has_resolution, *states]
    return _StatsQueries(
        counts=select(*keys, func.count()).where(*where).group_by(*keys),
        resolutions=select(t.c.opened_month, t.c.resolved - t.c.opened).where(
            *where, t.c.status.in_(_FINISHED), has_resolution
        ),
        acknowledgements=select(t.c.acknowledged - t.c.clock_start).where(
            *where, t.c.acknowledged.is_not(None)
        ),
        unanswered=select(t).where(*where, not_(answerable)),
        active=select(issues.c.number, issues.c.title, issues.c.status, issues.c.severity)
        .add_columns(issues.c.priority)
        .join(t, t.c.issue_number == issues.c.number)
        .where(issues.c.is_active == 1, *where)
        .order_by(issues.c.severity_rank, issues.c.number),
        services=select(services.c.name, func.count())
        .select_from(issue_services)
        .join(services, services.c.id == issue_services.c.service_id)
        .join(t, t.c.issue_number == issue_services.c.issue_number)
        .where(t.c.is_active == 1, *where)
        .group_by(services.c.name),
    )


def stats_rows(
    connection: Connection,
    clocks: Sequence[ClockTerms],
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> StatsRows:
    queries = _stats_queries(tuple(clocks), since is not None, until is not None)
    params = {
        "b_now": micros(now),
        "b_since": micros(since) if since is not None else None,
        "b_until": micros(until) if until is not None else None,
    }

    def run(stmt: Select[Any]) -> Any:
        return connection.execute(stmt, params)

    out = StatsRows()
    attained: dict[tuple[str, str], int] = {}
    for r in run(queries.counts):
        out.counts.append((r[0], r[1], r[2], r[3], bool(r[4]), int(r[-1])))
        for terms, state in zip(clocks, r[5:-1], strict=True):
            if state is not None and state != "unanswered":
                key = (terms.clock, str(state))
                attained[key] = attained.get(key, 0) + int(r[-1])
    out.attainment = [(clock, state, n) for (clock, state), n in attained.items()]
    out.resolutions = [(r[0], int(r[1])) for r in run(queries.resolutions)]
    out.acknowledgements = [int(v) for (v,) in run(queries.acknowledgements)]
    out.unanswered = list(run(queries.unanswered))
    out.active = [(r[0], r[1], r[2], r[3], r[4]) for r in run(queries.active)]
    out.services = [(r[0], int(r[1])) for r in run(queries.services)]
    return out


def resolution_micros(connection: Connection) -> list[int]:
    """Microseconds from opening to resolution of every resolved or closed issue with both."""
    stmt = select(t.c.resolved - t.c.opened).where(
        t.c.status.in_(_FINISHED), t.c.resolved.is_not(None)
    )
    return [int(v) for (v,) in connection.execute(stmt)]


# --- the SLA report ----------------------------------------------------------------------------


def _listed_sql(terms: ClockTerms, order: int) -> str:
    """One clock's part of the SLA query, as SQL text: the report's query is built once per
    policy, and as text it costs next to nothing to build and compile, which a small desk's
    report (and the web pages' first one) would otherwise wait for. Every name and number in
    it comes from the Status and Severity vocabularies and the policy's integers."""

    def severity_case(index: int) -> str:
        arms = " ".join(f"WHEN '{limit[0]}' THEN {int(limit[index])}" for limit in terms.limits)
        return f"CASE t.severity {arms} END"

    running = ", ".join(f"'{name}'" for name in terms.running)
    running_last = f"t.last_status IN ({running})" if running else "1 = 0"
    in_running = " + ".join(f"t.in_{name}" for name in terms.running) or "0"
    finished = ", ".join(f"'{name}'" for name in _FINISHED)
    stopped = "COALESCE(t.acknowledged, t.finished)" if terms.clock == "respond" else "t.finished"
    return f"""
    SELECT '{terms.clock}' AS clock, c.number, c.title, c.severity, c.status, c.assignee,
           c.clock_start, c.last_start, c.limit_us, c.elapsed_us, c.in_running_us,
           CASE WHEN c.limit_us <= c.in_running_us THEN c.segments END AS segments,
           c.finished, c.acknowledged, c.severity_rank, {order} AS clock_order
    FROM (
        SELECT t.issue_number AS number, i.title, t.severity, t.status, i.assignee,
               t.clock_start, t.last_start, i.severity_rank, t.segments, t.finished,
               t.acknowledged, t.last_status, {stopped} AS stopped,
               {severity_case(1)} AS limit_us, {severity_case(2)} AS risk_us,
               ({in_running}) AS in_running_us,
               ({in_running}) + CASE WHEN {running_last} THEN :b_now - t.last_start ELSE 0 END
                   AS elapsed_us,
               CASE WHEN {running_last} THEN 1 ELSE 0 END AS running_now
        FROM issue_timelines t JOIN issues i ON i.number = t.issue_number
        WHERE t.is_active = 1 AND t.regular = 1 AND t.last_start <= :b_now
    ) c
    WHERE c.limit_us IS NOT NULL
      AND NOT (c.stopped IS NOT NULL AND c.stopped <= :b_now)
      AND NOT (c.last_status IN ({finished}) AND c.stopped IS NULL)
      AND (c.elapsed_us > c.limit_us
           OR (c.running_now = 1 AND c.limit_us - c.elapsed_us <= c.risk_us))"""


@functools.lru_cache(maxsize=32)
def _sla_query(clocks: tuple[ClockTerms, ...]) -> TextClause | None:
    parts = [_listed_sql(terms, order) for order, terms in enumerate(clocks) if terms.limits]
    if not parts:
        return None
    union = "\n    UNION ALL".join(parts)
    return text(
        "SELECT clock, number, title, severity, status, assignee, clock_start, last_start,"
        " limit_us, elapsed_us, in_running_us, segments, finished, acknowledged"
        f" FROM ({union}\n) x"
        " ORDER BY limit_us - elapsed_us, severity_rank, number, clock_order"
    ).bindparams(bindparam("b_now", type_=BigInteger))


_UNANSWERED = (
    select(t, issues.c.title, issues.c.assignee)
    .join(issues, issues.c.number == t.c.issue_number)
    .where(t.c.is_active == 1, not_(_answerable()))
)


def sla_rows(connection: Connection, clocks: Sequence[ClockTerms], *, now: datetime) -> list[Any]:
    """Clocks of active issues at risk or breached at `now`, by the sums: rows that start with
    the clock's name and go on as core.timeline_sums.ListedRow, most overdue first (as
    core.sla.sla_report orders them)."""
    query = _sla_query(tuple(clocks))
    if query is None:
        return []
    return list(connection.execute(query, {"b_now": micros(now)}))


def sla_unanswered(connection: Connection, *, now: datetime) -> list[Any]:
    """Active issues whose clocks the sums cannot answer at `now`, with their title and
    assignee: core.sla evaluates them from the timeline the row carries."""
    return list(connection.execute(_UNANSWERED, {"b_now": micros(now)}))
