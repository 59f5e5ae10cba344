"""Issues: file, read, list, search, update, transition, acknowledge, comment, link, ready and
claim."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel

from passmuster.api.deps import ActorDep, DeskDep, Needs
from passmuster.api.errors import ERROR_RESPONSES, ErrorBody
from passmuster.api.schemas import (
    ClaimRequest,
    CommentCreate,
    CommentPublic,
    EventPage,
    EventPublic,
    IssueCreate,
    IssuePage,
    IssuePublic,
    IssueUpdate,
    LinkCreate,
    RenewRequest,
    TransitionRequest,
    check_query,
)
from passmuster.core.issues import SORT_KEYS, IssueQuery, IssueType, Severity, Status
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(
    route_class=LazyAPIRoute,
    prefix="/issues",
    tags=["issues"],
    dependencies=[Needs.READER],
    responses={**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "No such issue."}},
)

# Numbers and cursors are stored as 32-bit integers; larger values cannot name anything.
MAX_INT = 2**31 - 1
Number = Annotated[int, Path(ge=1, le=MAX_INT, description="The issue's number (7 for #007).")]
Conflicts: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Changed meanwhile, or not allowed now."}
}
SearchText = Annotated[str, Query(min_length=1, max_length=500, description="Words to find.")]


class ClaimResult(BaseModel):
    issue: IssuePublic | None


def build_query(
    status_: list[Status],
    severity: list[Severity],
    type_: list[IssueType],
    service: list[str],
    label: list[str],
    assignee: str | None,
    q: str | None,
    active: bool,
    sort: str,
    limit: int | None,
    offset: int,
) -> IssueQuery:
    for name, values in (
        ("service", service),
        ("label", label),
        ("assignee", [assignee]),
        ("q", [q]),
    ):
        for text in values:
            check_query(text, name)
    return IssueQuery(
        statuses=status_,
        severities=severity,
        types=type_,
        services=service,
        labels=label,
        assignee=assignee,
        text=q or None,
        active_only=active,
        sort=sort,
        limit=limit,
        offset=offset,
    )


@router.get("", summary="List issues, filtered and sorted")
def list_issues(
    desk: DeskDep,
    status_: Annotated[list[Status], Query(alias="status")] = [],  # noqa: B006
    severity: Annotated[list[Severity], Query()] = [],  # noqa: B006
    type_: Annotated[list[IssueType], Query(alias="type")] = [],  # noqa: B006
    service: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006
    label: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=500, description="Full-text filter.")] = None,
    active: Annotated[bool, Query(description="Only issues that still need work.")] = False,
    sort: Annotated[str, Query(pattern="^(" + "|".join(SORT_KEYS) + ")$")] = "number",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> IssuePage:
    query = build_query(
        status_, severity, type_, service, label, assignee, q, active, sort, limit, offset
    )
    items = desk.issues(query)
    total = desk.count(query)
    return IssuePage(
        items=[IssuePublic.of(i) for i in items], total=total, limit=limit, offset=offset
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Needs.REPORTER],
    summary="File an issue",
)
def file_issue(body: IssueCreate, desk: DeskDep, actor: ActorDep) -> IssuePublic:
    return IssuePublic.of(desk.file(body.to_draft(actor=actor), actor=actor))


@router.get("/search", summary="Full-text search")
def search_issues(
    desk: DeskDep, q: SearchText, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[IssuePublic]:
    check_query(q, "q")
    return [IssuePublic.of(i) for i in desk.search(q, limit=limit)]


@router.post("/known-fixes", summary="Resolved issues that look like this draft")
def known_fixes(
    body: IssueCreate, desk: DeskDep, actor: ActorDep, limit: Annotated[int, Query(ge=1, le=10)] = 3
) -> list[IssuePublic]:
    return [IssuePublic.of(i) for i in desk.known_fixes(body.to_draft(actor=actor), limit=limit)]


@router.get("/ready", summary="Unblocked work, most urgent first")
def ready(desk: DeskDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[IssuePublic]:
    return [IssuePublic.of(i) for i in desk.ready(limit=limit)]


@router.post(
    "/claim",
    dependencies=[Needs.COORDINATOR],
    responses=Conflicts,
    summary="Claim the next ready issue (or a named one) for the caller, atomically",
)
def claim(desk: DeskDep, actor: ActorDep, body: ClaimRequest | None = None) -> ClaimResult:
    """The claim assigns the issue to the caller and takes a lease on it; `issue` is null when
    nothing is ready. 409 when the named issue is claimed or assigned by someone else."""
    wanted = body or ClaimRequest()
    issue = desk.claim(actor=actor, number=wanted.number, lease=wanted.lease)
    return ClaimResult(issue=IssuePublic.of(issue) if issue else None)


@router.post(
    "/{number}/renew",
    dependencies=[Needs.COORDINATOR],
    responses=Conflicts,
    summary="Extend the caller's claim on an issue",
)
def renew(
    number: Number, desk: DeskDep, actor: ActorDep, body: RenewRequest | None = None
) -> IssuePublic:
    lease = body.lease if body else None
    return IssuePublic.of(desk.renew(number, actor=actor, lease=lease))


@router.post(
    "/{number}/release",
    dependencies=[Needs.COORDINATOR],
    responses=Conflicts,
    summary="Give the caller's claimed issue back to the ready queue",
)
def release(number: Number, desk: DeskDep, actor: ActorDep) -> IssuePublic:
    return IssuePublic.of(desk.release(number, actor=actor))


@router.get("/{number}", summary="One issue with every field")
def get_issue(number: Number, desk: DeskDep) -> IssuePublic:
    return IssuePublic.of(desk.get(number))


@router.patch(
    "/{number}",
    dependencies=[Needs.COORDINATOR],
    responses=Conflicts,
    summary="Change fields (compare-and-set with expected_version)",
)
def update_issue(number: Number, body: IssueUpdate, desk: DeskDep, actor: ActorDep) -> IssuePublic:
    issue = desk.update(number, body.changes(), actor=actor, expected_version=body.expected_version)
    return IssuePublic.of(issue)


@router.post(
    "/{number}/transitions",
    dependencies=[Needs.COORDINATOR],
    responses=Conflicts,
    summary="Move to another status",
)
def transition(
    number: Number, body: TransitionRequest, desk: DeskDep, actor: ActorDep
) -> IssuePublic:
    issue = desk.transition(
        number,
        body.to,
        actor=actor,
        reason=body.reason,
        fields=body.fields() or None,
        expected_version=body.expected_version,
    )
    return IssuePublic.of(issue)


@router.post(
    "/{number}/acknowledge",
    dependencies=[Needs.COORDINATOR],
    summary="Acknowledge (starts the resolve clock)",
)
def acknowledge(number: Number, desk: DeskDep, actor: ActorDep) -> IssuePublic:
    return IssuePublic.of(desk.acknowledge(number, actor=actor))


@router.get("/{number}/comments", summary="Comments, oldest first")
def comments(number: Number, desk: DeskDep) -> list[CommentPublic]:
    return [CommentPublic.model_validate(c) for c in desk.comments(number)]


@router.post(
    "/{number}/comments",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Needs.REPORTER],
    summary="Comment on an issue",
)
def add_comment(
    number: Number, body: CommentCreate, desk: DeskDep, actor: ActorDep
) -> CommentPublic:
    return CommentPublic.model_validate(desk.comment(number, body.body, actor=actor))


@router.post(
    "/{number}/links",
    dependencies=[Needs.COORDINATOR],
    responses=Conflicts,
    summary="Link to another issue",
)
def add_link(number: Number, body: LinkCreate, desk: DeskDep, actor: ActorDep) -> IssuePublic:
    return IssuePublic.of(desk.link(number, body.kind, body.target, actor=actor))


@router.get("/{number}/events", summary="The issue's timeline, with cursor paging")
def issue_events(
    number: Number,
    desk: DeskDep,
    after: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    desk.get(number)  # 404 for an unknown issue rather than an empty timeline
    return event_page(desk.events(issue=number, after=after, limit=limit), limit)


def event_page(events: Sequence[object], limit: int) -> EventPage:
    items = [EventPublic.model_validate(e) for e in events]
    next_cursor = items[-1].id if len(items) == limit and items else None
    return EventPage(items=items, next_cursor=next_cursor)
