"""The dashboard's side of the status page: posting incident updates from the issue page, and
scheduling or cancelling maintenance windows from the services page. Coordinators only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from passmuster.core.incident_updates import UpdateStage
from passmuster.core.issues import IssueType
from passmuster.web.lazy_routes import LazyAPIRoute
from passmuster.web.pages import CoordinatorFormDep
from passmuster.web.path_params import NumberPath

router = APIRouter(route_class=LazyAPIRoute, include_in_schema=False)
WindowPath = Path(ge=1, le=2**31 - 1)


def issue_updates(desk: Any, number: int) -> dict[str, Any]:
    """The issue page's public updates (incidents only)."""
    from passmuster.usecases.incident_updates import updates

    issue = desk.get(number)
    if issue.type is not IssueType.INCIDENT:
        return {"public_updates": None}
    return {"public_updates": updates(desk, number), "UPDATE_STAGES": list(UpdateStage)}


def maintenance(desk: Any) -> dict[str, Any]:
    """The services page's maintenance windows (under way and to come)."""
    from passmuster.usecases.maintenance import upcoming

    now = desk.clock()
    windows = upcoming(desk, now=now)
    return {
        "maintenance_windows": [
            (w, w.next_after(now), w.active_at(now) is not None) for w in windows
        ]
    }


@router.post("/issues/{number}/updates")
def post_update(
    request: Request,
    number: Annotated[int, NumberPath],
    user: CoordinatorFormDep,
    stage: Annotated[str, Form(max_length=20)],
    message: Annotated[str, Form(max_length=5000)],
) -> Response:
    from passmuster.usecases.incident_updates import post_update as post

    post(request.app.state.desk, number, stage, message, actor=user.name)
    return RedirectResponse(f"/issues/{number}#public-updates", status_code=303)


@router.post("/maintenance")
def schedule_window(
    request: Request,
    user: CoordinatorFormDep,
    message: Annotated[str, Form(max_length=2000)],
    services: Annotated[str, Form(max_length=20000)],
    start: Annotated[str, Form(max_length=64)],
    length: Annotated[str, Form(max_length=32)],
    every: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    from passmuster.core.maintenance import parse_duration, parse_time
    from passmuster.usecases.maintenance import schedule

    starts_at = parse_time(start, field="start")
    schedule(
        request.app.state.desk,
        message=message,
        services=services.replace(",", " ").split(),
        starts_at=starts_at,
        ends_at=starts_at + parse_duration(length, field="length"),
        recurrence=every or None,
        actor=user.name,
    )
    return RedirectResponse("/services#maintenance", status_code=303)


@router.post("/maintenance/{window_id}/cancel")
def cancel_window(
    request: Request, window_id: Annotated[int, WindowPath], user: CoordinatorFormDep
) -> Response:
    from passmuster.usecases.maintenance import cancel

    cancel(request.app.state.desk, window_id, actor=user.name)
    return RedirectResponse("/services#maintenance", status_code=303)
