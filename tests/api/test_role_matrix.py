"""Every route of the application, with every role and without a token: the table below says
who may use each one, and the test reads the routes from the application itself — a route the
table does not list fails the test, so no new route can skip its role check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from web.helpers import CSRF_INPUT

from api.helpers import make_tokens
from api.live_server import serve_in_thread
from passmuster.api.app import create_app
from passmuster.api.config import ServeSettings
from passmuster.core.issues import IssueDraft
from passmuster.usecases.desk import Desk

ROLES = ("reader", "reporter", "coordinator", "admin")
PUBLIC = "public"
# Sentry's ingestion routes take a project's DSN key, never a token: 401 with or without one.
DSN_KEY = "dsn key"

# (method, path) -> the lowest role that may use it, or PUBLIC.
API: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/issues"): "reader",
    ("POST", "/api/v1/issues"): "reporter",
    ("GET", "/api/v1/issues/search"): "reader",
    ("POST", "/api/v1/issues/known-fixes"): "reader",
    ("GET", "/api/v1/issues/ready"): "reader",
    ("POST", "/api/v1/issues/claim"): "coordinator",
    ("POST", "/api/v1/issues/{number}/renew"): "coordinator",
    ("POST", "/api/v1/issues/{number}/release"): "coordinator",
    ("GET", "/api/v1/agents"): "reader",
    ("GET", "/api/v1/issues/{number}"): "reader",
    ("PATCH", "/api/v1/issues/{number}"): "coordinator",
    ("POST", "/api/v1/issues/{number}/transitions"): "coordinator",
    ("POST", "/api/v1/issues/{number}/acknowledge"): "coordinator",
    ("GET", "/api/v1/issues/{number}/comments"): "reader",
    ("POST", "/api/v1/issues/{number}/comments"): "reporter",
    ("POST", "/api/v1/issues/{number}/links"): "coordinator",
    ("GET", "/api/v1/issues/{number}/events"): "reader",
    ("GET", "/api/v1/services"): "reader",
    ("GET", "/api/v1/services/{name}"): "reader",
    ("PUT", "/api/v1/services/{name}"): "coordinator",
    ("GET", "/api/v1/services/{name}/issues"): "reader",
    ("GET", "/api/v1/health"): "reader",
    ("GET", "/api/v1/services/{name}/health"): "reader",
    ("POST", "/api/v1/scans"): "coordinator",
    ("POST", "/api/v1/scans/run"): "coordinator",
    ("GET", "/api/v1/stats"): "reader",
    ("GET", "/api/v1/sla"): "reader",
    ("GET", "/api/v1/incidents"): "reader",
    ("GET", "/api/v1/events"): "reader",
    ("GET", "/api/v1/events/stream"): "reader",
    ("POST", "/api/v1/deployments"): "coordinator",
    ("GET", "/api/v1/deployments"): "reader",
    ("GET", "/api/v1/deployments/attempts/{number}"): "reader",
    ("GET", "/api/v1/deployments/status"): "reader",
    ("GET", "/api/v1/deployments/delivery"): "reader",
    ("GET", "/api/v1/channels"): "reader",
    ("POST", "/api/v1/channels/{name}/enable"): "coordinator",
    ("GET", "/api/v1/issues/{number}/errors"): "reader",
    ("GET", "/api/v1/issues/{number}/errors/events"): "reader",
    ("POST", "/api/v1/issues/{number}/resolve-in-next-release"): "coordinator",
    ("GET", "/api/v1/errors/per-hour"): "reader",
    ("POST", "/api/v1/services/{name}/dsn"): "admin",
    ("DELETE", "/api/v1/services/{name}/dsn"): "admin",
    ("GET", "/api/v1/tokens"): "admin",
    ("POST", "/api/v1/tokens"): "admin",
    ("DELETE", "/api/v1/tokens/{name}"): "admin",
    ("GET", "/api/v1/maintenance"): "reader",
    ("POST", "/api/v1/maintenance"): "coordinator",
    ("DELETE", "/api/v1/maintenance/{window_id}"): "coordinator",
    ("GET", "/api/v1/issues/{number}/updates"): "reader",
    ("POST", "/api/v1/issues/{number}/updates"): "coordinator",
    ("GET", "/metrics"): "reader",
    # The MCP server (streamable HTTP): any token may connect; its tools check the role per call.
    ("GET", "/mcp"): "reader",
    ("POST", "/mcp"): "reader",
    ("DELETE", "/mcp"): "reader",
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("GET", "/api/v1/docs"): PUBLIC,
    **{
        ("POST", f"/api/{{project_id:int}}/{kind}{slash}"): DSN_KEY
        for kind in ("envelope", "store")
        for slash in ("", "/")
    },
}
PAGES: dict[tuple[str, str], str] = {
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): "reader",
    ("GET", "/"): "reader",
    ("GET", "/board"): "reader",
    ("GET", "/partials/board"): "reader",
    ("GET", "/issues"): "reader",
    ("GET", "/partials/issues"): "reader",
    ("GET", "/issues/new"): "reader",
    ("POST", "/issues/new"): "reporter",
    ("GET", "/issues/{number}"): "reader",
    ("GET", "/partials/issues/{number}"): "reader",
    ("POST", "/issues/{number}/transition"): "coordinator",
    ("POST", "/issues/{number}/acknowledge"): "coordinator",
    ("POST", "/issues/{number}/comment"): "reporter",
    ("GET", "/services"): "reader",
    ("GET", "/partials/services"): "reader",
    ("POST", "/channels/{name}/enable"): "coordinator",
    ("GET", "/deployments"): "reader",
    ("GET", "/partials/deployments"): "reader",
    ("GET", "/deployments/attempts/{number}"): "reader",
    ("GET", "/stats"): "reader",
    ("GET", "/sla"): "reader",
    ("GET", "/partials/sla"): "reader",
    ("GET", "/live"): "reader",
    ("POST", "/issues/{number}/updates"): "coordinator",
    ("POST", "/maintenance"): "coordinator",
    ("POST", "/maintenance/{window_id}/cancel"): "coordinator",
    # The status page and what goes with it: public, read-only (404 until [status] turns it on).
    ("GET", "/status"): PUBLIC,
    ("GET", "/status.json"): PUBLIC,
    ("GET", "/status/feed.atom"): PUBLIC,
    ("GET", "/status/badges/platform.svg"): PUBLIC,
    ("GET", "/status/badges/{service}/{kind}.svg"): PUBLIC,
}
MOUNTS = {"/static"}  # files anyone may fetch (the pages' scripts and styles)
_PARAMS = {
    "{number}": "1",
    "{name}": "nobody",
    "{project_id:int}": "1",
    "{window_id}": "1",
    "{service}": "nobody",
    "{kind}": "health",
}
_STREAMS = {"/api/v1/events/stream", "/live", "/mcp"}


def app_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route the application answers, included routers flattened."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        entries = list(contexts()) if callable(contexts) else [route]
        for entry in entries:
            path = getattr(entry, "path", None) or getattr(entry, "path_format", None)
            if path in MOUNTS:
                continue
            methods = set(getattr(entry, "methods", None) or {"GET"}) - {"HEAD"}
            found.update((method, str(path)) for method in methods)
    return found


def test_the_table_lists_exactly_the_applications_routes() -> None:
    routes = app_routes(create_app())
    table = set(API) | set(PAGES)
    assert routes - table == set(), "routes without a role in this table"
    assert table - routes == set(), "the table lists routes the application no longer has"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'desk.db'}"
    desk = Desk.connect(url)
    desk.file(IssueDraft(title="One issue to act on"), actor="test")
    secrets = make_tokens(desk)
    app = create_app(ServeSettings(database_url=url, live_poll_interval=0.05))
    with serve_in_thread(app) as base:
        sessions = {role: _logged_in(base, secrets[role]) for role in ROLES}
        yield {"base": base, "secrets": secrets, "sessions": sessions}
        for client, _ in sessions.values():
            client.close()
    desk.close()


def _logged_in(base: str, secret: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=30)
    csrf = CSRF_INPUT.search(client.get("/login").text)
    assert csrf
    done = client.post("/login", data={"token": secret, "csrf_token": csrf.group(1)})
    assert done.status_code == 303
    after = CSRF_INPUT.search(client.get("/board").text)
    assert after
    return client, after.group(1)


def _url(path: str) -> str:
    for placeholder, value in _PARAMS.items():
        path = path.replace(placeholder, value)
    return path


def _status(client: httpx.Client, method: str, path: str, **kwargs: Any) -> int:
    if path in _STREAMS:
        with client.stream(method, path, **kwargs) as response:
            return response.status_code
    return client.request(method, path, **kwargs).status_code


def _allowed(role: str, needed: str) -> bool:
    return needed == PUBLIC or ROLES.index(role) >= ROLES.index(needed)


@pytest.mark.parametrize(("method", "path"), sorted(API), ids=lambda v: str(v))
def test_every_api_route_checks_its_role(server: dict[str, Any], method: str, path: str) -> None:
    needed = API[(method, path)]
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    with httpx.Client(base_url=server["base"], timeout=30) as client:
        anonymous = _status(client, method, _url(path), **body)
        assert (anonymous == 401) != (needed == PUBLIC), (method, path, "no token", anonymous)
        for role in ROLES:
            headers = {"Authorization": f"Bearer {server['secrets'][role]}"}
            got = _status(client, method, _url(path), headers=headers, **body)
            if needed == DSN_KEY:
                assert got == 401, (method, path, role, got)
            elif _allowed(role, needed):
                assert got not in (401, 403) and got < 500, (method, path, role, got)
            else:
                assert got == 403, (method, path, role, got)


@pytest.mark.parametrize(("method", "path"), sorted(PAGES), ids=lambda v: str(v))
def test_every_page_checks_its_role(server: dict[str, Any], method: str, path: str) -> None:
    needed = PAGES[(method, path)]
    with httpx.Client(base_url=server["base"], timeout=30) as anonymous:
        got = _status(anonymous, method, _url(path), data={"csrf_token": "x"})
        if needed == PUBLIC:
            assert got not in (401, 403) and got < 500, (method, path, "no session", got)
        else:
            assert got == 303 and path != "/login", (method, path, "no session", got)
    for role in ROLES:
        client, csrf = server["sessions"][role]
        data = {"csrf_token": csrf} if method == "POST" else None
        if path == "/logout":
            continue  # would end the session the other checks use; covered by test_sessions
        got = _status(client, method, _url(path), data=data)
        if _allowed(role, needed):
            assert got not in (401, 403) and got < 500, (method, path, role, got)
        else:
            assert got == 403, (method, path, role, got)
