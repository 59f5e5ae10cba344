"""`passmuster mcp`: the desk's MCP server on stdin/stdout, for one agent.

The process also returns lapsed claims to the ready queue every `[leases] sweep_interval`, so
a team of agents each running their own `passmuster mcp` needs no server for that.

A line that is not JSON is answered with JSON-RPC's parse error (-32700), and JSON that is no
JSON-RPC message with its invalid-request error (-32600), as JSON-RPC 2.0 asks: the SDK's stdio
transport drops both without a word, and a client then waits for an answer that never comes.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

import anyio
import mcp_types
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

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
        # run_stdio_async gives no hook for the transport's read stream: the same three calls,
        # with the stream answering unreadable lines (SDK pinned < 3 in pyproject).
        lowlevel = server._lowlevel_server
        async with stdio_server() as (read_stream, write_stream):
            await lowlevel.run(
                _Answering(read_stream, write_stream),
                write_stream,
                lowlevel.create_initialization_options(),
            )
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(sweeper, timeout=5)


class _Answering:
    """The transport's read stream (mcp's `ReadStream`), answering each line it could not read
    as a message instead of passing the error on to be dropped."""

    def __init__(self, inner: Any, write: Any) -> None:
        self._inner = inner
        self._write = write

    @property
    def last_context(self) -> Any:  # the sender's context, as the transport keeps it
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        while True:
            item = await self._inner.receive()
            if not isinstance(item, ValidationError):
                return cast("SessionMessage | Exception", item)
            await self._write.send(SessionMessage(_unreadable(item)))

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> _Answering:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _unreadable(error: ValidationError) -> mcp_types.JSONRPCError:
    """The JSON-RPC error answering a line that is not a message, with its id where it gave one."""
    found = error.errors(include_url=False)
    if any(e["type"] == "json_invalid" for e in found):
        code, message = mcp_types.PARSE_ERROR, "Parse error: the line is not JSON"
        request_id = None
    else:
        code, message = mcp_types.INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message"
        request_id = _given_id(found)
    return mcp_types.JSONRPCError(
        jsonrpc="2.0", id=request_id, error=mcp_types.ErrorData(code=code, message=message)
    )


def _given_id(found: list[Any]) -> int | str | None:
    for entry in found:
        given = entry.get("input")
        if isinstance(given, dict):
            request_id = given.get("id")
            if isinstance(request_id, str) or (
                isinstance(request_id, int) and not isinstance(request_id, bool)
            ):
                return request_id
    return None


def run(desk: Desk, agent: str) -> None:
    asyncio.run(serve_stdio(desk, agent))
