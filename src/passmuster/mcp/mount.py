"""`/mcp` in `passmuster serve`, without making the server start slower.

The MCP SDK takes a second or more to import (its protocol models), so the server does not
import it to start: the route answers through `McpMount`, whose MCP app is built and run by a
task of the server's lifespan. That task waits `WARM_UP_DELAY` first, so that importing the SDK
in the background does not take the processor from the server while it starts (in the same
process, the import holds the interpreter most of the time it runs); the first request to /mcp
ends the wait at once. A request that arrives before the app is built waits for it.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Any

from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

PATH = "/mcp"
# Seconds after the server starts before the SDK is imported unasked: start-up, on a quiet
# machine, is well under a second.
WARM_UP_DELAY = 2.0
log = logging.getLogger("passmuster.mcp")


class McpMount:
    """The ASGI endpoint at /mcp; `run` builds the MCP app and keeps it running."""

    def __init__(self) -> None:
        self._app: Any = None
        self._wanted = asyncio.Event()
        self._ready = asyncio.Event()

    def route(self) -> Route:
        return Route(PATH, endpoint=self, methods=["GET", "POST", "DELETE"])

    async def run(self, stop: asyncio.Event) -> None:
        """Build the MCP app (importing the SDK off the event loop) and serve until `stop`."""
        try:
            await _first_of(self._wanted, stop, timeout=WARM_UP_DELAY)
            if stop.is_set():
                return
            http = await asyncio.to_thread(importlib.import_module, "passmuster.mcp.http")
            endpoint, sessions = http.mcp_endpoint()
            async with sessions.run():
                self._app = endpoint
                self._ready.set()
                await stop.wait()
        except Exception:
            log.exception("the MCP server at /mcp failed; it answers 503")
            raise
        finally:
            self._app = None
            self._ready.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._wanted.set()
        await self._ready.wait()
        if self._app is None:
            unavailable = JSONResponse(
                {"error": {"code": "unavailable", "message": "the MCP server is not running"}},
                status_code=503,
            )
            await unavailable(scope, receive, send)
            return
        await self._app(scope, receive, send)


async def _first_of(*events: asyncio.Event, timeout: float) -> None:
    """Wait until one of `events` is set, or `timeout` seconds."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
