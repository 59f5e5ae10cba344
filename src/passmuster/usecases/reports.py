"""Whole-desk reports from the database's sums: the statistics and the SLA report.

The database adds up the timeline sums (storage.report_store); what it cannot answer alone is
evaluated by core.sla from the timeline each sums row carries, and core assembles the result. The
answer is the one `core.stats.compute_stats` and `core.sla.sla_report` give over every issue's
events (tests compare them on both databases), in a time that does not grow with events.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from passmuster.core.gc_pause import gc_paused
from passmuster.core.issues import Issue, IssueType, Severity, Status
from passmuster.core.sla import ClockName, SlaPolicy, SlaStatus, clock_status
from passmuster.core.stats import DeskCounts, Stats, attainment_state, hours_of, stats_from_counts
from passmuster.core.timeline_sums import clock_terms, listed_clocks, restore
from passmuster.storage import report_store

_CLOCKS: tuple[ClockName, ...] = ("respond", "resolve")
_SEVERITY = {s.value: s for s in Severity}
_STATUS = {s.value: s for s in Status}
_RANK = {s: s.rank for s in Severity}


def _issue(row: Any, *, title: str = "", assignee: str | None = None) -> Issue:
    return Issue(
        title=title,
        number=row.number if hasattr(row, "number") else row.issue_number,
        severity=_SEVERITY[row.severity],
        status=_STATUS[row.status],
        type=IssueType(row.type) if hasattr(row, "type") else IssueType.BUG,
        assignee=assignee,
    )


def _clocks_of(row: Any, issue: Issue, policy: SlaPolicy, now: datetime) -> list[SlaStatus | None]:
    timeline = restore(
        row.segments, start=row.clock_start, finished=row.finished, acknowledged=row.acknowledged
    )
    return [clock_status(issue, timeline, policy, clock, now=now) for clock in _CLOCKS]


def desk_stats(
    connection: Connection,
    policy: SlaPolicy,
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> Stats:
    # Records by the tens of thousands and nothing to free: see gc_paused.
    with gc_paused():
        return _desk_stats(connection, policy, since=since, until=until, now=now)


def _desk_stats(
    connection: Connection,
    policy: SlaPolicy,
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> Stats:
    rows = _stats_rows(connection, policy, since=since, until=until, now=now)
    return _assembled(rows, policy, since=since, until=until, now=now)


def _stats_rows(
    connection: Connection,
    policy: SlaPolicy,
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    priority_matrix: bool = True,
) -> report_store.StatsRows:
    terms = [clock_terms(policy, clock) for clock in _CLOCKS]
    return report_store.stats_rows(
        connection, terms, since=since, until=until, now=now, priority_matrix=priority_matrix
    )


def _assembled(
    rows: report_store.StatsRows,
    policy: SlaPolicy,
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> Stats:
    attainment: dict[str, Counter[str]] = {clock: Counter() for clock in _CLOCKS}
    for clock, state, count in rows.attainment:
        attainment[clock][state] += count
    for row in rows.unanswered:
        for clock, status in zip(_CLOCKS, _clocks_of(row, _issue(row), policy, now), strict=True):
            counted_as = attainment_state(status)
            if counted_as is not None:
                attainment[clock][counted_as] += 1
    counted = DeskCounts(
        counts=rows.counts,
        resolutions=rows.resolutions,
        acknowledgements=rows.acknowledgements,
        attainment=attainment,
        active=rows.active,
        services=rows.services,
    )
    return stats_from_counts(counted, since=since, until=until, now=now)


def desk_stats_and_resolutions(
    connection: Connection, policy: SlaPolicy, *, now: datetime, priority_matrix: bool = True
) -> tuple[Stats, list[float]]:
    """The statistics over every issue, and the hours from report to resolution of every
    resolved or closed issue that has both (`resolution_hours`): the statistics read those
    times already, so the statistics page's histogram costs no second query. Without
    `priority_matrix` its lists are left empty (the page shows none)."""
    with gc_paused():
        rows = _stats_rows(
            connection, policy, since=None, until=None, now=now, priority_matrix=priority_matrix
        )
        hours = [hours_of(micros) for _, micros in rows.resolutions]
        return _assembled(rows, policy, since=None, until=None, now=now), hours


def desk_sla(connection: Connection, policy: SlaPolicy, *, now: datetime) -> list[SlaStatus]:
    """Clocks of active issues that are at risk or breached, most overdue first (as
    core.sla.sla_report)."""
    # Records by the tens of thousands and nothing to free: see gc_paused.
    with gc_paused():
        return _desk_sla(connection, policy, now=now)


def _desk_sla(connection: Connection, policy: SlaPolicy, *, now: datetime) -> list[SlaStatus]:
    terms = [clock_terms(policy, clock) for clock in _CLOCKS]
    rows = report_store.sla_rows(connection, terms, now=now)
    found = listed_clocks(rows, terms, policy, now=now)
    others: list[SlaStatus] = []
    for row in report_store.sla_unanswered(connection, now=now):
        issue = _issue(row, title=row.title, assignee=row.assignee)
        others += [
            s
            for s in _clocks_of(row, issue, policy, now)
            if s is not None and s.state in ("at_risk", "breached")
        ]
    if others:
        found += others
        found.sort(key=lambda s: (s.remaining, _RANK[s.severity], s.number, s.clock != "respond"))
    return found


def resolution_hours(connection: Connection) -> list[float]:
    """Hours from report to resolution of every resolved or closed issue that has both."""
    return [hours_of(m) for m in report_store.resolution_micros(connection)]
