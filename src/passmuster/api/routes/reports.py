"""Reports: statistics, SLA status and incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from passmuster.api.deps import DeskDep, Needs
from passmuster.api.errors import ERROR_RESPONSES
from passmuster.api.schemas import HeldPublic, IssuePage, IssuePublic
from passmuster.core.issues import IssueQuery, IssueType, Severity, Status
from passmuster.core.leases import claims_table
from passmuster.core.sla import SlaStatus
from passmuster.core.stats import Stats
from passmuster.errors import InvalidValue
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(
    route_class=LazyAPIRoute,
    tags=["reports"],
    dependencies=[Needs.READER],
    responses=ERROR_RESPONSES,
)

# Timestamps outside this range cannot be compared with stored times on every database.
_EARLIEST = datetime(1970, 1, 2).astimezone()
_LATEST = datetime(9999, 1, 1).astimezone()


class SlaPublic(BaseModel):
    """Where one clock of one active issue stands: at risk or breached."""

    number: int
    title: str
    severity: Severity
    status: Status
    assignee: str | None
    clock: str
    state: str
    started_at: datetime
    due_at: datetime | None
    limit_seconds: float
    elapsed_seconds: float
    remaining_seconds: float

    @classmethod
    def of(cls, s: SlaStatus) -> SlaPublic:
        return cls(
            number=s.number,
            title=s.title,
            severity=s.severity,
            status=s.status,
            assignee=s.assignee,
            clock=s.clock,
            state=s.state,
            started_at=s.started_at,
            due_at=s.due_at,
            limit_seconds=s.limit.total_seconds(),
            elapsed_seconds=s.elapsed.total_seconds(),
            remaining_seconds=s.remaining.total_seconds(),
        )


def _moment(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidValue(name, value.isoformat(), ["a time with a zone, e.g. 2026-11-01T00:00Z"])
    if not _EARLIEST <= value <= _LATEST:
        raise InvalidValue(name, value.isoformat(), ["a time between 1970 and 9999"])
    return value


@router.get("/stats", summary="Statistics: month × severity, counts, SLA attainment, MTTA/MTTR")
def stats(
    desk: DeskDep,
    since: Annotated[datetime | None, Query(description="Issues reported from then on.")] = None,
    until: Annotated[datetime | None, Query(description="Issues reported before then.")] = None,
) -> Stats:
    return desk.stats(since=_moment(since, "since"), until=_moment(until, "until"))


@router.get("/sla", summary="Active issues at risk of or in breach of their SLA, most urgent first")
def sla(desk: DeskDep) -> list[SlaPublic]:
    return [SlaPublic.of(s) for s in desk.sla()]


@router.get("/incidents", summary="Incident issues (opened by the monitor or by hand)")
def incidents(
    desk: DeskDep,
    active: Annotated[bool, Query(description="Only incidents that still need work.")] = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> IssuePage:
    query = IssueQuery(types=[IssueType.INCIDENT], active_only=active, sort="urgency")
    total = desk.count(query)
    query.limit, query.offset = limit, offset
    items = [IssuePublic.of(i) for i in desk.issues(query)]
    return IssuePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/agents", summary="Who holds which issue: every claim, since when and until when")
def agents(desk: DeskDep) -> list[HeldPublic]:
    """A claim past its end shows `expired` until it is returned to the ready queue."""
    return [HeldPublic.model_validate(row) for row in claims_table(desk.held(), desk.clock())]
