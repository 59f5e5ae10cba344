"""What the MCP tests share: agents over stdio and HTTP, tool calls, and tokens for them."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from passmuster.usecases.desk import Desk
from passmuster.usecases.tokens import Role, TokenStore
from tests.child_process import passmuster_env

PASSMUSTER = [sys.executable, "-m", "passmuster"]


def stdio_params(cwd: Path, database_url: str, agent: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=PASSMUSTER[0],
        args=[*PASSMUSTER[1:], "--database-url", database_url, "mcp", "--as", agent],
        cwd=str(cwd),
        env=passmuster_env(PASSMUSTER_ACTOR="someone-else"),
    )


@asynccontextmanager
async def stdio_agent(cwd: Path, database_url: str, agent: str) -> AsyncIterator[Client]:
    async with Client(stdio_params(cwd, database_url, agent)) as client:
        yield client


@asynccontextmanager
async def http_agent(base: str, secret: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
    ):
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> Any:
    """The tool's JSON answer; AssertionError carrying the message when it failed."""
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error, text
    return json.loads(text)


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    """The error text of a call that must fail."""
    result = await client.call_tool(tool, arguments)
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error, text
    return text


def tokens_for(database_url: str) -> dict[str, str]:
    """One token per role, named after it: {"reader": secret, ...}."""
    desk = Desk.connect(database_url)
    try:
        store = TokenStore(desk.engine)
        return {role.value: store.create(role.value, role, created_by="test")[1] for role in Role}
    finally:
        desk.close()


def agent_tokens(database_url: str, count: int, role: Role = Role.COORDINATOR) -> list[str]:
    """Secrets of `count` tokens named agent-01, agent-02, ... with `role`."""
    desk = Desk.connect(database_url)
    try:
        store = TokenStore(desk.engine)
        return [
            store.create(f"agent-{i:02d}", role, created_by="test")[1] for i in range(1, count + 1)
        ]
    finally:
        desk.close()
