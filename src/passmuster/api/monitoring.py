"""The health monitor inside `serve --monitor`, and `/metrics` for Prometheus.

The monitor writes what it sees into the desk; the pages and the API read it from there (see
`health.py`), so they show the same whether the monitor runs here or in another process.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import Receive, Scope, Send

from passmuster.api.config import ServeSettings
from passmuster.api.errors import error_response
from passmuster.errors import AuthError

log = logging.getLogger("passmuster.monitor")


class InProcessMonitor:
    """Runs the monitor's loop next to the server."""

    def __init__(self, monitor: Any) -> None:
        self.monitor = monitor

    @classmethod
    def create(cls, desk: Any, settings: ServeSettings) -> InProcessMonitor:
        from passmuster.monitor.scheduler import Monitor

        monitor = Monitor.from_config(
            desk,
            settings.monitor_config,
            base_urls=settings.base_urls or None,
            start=settings.platform_root,
            skip=settings.monitor_skip,
        )
        if not monitor.setup.targets.targets:
            # Said once at start: a monitor probing nothing would otherwise look healthy.
            log.warning(
                "the monitor has nothing to probe: no probeable services in the platform's "
                "compose files nor on the desk, and no [monitor] targets"
            )
        return cls(monitor)

    async def run(self, stop: asyncio.Event) -> None:
        await self.monitor.run(stop)


class MetricsEndpoint:
    """`/metrics` in Prometheus format, for a reader token (`bearer_token` in the scrape job).

    The exporter is made in the lifespan, once the desk is open; until then this answers 503.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["app"]
        tokens = getattr(app.state, "tokens", None)
        exporter = getattr(app.state, "metrics", None)
        if scope["type"] != "http" or tokens is None or exporter is None:
            await error_response(503, "starting", "the server is starting")(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, secret = header.partition(" ")
        try:
            await asyncio.to_thread(
                tokens.authenticate, secret.strip() if scheme.lower() == "bearer" else None
            )
        except AuthError as exc:
            await error_response(401, "auth_error", exc.message)(scope, receive, send)
            return
        await exporter(scope, receive, send)
