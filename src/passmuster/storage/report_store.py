"""Whole-desk reports (statistics and the SLA report) computed in SQL over `issue_timelines`.

Each query adds up the timeline sums (core.timeline_sums) with the `[sla]` policy and the report's
moment as parameters: the database returns counts and the few values the statistics need one by
one (resolution and acknowledgement times, whose means and medians are taken in Python exactly as
core.stats takes them). Issues whose sums cannot answer alone (`regular` false, or a last status
change after the report's moment) come back as rows, and core.sla evaluates their timelines.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
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
    or_,
    select,
    text,
)
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import TextClause

from passmuster.core.issues import Severity, Status
from passmuster.core.timeline_sums import ClockTerms, micros
from passmuster.storage.issue_tables import active_issue_services, issue_timelines, services

t = issue_timelines
_FINISHED = tuple(s.value for s in Status if not s.is_active)


@dataclass(slots=True)
class _Clock:
    """SQL expressions for one clock of one policy at one moment."""

    limit: ColumnElement[Any]
    severity_limited: ColumnElement[bool]
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
        severity_limited=t.c.severity.in_([name for name, _, _ in terms.limits]),
        risk=_by_severity({name: risk for name, _, risk in terms.limits}),
        decided=and_(stopped.is_not(None), stopped <= moment),
        no_clock=and_(finished, stopped.is_(None)),
        elapsed_stopped=elapsed_stopped,
        elapsed_now=in_running
        + case((running_last, moment - t.c.last_start), else_=literal(0, BigInteger)),
        running_now=running_last,
        in_running=in_running,
    )


def _scanned(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """`column` behind a unary plus: SQLite, which plans without statistics, then uses no index
    for a condition on it. For the conditions nearly every row meets, which it would otherwise
    read through an index one row at a time."""
    return literal_column(f"+{t.name}.{column.name}", type_=column.type)


def _answerable() -> ColumnElement[bool]:
    """Rows whose sums alone give the timeline's answer at the moment (core.timeline_sums):
    nearly all of them, read by scanning."""
    return and_(_scanned(t.c.regular) == 1, _scanned(t.c.last_start) <= _NOW)


def _unanswerable() -> ColumnElement[bool]:
    """The few rows `_answerable` leaves out, found through ix_issue_timelines_regular and
    ix_issue_timelines_last_start."""
    return or_(t.c.regular == 0, t.c.last_start > _NOW)


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
    # (number, title, status, severity, priority) of active issues, most severe first, then by
    # number
    active: list[tuple[int, str, str, str, str | None]] = field(default_factory=list)
    # (service, active issues)
    services: list[tuple[str, int]] = field(default_factory=list)


def _attainment(clock: _Clock, where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """One clock's attainment over the rows the sums answer alone, as four counts: clocks,
    decided, decided within the limit (met), undecided past the limit. The rest follows:
    missed = decided - met + undecided past; pending = clocks - decided - undecided past.
    Plain counts, not a GROUP BY on the state: SQLite groups by sorting every row. One query
    per clock, each filtered to the rows with that clock: one query for both evaluated every
    count's conditions on every row, twice the time on both databases."""
    undecided_past = and_(not_(clock.decided), clock.elapsed_now > clock.limit)
    return select(
        func.count(),
        func.count(case((clock.decided, 1))),
        func.count(case((and_(clock.decided, clock.elapsed_stopped <= clock.limit), 1))),
        func.count(case((undecided_past, 1))),
    ).where(*where, _answerable(), clock.severity_limited, not_(clock.no_clock))


@dataclass(frozen=True, slots=True)
class _StatsQueries:
    counts: Select[Any]
    attainment: tuple[Select[Any] | None, ...]
    resolutions: Select[Any]
    acknowledgements: Select[Any]
    unanswered: Select[Any]
    active_by_number: Select[Any]
    active_by_severity: Select[Any]
    services: Select[Any]


_SINCE = bindparam("b_since", type_=BigInteger)
_UNTIL = bindparam("b_until", type_=BigInteger)


def _window(opened: ColumnElement[Any], *, since: bool, until: bool) -> list[ColumnElement[bool]]:
    """Issues reported in the report's window (its bounds are the queries' parameters)."""
    where: list[ColumnElement[bool]] = []
    if since:
        where.append(opened >= _SINCE)
    if until:
        where.append(opened < _UNTIL)
    return where


@functools.lru_cache(maxsize=32)
def _stats_queries(clocks: tuple[ClockTerms, ...], since: bool, until: bool) -> _StatsQueries:
    where = _window(t.c.opened, since=since, until=until)
    # Counted in the order of ix_issue_timelines_counts, which SQLite reads instead of sorting.
    keys = [t.c.opened_month, t.c.severity, t.c.status, t.c.type]
    matrix = (t.c.issue_number, t.c.title, t.c.status, t.c.severity, t.c.priority)
    a = active_issue_services
    per_service = (
        select(a.c.service_id, func.count().label("n"))
        .where(*_window(a.c.opened, since=since, until=until))
        .group_by(a.c.service_id)
        .subquery()
    )
    return _StatsQueries(
        counts=select(*keys, func.count(), func.count(t.c.resolved)).where(*where).group_by(*keys),
        attainment=tuple(
            _attainment(_clock(terms), where) if terms.limits else None for terms in clocks
        ),
        resolutions=select(t.c.opened_month, t.c.resolved - t.c.opened).where(
            *where, t.c.status.in_(_FINISHED), t.c.resolved.is_not(None)
        ),
        acknowledgements=select(t.c.acknowledged - t.c.clock_start).where(
            *where, t.c.acknowledged.is_not(None)
        ),
        unanswered=select(t).where(*where, _unanswerable()),
        # The priority matrix lists every active issue, read from the sums row alone, most
        # severe first, then by number. SQLite reads them fastest in the table's own order (the
        # issue number is its rowid): a scan, where the order of ix_issue_timelines_active costs
        # a lookup of each row (100 -> 65 ms at 60,000), and `_most_severe_first` orders them.
        # PostgreSQL reads them fastest in that index's order (see _in_index_order).
        active_by_number=select(*matrix)
        .where(_scanned(t.c.is_active) == 1, *where)
        .order_by(t.c.issue_number),
        active_by_severity=select(*matrix)
        .where(t.c.is_active == 1, *where)
        .order_by(t.c.severity_rank, t.c.issue_number),
        services=select(services.c.name, per_service.c.n).join(
            per_service, per_service.c.service_id == services.c.id
        ),
    )


def _tuples(
    connection: Connection, stmt: Select[Any] | TextClause, params: dict[str, Any]
) -> list[Any]:
    """The driver's own rows of `stmt`: for the lists as long as the desk's active issues,
    where wrapping each row costs more than the query."""
    if connection.dialect.name == "postgresql":
        # Such a list, sorted, outgrows PostgreSQL's default 4 MB of sort memory at about
        # 60,000 issues and would be merged on disk; this transaction may use more.
        connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
    result = connection.execute(stmt, params)
    cursor = result.cursor
    rows = list(cursor.fetchall()) if cursor is not None else []
    result.close()
    return rows


def _in_index_order(connection: Connection, stmt: Select[Any], params: dict[str, Any]) -> list[Any]:
    """The driver's rows of `stmt` on PostgreSQL, read in the order of the index that gives its
    ORDER BY instead of sorted. The planner's default costs (a random page read four times a
    sequential one) make it scan the table and sort every row (60,000 with their titles: 62 ms
    of the statistics' server time at 100k); the sums are read from memory, where following the
    index costs 20-25 ms. A covering index would spare even that, but titles have no length
    limit and an index entry has one."""
    connection.exec_driver_sql("SET LOCAL enable_sort = off")
    result = connection.execute(stmt, params)
    cursor = result.cursor
    rows = list(cursor.fetchall()) if cursor is not None else []
    result.close()
    # Back to the server's setting for the rest of the transaction. (A failed query leaves
    # nothing to restore: the transaction, and this setting with it, is rolled back.)
    connection.exec_driver_sql("SET LOCAL enable_sort TO DEFAULT")
    return rows


_SEVERITY_OF = itemgetter(3)
_BY_RANK = [s.value for s in Severity]


def _most_severe_first(rows: list[Any]) -> list[Any]:
    """Matrix rows in number order, most severe first and by number within each severity. A
    stable sort by the severity's name groups them without a Python call per row (the names'
    order is not their rank's), and the groups are then taken in rank order."""
    by_name = sorted(rows, key=_SEVERITY_OF)
    out: list[Any] = []
    for name in _BY_RANK:
        start = bisect_left(by_name, name, key=_SEVERITY_OF)
        out += by_name[start : bisect_right(by_name, name, lo=start, key=_SEVERITY_OF)]
    if len(out) != len(rows):  # a severity outside the vocabulary (not one passmuster writes)
        known = set(_BY_RANK)
        out += [r for r in by_name if r[3] not in known]
    return out


def stats_rows(
    connection: Connection,
    clocks: Sequence[ClockTerms],
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    priority_matrix: bool = True,
) -> StatsRows:
    """What the statistics are worked out from; without `priority_matrix`, the active issues
    are not listed (as many as the desk has active issues, with their titles)."""
    queries = _stats_queries(tuple(clocks), since is not None, until is not None)
    params = {
        "b_now": micros(now),
        "b_since": micros(since) if since is not None else None,
        "b_until": micros(until) if until is not None else None,
    }

    def run(stmt: Select[Any]) -> Any:
        return connection.execute(stmt, params)

    out = StatsRows()
    for month, severity, status, type_, count, timed in run(queries.counts):
        if timed:
            out.counts.append((month, severity, status, type_, True, int(timed)))
        if count > timed:
            out.counts.append((month, severity, status, type_, False, int(count - timed)))
    for terms, query in zip(clocks, queries.attainment, strict=True):
        if query is None:
            continue
        total, decided, met, past = (int(v or 0) for v in run(query).one())
        states = {"met": met, "missed": decided - met + past, "pending": total - decided - past}
        out.attainment += [(terms.clock, state, n) for state, n in states.items() if n]
    # One row per finished or acknowledged issue: tens of thousands on a desk with history.
    out.resolutions = [
        (month, int(spent)) for month, spent in _tuples(connection, queries.resolutions, params)
    ]
    out.acknowledgements = [
        int(spent) for (spent,) in _tuples(connection, queries.acknowledgements, params)
    ]
    out.unanswered = list(run(queries.unanswered))
    if not priority_matrix:
        out.active = []
    elif connection.dialect.name == "postgresql":
        out.active = _in_index_order(connection, queries.active_by_severity, params)
    else:
        out.active = _most_severe_first(_tuples(connection, queries.active_by_number, params))
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
    it comes from the Status and Severity vocabularies and the policy's integers. The unary
    pluses are `_scanned`'s: they keep SQLite, which plans without statistics, from reading
    most of the table through an index one row at a time instead of scanning it.

    Each expression appears once per row it is needed for: the filter is one comparison per
    row (a running clock is listed once its running time reaches the limit less the at-risk
    share, a paused one once it is past the limit), and the database returns only what the
    report shows, read from the sums row alone (no join)."""

    def severity_case(values: dict[str, int]) -> str:
        arms = " ".join(f"WHEN '{name}' THEN {int(v)}" for name, v in values.items())
        return f"CASE t.severity {arms} END"

    limit = severity_case({name: limit for name, limit, _ in terms.limits})
    # Listed when at risk (remaining <= risk) or breached (elapsed > limit): for whole
    # microseconds, elapsed >= the smaller of limit - risk and limit + 1.
    threshold = severity_case(
        {name: min(limit - risk, limit + 1) for name, limit, risk in terms.limits}
    )
    severities = ", ".join(f"'{name}'" for name, _, _ in terms.limits)
    running = ", ".join(f"'{name}'" for name in terms.running)
    running_last = f"t.last_status IN ({running})" if running else "1 = 0"
    in_running = "(" + (" + ".join(f"t.in_{name}" for name in terms.running) or "0") + ")"
    elapsed = f"{in_running} + CASE WHEN {running_last} THEN :b_now - t.last_start ELSE 0 END"
    finished = ", ".join(f"'{name}'" for name in _FINISHED)
    stopped = "COALESCE(t.acknowledged, t.finished)" if terms.clock == "respond" else "t.finished"
    # Only a clock whose limit was reached before its last segment began needs its timeline.
    earlier = f"{limit} <= {in_running}"
    return f"""
    SELECT {order} AS clock_order, t.issue_number, t.title, t.severity_rank, t.status,
           t.assignee, t.clock_start, {limit} - ({elapsed}) AS remaining_us,
           CASE WHEN {earlier} THEN t.segments END AS segments, t.finished, t.acknowledged
    FROM issue_timelines t
    WHERE +t.is_active = 1 AND +t.regular = 1 AND +t.last_start <= :b_now
      AND t.severity IN ({severities})
      AND ({stopped} IS NULL OR {stopped} > :b_now)
      AND NOT (t.last_status IN ({finished}) AND {stopped} IS NULL)
      AND CASE WHEN {running_last} THEN :b_now - t.last_start + {in_running} >= {threshold}
               ELSE {in_running} > {limit} END"""


@functools.lru_cache(maxsize=32)
def _sla_query(clocks: tuple[ClockTerms, ...]) -> TextClause | None:
    parts = [_listed_sql(terms, order) for order, terms in enumerate(clocks) if terms.limits]
    if not parts:
        return None
    union = "\n    UNION ALL".join(parts)
    return text(
        "SELECT clock_order, issue_number, title, severity_rank, status, assignee, clock_start,"
        " remaining_us, segments, finished, acknowledged"
        f" FROM ({union}\n) x"
        " ORDER BY remaining_us, severity_rank, issue_number, clock_order"
    ).bindparams(bindparam("b_now", type_=BigInteger))


# Not filtered by is_active in SQL: SQLite would walk ix_issue_timelines_active for it, row by
# row through most of the table, to find the few rows this returns.
_UNANSWERED = select(t).where(_unanswerable())


def sla_rows(connection: Connection, clocks: Sequence[ClockTerms], *, now: datetime) -> list[Any]:
    """Clocks of active issues at risk or breached at `now`, by the sums, most overdue first
    (as core.sla.sla_report orders them): core.timeline_sums.ListedRow tuples whose first
    field is the clock's index in `clocks`."""
    query = _sla_query(tuple(clocks))
    if query is None:
        return []
    return _tuples(connection, query, {"b_now": micros(now)})


def sla_unanswered(connection: Connection, *, now: datetime) -> list[Any]:
    """Active issues whose clocks the sums cannot answer at `now`, with their title and
    assignee: core.sla evaluates them from the timeline the row carries."""
    return [r for r in connection.execute(_UNANSWERED, {"b_now": micros(now)}) if r.is_active]
