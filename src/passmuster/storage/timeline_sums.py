"""Keeping `issue_timelines` (core.timeline_sums) equal to the event log and the issue rows, and
`active_issue_services` equal to the services of the active issues.

The issue store calls these inside the transaction that files an issue, rewrites its row or
appends events that shape its timeline, so the sums never disagree with what they are derived
from; migration 0014 fills them for desks made before they existed.
"""

from __future__ import annotations

import functools
import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    Connection,
    Delete,
    Insert,
    Select,
    bindparam,
    delete,
    insert,
    select,
)

from passmuster.core.issues import Event, Issue, IssueType, Priority, Severity, Status
from passmuster.core.timeline_sums import (
    ACTIVE_VALUES,
    TimelineSums,
    summarise,
    summarise_filed,
)
from passmuster.storage.issue_tables import (
    active_issue_services,
    events,
    issue_services,
    issue_timelines,
    issues,
)

# The events a timeline is built from (core.sla.Timeline); others never change the sums.
TIMELINE_KINDS = ("created", "status", "acknowledged")
_CHUNK = 5_000


def sums_row(sums: TimelineSums) -> dict[str, Any]:
    row: dict[str, Any] = {
        "issue_number": sums.number,
        "title": sums.title,
        "assignee": sums.assignee,
        "priority": sums.priority,
        "status": sums.status,
        "is_active": 1 if sums.status in ACTIVE_VALUES else 0,
        "severity": sums.severity,
        "severity_rank": sums.severity_rank,
        "type": sums.type,
        "opened": sums.opened,
        "opened_month": sums.opened_month,
        "resolved": sums.resolved,
        "clock_start": sums.start,
        "acknowledged": sums.acknowledged,
        "finished": sums.finished,
        "last_start": sums.last_start,
        "last_status": sums.last_status,
        "regular": 1 if sums.regular else 0,
        "segments": sums.segments,
    }
    row.update(zip(_SPENT_COLUMNS, _per_status(sums.in_status), strict=True))
    row.update(zip(_TO_ACK_COLUMNS, _per_status(sums.to_ack), strict=True))
    return row


# Each active status's two columns, and a getter of the per-status values in their order.
_SPENT_COLUMNS = tuple(f"in_{value}" for value in ACTIVE_VALUES)
_TO_ACK_COLUMNS = tuple(f"to_ack_{value}" for value in ACTIVE_VALUES)
_per_status = operator.itemgetter(*ACTIVE_VALUES)


def created_rows(filed: Sequence[Issue]) -> list[dict[str, Any]]:
    """Rows for issues just filed, whose only event is the `created` one of their filing."""
    return [sums_row(summarise_filed(issue)) for issue in filed]


_ISSUE_FIELDS = (
    issues.c.number,
    issues.c.title,
    issues.c.assignee,
    issues.c.priority,
    issues.c.status,
    issues.c.severity,
    issues.c.type,
    issues.c.reported_at,
    issues.c.acknowledged_at,
    issues.c.resolved_at,
    issues.c.created_at,
)


def _issue(row: Any) -> Issue:
    # Only what a timeline and the sums read; everything else keeps its default.
    return Issue(
        title=row.title,
        assignee=row.assignee,
        priority=Priority(row.priority) if row.priority else None,
        number=row.number,
        status=Status(row.status),
        severity=Severity(row.severity),
        type=IssueType(row.type),
        reported_at=row.reported_at,
        acknowledged_at=row.acknowledged_at,
        resolved_at=row.resolved_at,
        created_at=row.created_at,
    )


def refresh(connection: Connection, numbers: Iterable[int]) -> None:
    """Rewrite the sums of the issues `numbers` from their rows and events as they are now."""
    wanted = sorted(set(numbers))
    statements = _statements()
    for start in range(0, len(wanted), _CHUNK):
        chunk = {"numbers": wanted[start : start + _CHUNK]}
        filed = [_issue(r) for r in connection.execute(statements.issues, chunk)]
        timelines = _events(connection, chunk)
        connection.execute(statements.drop_sums, chunk)
        rows = [sums_row(summarise(i, timelines.get(i.number, ()))) for i in filed]
        if rows:
            connection.execute(insert(issue_timelines), rows)
        connection.execute(statements.drop_active_services, chunk)
        connection.execute(statements.add_active_services, chunk)


def add_active_services(connection: Connection, numbers: Sequence[int]) -> None:
    """Record the services of those of the issues `numbers` that are active (none recorded
    yet), from their issue_services rows and sums, both written first."""
    statement = _statements().add_active_services
    for start in range(0, len(numbers), _CHUNK):
        connection.execute(statement, {"numbers": numbers[start : start + _CHUNK]})


class _Statements(NamedTuple):
    issues: Select[Any]
    events: Select[Any]
    drop_sums: Delete
    drop_active_services: Delete
    add_active_services: Insert


@functools.cache
def _statements() -> _Statements:
    """The statements that keep the sums, each over the issues of the bound list `numbers`.

    Built once a process: every filing and every change runs some of them, and building a
    statement cost SQLAlchemy more than running it on one issue.
    """
    numbers: BindParameter[list[int]] = bindparam("numbers", expanding=True)
    t = issue_timelines
    active_found = (
        select(issue_services.c.service_id, issue_services.c.issue_number, t.c.opened)
        .join(t, t.c.issue_number == issue_services.c.issue_number)
        .where(t.c.is_active == 1, t.c.issue_number.in_(numbers))
    )
    return _Statements(
        issues=select(*_ISSUE_FIELDS).where(issues.c.number.in_(numbers)),
        events=(
            select(events.c.id, events.c.issue_number, events.c.at, events.c.kind, events.c.old)
            .add_columns(events.c.new)
            .where(events.c.issue_number.in_(numbers), events.c.kind.in_(TIMELINE_KINDS))
            .order_by(events.c.id)
        ),
        drop_sums=delete(t).where(t.c.issue_number.in_(numbers)),
        drop_active_services=delete(active_issue_services).where(
            active_issue_services.c.issue_number.in_(numbers)
        ),
        add_active_services=insert(active_issue_services).from_select(
            ["service_id", "issue_number", "opened"], active_found
        ),
    )


def _events(
    connection: Connection, chunk: Mapping[str, Sequence[int]]
) -> Mapping[int, list[Event]]:
    out: dict[int, list[Event]] = defaultdict(list)
    for r in connection.execute(_statements().events, chunk):
        out[r.issue_number].append(
            Event(
                id=r.id, issue=r.issue_number, actor="", at=r.at, kind=r.kind, old=r.old, new=r.new
            )
        )
    return out


def touches_timeline(rows: Iterable[Mapping[str, Any]]) -> set[int]:
    """The issues whose timelines change by appending event rows (mappings with issue, kind)."""
    return {row["issue"] for row in rows if row["kind"] in TIMELINE_KINDS}
