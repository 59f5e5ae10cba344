"""The pages' part of the application: static files, templates, routers and error pages.

Nothing here imports the pages themselves: each router's module is imported when a request could
first reach it (web/lazy_routes.py), Jinja2 when the first page is rendered, and the error page
when a page's request fails.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from passmuster.web.lazy_routes import RouterOnFirstUse

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
# The pages' routers, in the order they are matched, each with what its paths start with.
ROUTERS = (
    ("pages", ""),
    ("deployments", ""),
    ("status_page", "/status"),
    ("status_admin", ""),
)


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.templates = Templates()
    for module, path in ROUTERS:
        RouterOnFirstUse(f"passmuster.web.{module}", path=path).include_in(app.router)


def is_page(request: Request) -> bool:
    path = request.url.path
    return not (
        path.startswith("/api/") or path in ("/healthz", "/mcp") or path.startswith("/static/")
    )


async def error_page(request: Request, exc: Exception) -> Response | None:
    """The pages' answer to an error, or None to leave it to the JSON handlers."""
    if not is_page(request):
        return None
    from passmuster.web.pages import error_page

    return await error_page(request, exc)


class Templates:
    """The pages' Jinja2 templates, made when the first page is rendered: Jinja2 need not slow
    the server's start-up."""

    def __init__(self) -> None:
        self._made: Jinja2Templates | None = None
        self._making = threading.Lock()

    def TemplateResponse(self, *args: Any, **kwargs: Any) -> HTMLResponse:
        return self.made().TemplateResponse(*args, **kwargs)

    def made(self) -> Jinja2Templates:
        with self._making:
            if self._made is None:
                self._made = _make_templates()
            return self._made


def _make_templates() -> Jinja2Templates:
    from fastapi.templating import Jinja2Templates

    from passmuster.core.durations import duration_text, hours_text
    from passmuster.core.findings import is_still_detected
    from passmuster.core.issues import CloseReason, IssueType, Priority, Severity, Status
    from passmuster.core.timeline import describe_event
    from passmuster.web.markdown import render_markdown
    from passmuster.web.time_filters import ago, when

    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["local"] = when
    templates.env.filters["ago"] = ago
    templates.env.filters["duration"] = duration_text
    templates.env.filters["hours"] = hours_text
    templates.env.filters["markdown"] = render_markdown
    templates.env.filters["event"] = describe_event
    templates.env.globals["STATUSES"] = list(Status)
    templates.env.globals["SEVERITIES"] = list(Severity)
    templates.env.globals["TYPES"] = list(IssueType)
    templates.env.globals["PRIORITIES"] = list(Priority)
    templates.env.globals["REASONS"] = list(CloseReason)
    templates.env.globals["still_detected"] = is_still_detected
    return templates
