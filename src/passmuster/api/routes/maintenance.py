"""Maintenance windows: schedule one (one-off or recurring), list them, cancel one. During a
window the services it covers open no incident and page nobody (docs/status.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from passmuster.api.deps import ActorDep, DeskDep, Needs
from passmuster.api.errors import ERROR_RESPONSES, ErrorBody
from passmuster.core.maintenance import MaintenanceWindow
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(
    route_class=LazyAPIRoute, prefix="/maintenance", tags=["monitor"], responses=ERROR_RESPONSES
)
WindowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class MaintenanceCreate(BaseModel):
    message: str = Field(min_length=1, max_length=2000, description="Shown on the status page.")
    services: list[str] = Field(min_length=1, max_length=500)
    starts_at: datetime = Field(description="ISO 8601 with a time zone.")
    ends_at: datetime
    recurrence: str | None = Field(
        default=None,
        max_length=500,
        description="An RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SU; each occurrence lasts as "
        "long as the first.",
    )


class MaintenancePublic(BaseModel):
    id: int
    message: str
    services: list[str]
    starts_at: datetime
    ends_at: datetime
    recurrence: str | None
    created_by: str
    next_starts_at: datetime | None
    next_ends_at: datetime | None
    active: bool


def public(window: MaintenanceWindow, now: datetime) -> MaintenancePublic:
    upcoming = window.next_after(now)
    return MaintenancePublic(
        id=window.id,
        message=window.message,
        services=list(window.services),
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        recurrence=window.recurrence,
        created_by=window.created_by,
        next_starts_at=upcoming[0] if upcoming else None,
        next_ends_at=upcoming[1] if upcoming else None,
        active=window.active_at(now) is not None,
    )


@router.get("", dependencies=[Needs.READER], summary="Maintenance windows under way or to come")
def list_windows(desk: DeskDep) -> list[MaintenancePublic]:
    from passmuster.usecases.maintenance import upcoming

    now = desk.clock()
    return [public(w, now) for w in upcoming(desk, now=now)]


@router.post(
    "",
    dependencies=[Needs.COORDINATOR],
    status_code=201,
    summary="Schedule a maintenance window",
)
def create_window(body: MaintenanceCreate, desk: DeskDep, actor: ActorDep) -> MaintenancePublic:
    from passmuster.usecases.maintenance import schedule

    window = schedule(
        desk,
        message=body.message,
        services=body.services,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        recurrence=body.recurrence,
        actor=actor,
    )
    return public(window, desk.clock())


@router.delete(
    "/{window_id}",
    dependencies=[Needs.COORDINATOR],
    status_code=204,
    responses={404: {"model": ErrorBody, "description": "No such window."}},
    summary="Cancel a maintenance window",
)
def cancel_window(window_id: WindowId, desk: DeskDep, actor: ActorDep) -> Response:
    from passmuster.usecases.maintenance import cancel

    cancel(desk, window_id, actor=actor)
    return Response(status_code=204)
