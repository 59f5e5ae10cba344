"""Agents working a desk through MCP with the SDK's own client: over stdio against
`passmuster mcp` processes and over HTTP against a real `passmuster serve`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api.live_server import passmuster_serve
from mcp import Client

from mcp_server.helpers import (
    agent_tokens,
    call,
    http_agent,
    refused,
    stdio_agent,
    tokens_for,
)
from passmuster.core.issues import IssueDraft
from passmuster.usecases.desk import Desk

AGENT = Path(__file__).with_name("agent.py")


def serve(url: str, cwd: Path) -> Any:
    # A machine busy with 16 agents' processes starts a server slowly; that is not under test.
    return passmuster_serve(url, cwd=cwd, start_timeout=90)


def _seed(url: str, count: int = 1) -> None:
    desk = Desk.connect(url)
    try:
        desk.file(
            IssueDraft(
                title="Redis connection refused in orders worker",
                services=["orders"],
                severity="high",
                error_details=["redis.exceptions.ConnectionError: Error 111 connecting"],
            ),
            actor="someone",
        )
        desk.file_many(
            [IssueDraft(title=f"Chore {n}") for n in range(2, count + 1)], actor="someone"
        )
    finally:
        desk.close()


async def _workflow(client: Client) -> dict[str, Any]:
    """ready -> claim -> comment -> resolve with a resolution -> file a look-alike."""
    ready = await call(client, "ready")
    assert [i["ref"] for i in ready] == ["#001"]
    claimed = await call(client, "claim")
    assert claimed["ref"] == "#001" and claimed["status"] == "in_progress"
    await call(client, "comment", number=1, body="REDIS_URL points at localhost")
    resolved = await call(
        client,
        "transition",
        number=1,
        to="resolve",
        resolution="Set REDIS_URL=redis://redis:6379/0 in the worker's environment",
        root_cause="The worker defaulted to localhost inside its container",
        prevention="ENV003 flags env drift between the API and its worker",
    )
    assert resolved["status"] == "resolved" and "warning" not in resolved
    filed = await call(
        client,
        "file",
        title="Redis connection refused in orders API",
        services=["orders"],
        error_details=["redis.exceptions.ConnectionError: Error 111 connecting"],
    )
    return {"claimed": claimed, "filed": filed}


def _check_workflow(url: str, result: dict[str, Any], agent: str) -> None:
    assert result["claimed"]["assignee"] == agent
    fixes = result["filed"]["known_fixes"]
    assert [f["ref"] for f in fixes] == ["#001"]
    assert fixes[0]["resolution"].startswith("Set REDIS_URL")
    desk = Desk.connect(url)
    try:
        assert desk.get(1).status.value == "resolved"
        assert [(c.author, c.body) for c in desk.comments(1)] == [
            (agent, "REDIS_URL points at localhost")
        ]
        assert desk.get(2).reporter == agent
        assert desk.held() == []  # resolving ended the claim
    finally:
        desk.close()


def test_an_agent_works_an_issue_over_stdio(desk_url: str, tmp_path: Path) -> None:
    _seed(desk_url)

    async def main() -> dict[str, Any]:
        async with stdio_agent(tmp_path, desk_url, "agent-7") as client:
            return await _workflow(client)

    _check_workflow(desk_url, asyncio.run(main()), "agent-7")


def test_an_agent_works_an_issue_over_http_against_serve(desk_url: str, tmp_path: Path) -> None:
    _seed(desk_url)
    (secret,) = agent_tokens(desk_url, 1)

    async def main(base: str) -> dict[str, Any]:
        async with http_agent(base, secret) as client:
            return await _workflow(client)

    with serve(desk_url, tmp_path) as base:
        result = asyncio.run(main(base))
    _check_workflow(desk_url, result, "agent-01")


def test_http_needs_a_token_refuses_readers_writes_and_forgets_revoked_ones(
    sqlite_url: str, tmp_path: Path
) -> None:
    Desk.connect(sqlite_url).close()
    _seed(sqlite_url)
    secrets = tokens_for(sqlite_url)

    async def as_reader(base: str) -> tuple[Any, str, str]:
        async with http_agent(base, secrets["reader"]) as client:
            return (
                await call(client, "ready"),
                await refused(client, "claim"),
                await refused(client, "file", title="x"),
            )

    async def ready_with(base: str, secret: str) -> Any:
        async with http_agent(base, secret) as client:
            return await call(client, "ready")

    with serve(sqlite_url, tmp_path) as base:
        bare = httpx.post(f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert bare.status_code == 401
        assert bare.json()["error"]["message"].startswith("authentication required")
        wrong = httpx.post(f"{base}/mcp", json={}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "unknown token"

        ready, claim, file = asyncio.run(as_reader(base))
        assert [i["ref"] for i in ready] == ["#001"]
        assert claim == "error: token 'reader' has role reader; claim needs coordinator"
        assert file == "error: token 'reader' has role reader; file needs reporter"

        assert asyncio.run(ready_with(base, secrets["coordinator"]))[0]["ref"] == "#001"
        revoked = subprocess.run(
            [sys.executable, "-m", "passmuster", "token", "revoke", "coordinator"],
            env={**os.environ, "PASSMUSTER_DATABASE_URL": sqlite_url},
            capture_output=True,
            text=True,
        )
        assert revoked.returncode == 0, revoked.stderr
        headers = {"Authorization": f"Bearer {secrets['coordinator']}"}
        # Another process revoked it: the server trusts what it read for at most 2 s.
        answer = None
        for _ in range(100):
            answer = httpx.post(f"{base}/mcp", json={}, headers=headers)
            if answer.status_code == 401:
                break
            asyncio.run(asyncio.sleep(0.1))
        assert answer is not None and answer.status_code == 401
        assert answer.json()["error"]["message"] == "token 'coordinator' was revoked"
    desk = Desk.connect(sqlite_url)
    try:
        assert desk.get(1).assignee is None
    finally:
        desk.close()


ISSUES = 24
AGENTS = 16


async def _claim_all(client: Client) -> list[int]:
    mine: list[int] = []
    while True:
        result = await client.call_tool("claim", {"lease": "10m"})
        text = result.content[0].text  # type: ignore[union-attr]
        if result.is_error:
            assert text == "error: nothing is ready to claim", text
            return mine
        mine.append(json.loads(text)["number"])


def _check_each_claimed_once(url: str, claims: list[list[int]]) -> None:
    flat = [n for mine in claims for n in mine]
    assert len(flat) == len(set(flat)), "an issue was claimed twice"
    assert sorted(flat) == list(range(1, ISSUES + 1))
    desk = Desk.connect(url)
    try:
        holders = {i.number: i.lease.holder for i in desk.held() if i.lease}
    finally:
        desk.close()
    assert len(holders) == ISSUES


@pytest.mark.slow
def test_16_agents_claiming_at_once_over_http_each_get_different_issues(
    desk_url: str, tmp_path: Path
) -> None:
    _seed(desk_url, ISSUES)
    secrets = agent_tokens(desk_url, AGENTS)

    async def agent(base: str, secret: str) -> list[int]:
        async with http_agent(base, secret) as client:
            return await _claim_all(client)

    async def main(base: str) -> list[list[int]]:
        return list(await asyncio.gather(*(agent(base, s) for s in secrets)))

    with serve(desk_url, tmp_path) as base:
        claims = asyncio.run(main(base))
    _check_each_claimed_once(desk_url, claims)


@pytest.mark.slow
def test_16_stdio_servers_claiming_at_once_each_get_different_issues(
    desk_url: str, tmp_path: Path
) -> None:
    _seed(desk_url, ISSUES)

    async def agent(name: str) -> list[int]:
        async with stdio_agent(tmp_path, desk_url, name) as client:
            return await _claim_all(client)

    async def main() -> list[list[int]]:
        return list(await asyncio.gather(*(agent(f"agent-{i:02d}") for i in range(AGENTS))))

    claims = asyncio.run(main())
    _check_each_claimed_once(desk_url, claims)


@pytest.mark.slow
def test_claims_of_killed_agents_return_within_the_lease_and_one_sweep(
    desk_url: str, tmp_path: Path
) -> None:
    """Three agents over stdio and three over HTTP claim with 2 s leases and are killed
    mid-work; the sweep of the surviving `serve` (every 1 s) puts their issues back."""
    (tmp_path / "passmuster.toml").write_text('[leases]\nsweep_interval = "1s"\n')
    _seed(desk_url, 6)
    secrets = agent_tokens(desk_url, 3)
    with serve(desk_url, tmp_path) as base:
        commands = [
            [sys.executable, str(AGENT), "stdio", str(tmp_path), desk_url, f"stdio-{i}", "2s"]
            for i in range(3)
        ] + [[sys.executable, str(AGENT), "http", base, secret, "2s"] for secret in secrets]
        agents = [
            subprocess.Popen(
                command,
                cwd=tmp_path,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            for command in commands
        ]
        claims: dict[int, datetime] = {}
        try:
            for process in agents:  # all connected, then all claim at once
                assert process.stdout is not None
                assert process.stdout.readline().strip() == "ready"
            for process in agents:
                assert process.stdin is not None
                process.stdin.write("go\n")
                process.stdin.flush()
            for process in agents:
                assert process.stdout is not None
                said = json.loads(process.stdout.readline())
                # A claim that lapsed before another agent claimed: the later one counts.
                until = datetime.fromisoformat(said["until"])
                claims[said["number"]] = max(until, claims.get(said["number"], until))
        finally:
            for process in agents:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                for pipe in (process.stdin, process.stdout):
                    if pipe is not None:
                        pipe.close()
        assert claims and set(claims) <= set(range(1, 7))
        desk = Desk.connect(desk_url)
        try:
            # ready() already skips a lapsed claim; held() lists it until it is returned.
            for _ in range(300):
                if not desk.held():
                    break
                asyncio.run(asyncio.sleep(0.1))
            assert desk.held() == [], "orphaned claims were not returned"
            assert len(desk.ready(limit=10)) == 6
            for number, until in claims.items():
                expired = desk.events(issue=number, kinds=["lease_expired"])[-1]
                late = expired.at - until
                # Lease plus one sweep interval (1 s), with 1 s for a loaded machine's scheduling.
                assert timedelta(0) <= late <= timedelta(seconds=2), (number, late)
                assert desk.get(number).assignee is None
        finally:
            desk.close()
