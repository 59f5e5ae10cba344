"""Runtime errors over the API: an issue's error side, its kept events, resolving in the next
release, errors per hour, and the DSNs services send with (the sending itself is Sentry's
protocol: api/ingest.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from passmuster.api.deps import ActorDep, DeskDep, Needs
from passmuster.api.errors import ERROR_RESPONSES, ErrorBody
from passmuster.api.routes.issues import Number
from passmuster.api.routes.services import ServiceName
from passmuster.api.schemas import IssuePublic
from passmuster.errors import NotFound
from passmuster.usecases.ingest_keys import DEFAULT_BASE_URL, IngestKeys
from passmuster.usecases.runtime_errors import (
    error_summary,
    errors_per_hour,
    recent_events,
    resolve_in_next_release,
)
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(
    route_class=LazyAPIRoute,
    tags=["runtime errors"],
    dependencies=[Needs.READER],
    responses={**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "Not found."}},
)


class ResolveInNextRelease(BaseModel):
    resolution: str | None = Field(default=None, max_length=100_000)
    expected_version: int | None = None


class DsnPublic(BaseModel):
    service: str
    project_id: int
    dsn: str
    created: bool


@router.get("/issues/{number}/errors", summary="A runtime-error issue's counts and latest event")
def issue_errors(
    number: Number, desk: DeskDep, days: Annotated[int, Query(ge=1, le=90)] = 14
) -> dict[str, Any]:
    summary = error_summary(desk, number, days=days)
    if summary is None:
        raise NotFound(f"issue #{number:03d} has no runtime errors")
    return summary.to_dict()


@router.get("/issues/{number}/errors/events", summary="The events kept whole, newest first")
def issue_error_events(
    number: Number, desk: DeskDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> list[dict[str, Any]]:
    return recent_events(desk, number, limit=limit)


@router.post(
    "/issues/{number}/resolve-in-next-release",
    dependencies=[Needs.COORDINATOR],
    summary="Resolve a runtime error as fixed in the next release",
)
def resolve_next_release(
    number: Number, body: ResolveInNextRelease, desk: DeskDep, actor: ActorDep
) -> IssuePublic:
    fields = {"resolution": body.resolution} if body.resolution else None
    issue = resolve_in_next_release(
        desk, number, actor=actor, fields=fields, expected_version=body.expected_version
    )
    return IssuePublic.of(issue)


@router.get("/errors/per-hour", summary="Runtime errors per service and hour")
def per_hour(
    desk: DeskDep, hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24
) -> dict[str, list[int]]:
    return errors_per_hour(desk, hours=hours)


@router.post(
    "/services/{name}/dsn",
    dependencies=[Needs.ADMIN],
    summary="The service's Sentry DSN (made on first use)",
)
def service_dsn(name: ServiceName, request: Request, desk: DeskDep, actor: ActorDep) -> DsnPublic:
    base = str(request.base_url).rstrip("/") or DEFAULT_BASE_URL
    dsn = IngestKeys(desk).dsn_for(name, actor=actor, base_url=base)
    return DsnPublic(
        service=dsn.service, project_id=dsn.project_id, dsn=str(dsn), created=dsn.created
    )


@router.delete(
    "/services/{name}/dsn", dependencies=[Needs.ADMIN], summary="Revoke the service's DSN key"
)
def revoke_dsn(name: ServiceName, desk: DeskDep) -> dict[str, int]:
    return {"revoked": IngestKeys(desk).revoke(name)}
