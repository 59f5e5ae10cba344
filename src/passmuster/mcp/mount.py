"""`/mcp` in `passmuster serve`, without making the server start slower.

The MCP SDK takes a second or more to import (its protocol models), so the server does not
import it to start: the route answers through `McpMount`, whose MCP app is built and run by a
task of the server's lifespan. A request that arrives before that is done waits for it.
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
log = logging.getLogger("passmuster.mcp")


class McpMount:
    """The ASGI endpoint at /mcp; `run` builds the MCP app and keeps it running."""

    def __init__(self) -> None:
        self._app: Any = None
        self._ready = asyncio.Event()

    def route(self) -> Route:
        return Route(PATH, endpoint=self, methods=["GET", "POST", "DELETE"])

    async def run(self, stop: asyncio.Event) -> None:
        """Build the MCP app (importing the SDK off the event loop) and serve until `stop`."""
        try:
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
        await self._ready.wait()
        if self._app is None:
            unavailable = JSONResponse(
                {"error": {"code": "unavailable", "message": "the MCP server is not running"}},
                status_code=503,
            )
            await unavailable(scope, receive, send)
            return
        await self._app(scope, receive, send)
