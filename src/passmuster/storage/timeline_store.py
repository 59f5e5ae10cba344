"""Queries for whole-desk SLA reports that read only the issues whose clocks can matter.

Rows become issues and events through the same converters as `issue_store.issue_summaries` and
`issue_store.timelines`, so a report over these rows equals one over the full reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from passmuster.core.issues import Event, Issue, Severity
from passmuster.storage.issue_store import _SUMMARY_COLUMNS, _row_to_event, _row_to_summary
from passmuster.storage.issue_tables import events, issues


def _started_by(moment: datetime) -> ColumnElement[bool]:
    """Any time a clock may start from (reported, filed, or the `created` event) is <= moment."""
    # Uncorrelated, so both databases build the set once rather than probe it per issue.
    created = select(events.c.issue_number).where(events.c.kind == "created", events.c.at <= moment)
    return or_(
        issues.c.reported_at <= moment,
        issues.c.created_at <= moment,
        issues.c.number.in_(created),
    )


def sla_candidates(
    connection: Connection, horizon: Mapping[Severity, datetime | None], *, kinds: Sequence[str]
) -> tuple[list[Issue], dict[int, list[Event]]]:
    """Active issues whose clocks started by their severity's horizon, with their events of
    `kinds` (oldest first): the only ones `core.sla.sla_report` can list (see `sla_horizon`)."""
    if not horizon:
        return [], {}
    old_enough = or_(
        *(
            and_(issues.c.severity == severity.value, _started_by(moment))
            if moment is not None
            else issues.c.severity == severity.value
            for severity, moment in horizon.items()
        )
    )
    rows = connection.execute(
        select(*_SUMMARY_COLUMNS)
        .where(issues.c.is_active == 1, old_enough)
        .order_by(issues.c.number)
    ).all()
    found = [_row_to_summary(r) for r in rows]
    timelines: dict[int, list[Event]] = defaultdict(list)
    if not found:
        return found, timelines
    numbers = [i.number for i in found]
    # Bounded batches keep the statement under every driver's parameter limit.
    for start in range(0, len(numbers), 5_000):
        batch = numbers[start : start + 5_000]
        stmt = (
            select(events)
            .where(events.c.issue_number.in_(batch), events.c.kind.in_(list(kinds)))
            .order_by(events.c.id)
        )
        for r in connection.execute(stmt):
            timelines[r.issue_number].append(_row_to_event(r))
    return found, timelines
