"""The application factory: the REST API under /api/v1, the pages, /healthz and the live feed.

`create_app(settings)` builds the app and nothing else; the desk, the token store and the live
feed are opened in the lifespan, when a server starts it, and closed when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passmuster import __version__
from passmuster.api.config import ServeSettings, serve_settings
from passmuster.api.docs import install_docs
from passmuster.api.errors import install_error_handlers
from passmuster.env_settings import Settings

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk

log = logging.getLogger("passmuster.api")

API_PREFIX = "/api/v1"
WORKER_THREADS = 8
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

DESCRIPTION = """\
The passmuster desk over HTTP: issues, services and their health, scans, incidents, statistics,
SLA status and the event timeline.

Every request needs an API token (`passmuster token create --name NAME --role ROLE`) sent as
`Authorization: Bearer <token>`. Roles: **reader** reads; **reporter** also files issues and
comments; **coordinator** also triages, edits, transitions, links, claims, edits services and
records scans and deployments; **admin** also manages tokens. No token: 401. Wrong role: 403.

Errors are JSON: `{"error": {"code": ..., "message": ..., "field": ...}}`.
"""


def create_app(settings: Settings | None = None, *, desk: Desk | None = None) -> FastAPI:
    """The whole web application for `settings` (the environment's when None).

    With `desk`, the app uses that open desk (and leaves it open) instead of opening its own.
    """
    config = serve_settings(settings)
    app = FastAPI(
        title="passmuster",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served from this site by api/docs.py, not from a CDN
        redoc_url=None,
    )

    # First among the routes: requests are matched against the routes in order, and matching one
    # against an included router builds that router's routes, which /healthz must not wait for.
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        # Answers from memory: a liveness check must not wait on the database. The response is
        # made here rather than from a return type, which would build a pydantic model for it.
        return JSONResponse({"status": "ok"})

    install_docs(app, path=f"{API_PREFIX}/docs", openapi_url=f"{API_PREFIX}/openapi.json")
    app.state.settings = config
    app.state.given_desk = desk

    from passmuster.api.routes import ROUTERS
    from passmuster.web.lazy_routes import RouterOnFirstUse

    # Each router's module (with its schemas) is imported when a request could first reach it.
    for module, path in ROUTERS:
        router = RouterOnFirstUse(f"passmuster.api.routes.{module}", path=API_PREFIX + path)
        router.include_in(app.router, prefix=API_PREFIX)

    from passmuster.api.monitoring import MetricsEndpoint

    # A plain Route (not a Mount) so scrapes of exactly /metrics are not redirected.
    app.router.routes.append(Route("/metrics", MetricsEndpoint(), include_in_schema=False))
    from passmuster.api import ingest

    # Sentry's protocol, not this API's: plain routes, outside the OpenAPI spec (docs/errors.md).
    # An admitted POST never reaches them (the request guard answers it, api/ingest.py `serve`);
    # they answer the other methods (405) and stand for the paths in the app's route list.
    app.router.routes.extend(ingest.routes())

    from passmuster.mcp.mount import McpMount

    # The desk's MCP server for agents (streamable HTTP), behind the same tokens as the API.
    app.state.mcp = McpMount()
    app.router.routes.append(app.state.mcp.route())
    from passmuster.web import site

    site.install(app)
    install_error_handlers(app, pages=site.error_page)
    app.add_middleware(_PokeAfterWrites)
    from passmuster.api.guard import LoginLimiter, RequestGuard

    # Added last, so it runs first: nothing reads a body before it.
    app.add_middleware(
        RequestGuard,
        max_body=config.max_body_bytes,
        max_upload=config.max_upload_bytes,
        max_ingest=config.max_ingest_bytes,
        limiter=LoginLimiter(),
    )
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from passmuster.api.live import LiveHub, listen_url_for
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.health import StoreHealth
    from passmuster.usecases.sessions import SessionStore
    from passmuster.usecases.tokens import TokenStore

    config: ServeSettings = app.state.settings
    given: Desk | None = app.state.given_desk
    # Few worker threads: the desk's work is short, and dozens of threads taking turns at the
    # interpreter lock (while one of them holds the desk's write lock) serve fewer requests.
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    desk: Desk = (
        given if given is not None else await asyncio.to_thread(Desk.open, config.database_url)
    )
    stop = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []
    try:
        app.state.desk = desk
        app.state.tokens = TokenStore(desk.engine)
        app.state.sessions = SessionStore(desk.engine, app.state.tokens)
        app.state.health = StoreHealth(desk.engine)
        monitor = _monitor(config, desk)
        app.state.metrics = _metrics(desk, monitor)
        hub = LiveHub(
            desk,
            poll_interval=config.live_poll_interval,
            listen_url=listen_url_for(desk.url),
            health=app.state.health.states,
        )
        await hub.start()
        app.state.hub = hub
        from passmuster.web.sla_badges import sla_cache

        # Work out SLA states now, so the first look at the board does not wait for them.
        warm_up = asyncio.to_thread(sla_cache(desk).refresh, desk, timed=False)
        tasks.append(asyncio.create_task(warm_up))
        tasks.append(asyncio.create_task(hub.run(stop), name="live-feed"))
        from passmuster.api import ingest

        tasks.append(ingest.start(app, desk, hub=hub, stop=stop))
        from passmuster.usecases.lease_sweeper import sweep_leases_until

        tasks.append(
            asyncio.create_task(
                sweep_leases_until(desk, stop, interval=config.lease_sweep_interval),
                name="lease-sweeper",
            )
        )
        if monitor is not None:
            tasks.append(asyncio.create_task(monitor.run(stop), name="monitor"))
            log.info("monitor running in this process")
        # Everything made so far lives as long as the server: keep the collector from walking
        # it again and again, which shows up as pauses in the slowest requests. (`passmuster
        # serve` keeps the collector off until this is done: cli/serve.py.)
        gc.freeze()
        tasks.append(asyncio.create_task(app.state.mcp.run(stop), name="mcp"))
        yield
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=5)
        if given is None:
            desk.close()


def _monitor(config: ServeSettings, desk: Any) -> Any:
    if not config.monitor:
        return None
    from passmuster.api.monitoring import InProcessMonitor

    return InProcessMonitor.create(desk, config)


def _metrics(desk: Any, monitor: Any) -> ASGIApp:
    """The exporter, made at the first scrape: its Prometheus client need not slow start-up."""
    made: ASGIApp | None = None

    async def exporter(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal made
        if made is None:
            from passmuster.monitor.metrics import metrics_app

            made = metrics_app(desk, monitor.monitor if monitor is not None else None)
        await made(scope, receive, send)

    return exporter


def _is_ingest(scope: Scope) -> bool:
    # The group commit pokes the feed itself, and only when an issue opened or reopened.
    from passmuster.api.ingest import ingest_project

    return ingest_project(scope["path"]) is not None


class _PokeAfterWrites:
    """After a successful write, wake the live feed (and, on PostgreSQL, every other process)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WRITES or _is_ingest(scope):
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        hub = getattr(scope["app"].state, "hub", None) if "app" in scope else None
        if hub is not None and status < 400:
            hub.poke()
