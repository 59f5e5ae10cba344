"""The pages: server-rendered Jinja2 with HTMX for partial refreshes and live updates.

Every page needs a logged-in session (a token, see `session.py`); every form and HTMX write
carries the session's CSRF value. Live updates: the layout connects to `/live` (Server-Sent
Events); regions marked `hx-trigger="sse:issue"` or `sse:service` re-fetch their partial when
the desk changes.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.exceptions import HTTPException as StarletteHTTPException

from passmuster.core.issues import (
    CloseReason,
    IssueDraft,
    Status,
    coerce_field,
)
from passmuster.errors import AuthError, PassmusterError
from passmuster.usecases.tokens import Role
from passmuster.web import session, views
from passmuster.web.issue_filters import Filters
from passmuster.web.lazy_routes import LazyAPIRoute
from passmuster.web.path_params import ChannelPath, NumberPath
from passmuster.web.session import WebUser

if TYPE_CHECKING:
    from passmuster.web.site import Templates

router = APIRouter(route_class=LazyAPIRoute, include_in_schema=False)


def _page_user(request: Request) -> WebUser:
    return session.current_user(request)


def _form_user(role: Role) -> Any:
    """A form's user: logged in, with `role` or above, and the session's CSRF value sent.

    A dependency, so the role is checked before the form's fields are (a reader posting an
    incomplete comment form gets 403, not a complaint about the form)."""

    async def check(request: Request) -> WebUser:
        user = session.current_user(request)
        user.token.require(role)
        await session.check_csrf(request, user.csrf)
        return user

    return Depends(check)


UserDep = Annotated[WebUser, Depends(_page_user)]
FormUserDep = Annotated[WebUser, _form_user(Role.READER)]
ReporterFormDep = Annotated[WebUser, _form_user(Role.REPORTER)]
CoordinatorFormDep = Annotated[WebUser, _form_user(Role.COORDINATOR)]


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    templates: Templates = request.app.state.templates
    if context.get("user") is not None and not name.startswith("_"):
        # Every full page says when notifications are not going out.
        context = {**context, "disabled_channels": views.disabled_channels(_desk(request))}
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _desk(request: Request) -> Any:
    return request.app.state.desk


async def error_page(request: Request, exc: Exception) -> Response | None:
    """The answer to an error of a page's request (web/site.py), or None to leave it to the JSON
    handlers."""
    if isinstance(exc, AuthError):
        target = "/login?" + urlencode({"next": request.url.path})
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if isinstance(exc, PassmusterError):
        status, message = exc.status_code, exc.message
    elif isinstance(exc, StarletteHTTPException):
        status, message = exc.status_code, str(exc.detail)
    else:
        return None
    user = None
    with contextlib.suppress(AuthError):
        user = session.current_user(request)
    return render(
        request,
        "error.html",
        {"user": user, "status": status, "message": message},
        status_code=status,
    )


# --- login ------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect would let a link send a user elsewhere.
    # Browsers read "/\\host" like "//host", another site.
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/board"
    return target


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, next, None)


@router.post("/login")
async def login(
    request: Request,
    token: Annotated[str, Form(max_length=500)],
    next: Annotated[str, Form(max_length=2000)] = "/board",
) -> Response:
    expected, fresh = session.login_csrf(request)
    if fresh:
        return _login_page(request, next, "your session expired; try again", status_code=400)
    await session.check_csrf(request, expected)
    try:
        info = request.app.state.tokens.authenticate(token.strip())
    except AuthError as exc:
        return _login_page(request, next, exc.message, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    session.log_in(request, response, info)
    return response


def _login_page(
    request: Request, next: str | None, error: str | None, *, status_code: int = 200
) -> HTMLResponse:
    csrf, fresh = session.login_csrf(request)
    page = render(
        request,
        "login.html",
        {"user": None, "next": _safe_next(next), "csrf": csrf, "error": error},
        status_code=status_code,
    )
    if fresh:
        session.remember_login_csrf(request, page, csrf)
    return page


@router.post("/logout")
def logout(request: Request, user: FormUserDep) -> Response:
    response = RedirectResponse("/login", status_code=303)
    session.log_out(request, response)
    return response


# --- issues -----------------------------------------------------------------------------


@router.get("/")
def home(user: UserDep) -> Response:
    return RedirectResponse("/board", status_code=303)


@router.get("/board")
def board(request: Request, user: UserDep) -> HTMLResponse:
    return render(request, "board.html", {"user": user, **views.board(_desk(request))})


@router.get("/partials/board")
def board_partial(request: Request, user: UserDep) -> HTMLResponse:
    return render(request, "_board.html", {"user": user, **views.board(_desk(request))})


Multi = Annotated[list[str], Query()]


def _filters(
    status: Multi = [],  # noqa: B006
    severity: Multi = [],  # noqa: B006
    type: Multi = [],  # noqa: B006
    service: Multi = [],  # noqa: B006
    q: Annotated[str | None, Query(max_length=500)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Filters:
    """The list's filters from the query string (the full page and its partial share them)."""
    return Filters.parse(status, severity, type, service, q, page)


FiltersDep = Annotated[Filters, Depends(_filters)]


@router.get("/issues")
def issue_list(request: Request, user: UserDep, filters: FiltersDep) -> HTMLResponse:
    desk = _desk(request)
    context = {
        "user": user,
        **views.issue_list(desk, filters),
        "services": views.service_names(desk),
    }
    return render(request, "list.html", context)


@router.get("/partials/issues")
def issue_list_partial(request: Request, user: UserDep, filters: FiltersDep) -> HTMLResponse:
    return render(
        request, "_list.html", {"user": user, **views.issue_list(_desk(request), filters)}
    )


@router.get("/issues/new")
def new_issue_form(request: Request, user: UserDep) -> HTMLResponse:
    desk = _desk(request)
    return render(
        request,
        "new.html",
        {"user": user, "values": {}, "error": None, "services": views.service_names(desk)},
    )


@router.post("/issues/new")
async def new_issue(request: Request, user: ReporterFormDep) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    chosen = [str(v) for v in form.getlist("services") if isinstance(v, str) and v]
    desk = _desk(request)
    try:
        draft = _draft_from_form(values, chosen, reporter=user.name)
        issue = desk.file(draft, actor=user.name)
    except PassmusterError as exc:
        if exc.status_code in (401, 403):
            raise
        return render(
            request,
            "new.html",
            {
                "user": user,
                "values": values,
                "chosen": chosen,
                "error": exc.message,
                "field": exc.field,
                "services": views.service_names(desk),
            },
            status_code=422,
        )
    return RedirectResponse(f"/issues/{issue.number}", status_code=303)


def _draft_from_form(values: dict[str, str], services: list[str], *, reporter: str) -> IssueDraft:
    """The form's fields as a draft; the desk checks it like every other (core.limits)."""
    errors = values.get("error_details", "").strip()
    given: dict[str, object] = {
        "type": values.get("type") or "bug",
        "severity": values.get("severity") or "medium",
        "priority": values.get("priority") or None,
        "services": services,
        "component": values.get("component"),
        "description": values.get("description", "").strip(),
        "impact": values.get("impact", "").strip(),
        "error_details": [errors] if errors else [],
        "tasks": [line.strip() for line in values.get("tasks", "").splitlines() if line.strip()],
        "labels": [x.strip() for x in values.get("labels", "").split(",") if x.strip()],
    }
    draft = IssueDraft(title=str(coerce_field("title", values.get("title", ""))), reporter=reporter)
    for name, value in given.items():
        setattr(draft, name, coerce_field(name, value))
    return draft


def _issue_context(request: Request, number: int) -> dict[str, Any]:
    from passmuster.web import error_views, status_admin

    desk = _desk(request)
    return {
        **views.issue_detail(desk, number),
        **error_views.issue_errors(desk, number),
        **status_admin.issue_updates(desk, number),
    }


def _services_context(request: Request, show_all: bool) -> dict[str, Any]:
    from passmuster.web import error_views

    desk = _desk(request)
    from passmuster.web import status_admin

    context = views.services(desk, request.app.state.health, show_all=show_all)
    return {**context, **error_views.service_errors(desk), **status_admin.maintenance(desk)}


@router.get("/issues/{number}")
def issue_page(request: Request, number: Annotated[int, NumberPath], user: UserDep) -> HTMLResponse:
    return render(request, "issue.html", {"user": user, **_issue_context(request, number)})


@router.get("/partials/issues/{number}")
def issue_partial(
    request: Request, number: Annotated[int, NumberPath], user: UserDep
) -> HTMLResponse:
    return render(request, "_issue.html", {"user": user, **_issue_context(request, number)})


@router.post("/issues/{number}/transition")
async def transition(
    request: Request, number: Annotated[int, NumberPath], user: CoordinatorFormDep
) -> Response:
    form = await request.form()
    target = Status.parse(str(form.get("to", "")), field_name="status")
    reason_text = str(form.get("reason") or "")
    reason = CloseReason.parse(reason_text) if reason_text else None
    fields = {
        name: str(form.get(name) or "").strip()
        for name in ("resolution", "root_cause", "workaround")
        if str(form.get(name) or "").strip()
    }
    version = str(form.get("version") or "")
    desk = _desk(request)
    desk.transition(
        number,
        target,
        actor=user.name,
        reason=reason,
        fields=fields or None,
        expected_version=int(version) if version.isdigit() else None,
    )
    return RedirectResponse(f"/issues/{number}", status_code=303)


@router.post("/issues/{number}/acknowledge")
def acknowledge(
    request: Request, number: Annotated[int, NumberPath], user: CoordinatorFormDep
) -> Response:
    _desk(request).acknowledge(number, actor=user.name)
    return RedirectResponse(f"/issues/{number}", status_code=303)


@router.post("/issues/{number}/comment")
def comment(
    request: Request,
    number: Annotated[int, NumberPath],
    user: ReporterFormDep,
    body: Annotated[str, Form()],
) -> Response:
    _desk(request).comment(number, body, actor=user.name)
    return RedirectResponse(f"/issues/{number}#comments", status_code=303)


# --- services, statistics, SLA ------------------------------------------------------------


@router.get("/services")
def services_page(
    request: Request, user: UserDep, show_all: Annotated[bool, Query(alias="all")] = False
) -> HTMLResponse:
    context = _services_context(request, show_all)
    return render(request, "services.html", {"user": user, "all": show_all, **context})


@router.get("/partials/services")
def services_partial(
    request: Request, user: UserDep, show_all: Annotated[bool, Query(alias="all")] = False
) -> HTMLResponse:
    context = _services_context(request, show_all)
    return render(request, "_services.html", {"user": user, "all": show_all, **context})


@router.post("/channels/{name}/enable")
def enable_channel(
    request: Request, name: Annotated[str, ChannelPath], user: CoordinatorFormDep
) -> Response:
    from passmuster.monitor.channel_status import enable_channel as enable

    enable(_desk(request), name)
    return RedirectResponse("/services#channels", status_code=303)


@router.get("/stats")
def stats_page(request: Request, user: UserDep) -> HTMLResponse:
    return render(request, "stats.html", {"user": user, **views.statistics(_desk(request))})


@router.get("/sla")
def sla_page(request: Request, user: UserDep) -> HTMLResponse:
    return render(request, "sla.html", {"user": user, **views.sla(_desk(request))})


@router.get("/partials/sla")
def sla_partial(request: Request, user: UserDep) -> HTMLResponse:
    return render(request, "_sla.html", {"user": user, **views.sla(_desk(request))})


# --- live -------------------------------------------------------------------------------


# Pages re-fetch a part of themselves per event; under a burst of writes they do so at most
# this often (and always after the last one).
LIVE_WINDOW = 0.25


@router.get("/live", response_class=EventSourceResponse)
async def live(request: Request, user: UserDep) -> Any:
    hub = request.app.state.hub
    # Logging out or revoking the token ends the stream too.
    async for batch in hub.subscribe_batches(LIVE_WINDOW, lambda: session.still_logged_in(request)):
        last = {event.kind: event for event in batch}
        for kind, event in last.items():
            data = {**event.data, "count": sum(1 for e in batch if e.kind == kind)}
            yield ServerSentEvent(event=kind, id=event.id, data=data)
