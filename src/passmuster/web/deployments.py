"""The Deployments page: services × their recent attempts as a matrix, DORA's four keys as
tiles and weekly charts, and each attempt's output. Reads only what deploys recorded."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from passmuster.core.deploy.attempts import Attempt, Result
from passmuster.web import session
from passmuster.web.lazy_routes import LazyAPIRoute
from passmuster.web.path_params import NumberPath
from passmuster.web.session import WebUser

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk

router = APIRouter(route_class=LazyAPIRoute, include_in_schema=False)
RECENT = 12  # attempts per service in the matrix
WEEKS = 26  # of delivery keys on the page

RESULT_COLOURS = {
    "succeeded": "#1a7f37",
    "failed": "#cf222e",
    "timed_out": "#bc4c00",
    "skipped": "#bf8700",
    "interrupted": "#8250df",
    "running": "#0969da",
}


def _user(request: Request) -> WebUser:
    return session.current_user(request)


UserDep = Annotated[WebUser, Depends(_user)]


def _render(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(request, name, context)
    return response


def deployments(desk: Desk) -> dict[str, Any]:
    """What the page shows: the matrix, the open deployment issues and the delivery keys."""
    from passmuster.usecases.deployments import (
        delivery,
        open_deployment_issues,
        recent_by_service,
    )

    recent = recent_by_service(desk, RECENT)
    issues = open_deployment_issues(desk)
    # The page charts half a year: enough to see a trend, and bounded however long the history.
    keys = delivery(desk, since=desk.clock() - timedelta(weeks=WEEKS))
    rows = [
        {
            "service": name,
            # Oldest first, so the newest attempt is the right-most cell.
            "cells": [None] * (RECENT - len(items)) + list(reversed(items)),
            "last": items[0] if items else None,
            "issues": [i for i in issues if name in i.services],
        }
        for name, items in sorted(recent.items())
    ]
    weeks = keys.weeks
    labels = [w.label for w in weeks]
    charts = {
        "frequency": {
            "labels": labels,
            "datasets": [
                {
                    "label": "deployed",
                    "data": [w.deployments for w in weeks],
                    "backgroundColor": RESULT_COLOURS["succeeded"],
                },
                {
                    "label": "failed",
                    "data": [w.failed for w in weeks],
                    "backgroundColor": RESULT_COLOURS["failed"],
                },
            ],
        },
        "lead": _series(labels, "median hours", [w.lead_time_hours for w in weeks], "#0969da"),
        "failure": _series(
            labels,
            "% of deployments",
            [
                round(w.change_failure_rate * 100, 1) if w.change_failure_rate is not None else None
                for w in weeks
            ],
            RESULT_COLOURS["failed"],
        ),
        "restore": _series(labels, "median hours", [w.restore_hours for w in weeks], "#8250df"),
    }
    return {
        "rows": rows,
        "issues": issues,
        "keys": keys,
        "charts": json.dumps(charts),
        "colours": RESULT_COLOURS,
        "recent": RECENT,
    }


def _series(labels: list[str], label: str, values: list[float | None], colour: str) -> Any:
    return {
        "labels": labels,
        "datasets": [{"label": label, "data": values, "backgroundColor": colour}],
    }


def cell_title(attempt: Attempt) -> str:
    parts = [f"#{attempt.id} {attempt.result.value.replace('_', ' ')}"]
    if attempt.started_at is not None:
        parts.append(attempt.started_at.strftime("%Y-%m-%d %H:%M UTC"))
    if attempt.service_commit or attempt.commit:
        parts.append((attempt.service_commit or attempt.commit or "")[:12])
    if attempt.failure:
        parts.append(attempt.failure)
    if attempt.reason and attempt.result is not Result.SUCCEEDED:
        parts.append(attempt.reason.splitlines()[0][:160])
    return " · ".join(parts)


@router.get("/deployments")
def deployments_page(request: Request, user: UserDep) -> HTMLResponse:
    context = deployments(request.app.state.desk)
    return _render(request, "deployments.html", {"user": user, "cell_title": cell_title, **context})


@router.get("/partials/deployments")
def deployments_partial(request: Request, user: UserDep) -> HTMLResponse:
    context = deployments(request.app.state.desk)
    return _render(
        request, "_deployments.html", {"user": user, "cell_title": cell_title, **context}
    )


@router.get("/deployments/attempts/{number}")
def attempt_page(
    request: Request, user: UserDep, number: Annotated[int, NumberPath]
) -> HTMLResponse:
    from passmuster.usecases.deployments import attempt

    found = attempt(request.app.state.desk, number)
    return _render(
        request, "deployment.html", {"user": user, "a": found, "colours": RESULT_COLOURS}
    )
