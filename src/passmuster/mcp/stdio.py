"""`passmuster mcp`: the desk's MCP server on stdin/stdout, for one agent.

The process also returns lapsed claims to the ready queue every `[leases] sweep_interval`, so
a team of agents each running their own `passmuster mcp` needs no server for that.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from passmuster.mcp.server import Session, build_server
from passmuster.mcp.tools import Caller
from passmuster.usecases.health import StoreHealth
from passmuster.usecases.lease_sweeper import sweep_leases_until

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk


async def serve_stdio(desk: Desk, agent: str) -> None:
    """Answer MCP requests on stdin/stdout as `agent` until the client closes stdin."""
    session = Session(desk=desk, caller=Caller(agent), health=StoreHealth(desk.engine))

    def resolve(_ctx: Any) -> Session:
        return session

    server = build_server(resolve)
    stop = asyncio.Event()
    sweeper = asyncio.create_task(sweep_leases_until(desk, stop), name="lease-sweeper")
    try:
        await server.run_stdio_async()
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(sweeper, timeout=5)


def run(desk: Desk, agent: str) -> None:
    asyncio.run(serve_stdio(desk, agent))
