"""MCP tool-call latency over stdio and HTTP at 10k issues, beside the CLI's per-call cost, and
claims per second across 16 agents on PostgreSQL.

    python -m bench mcp                   # 10k issues, 200 calls per tool, 10 CLI runs
    python -m bench mcp --quick           # 2k issues, 50 calls, 3 CLI runs
    python -m bench mcp --calls=500 --issues=10000 --agents=16

Latency: one agent (the SDK's own client) calls `claim` (the next ready issue), `show` (a random
issue) and `file` (a new issue, with its known-fix lookup) over stdio against `passmuster mcp`
and over streamable HTTP against `passmuster serve`, both on one SQLite desk of 10k issues.
The peer is the CLI an agent would otherwise shell out to: `passmuster claim --json`,
`show N --json`, `new TITLE --json`, one process per call, measured from spawn to exit.

Claims per second: 16 agents claim at once until the queue is empty, on a PostgreSQL desk
(PASSMUSTER_BENCH_POSTGRES_URL, default postgresql://root@127.0.0.1:5432/test, in a schema of its
own, dropped afterwards): over HTTP against one `serve`, and as 16 `passmuster mcp` processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PASSMUSTER = [sys.executable, "-m", "passmuster"]
PG = os.environ.get("PASSMUSTER_BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
SERVICES = ["orders", "payments", "identity", "search", "billing", "gateway", "files", "etl"]
TITLES = [
    "{s} fails to start: HTTPStatus imported from fastapi",
    "Redis connection refused in {s} worker",
    "Connection pool exhausted in {s} under load",
    "{s} calls another service on a hard-coded localhost URL",
    "Port conflict in {s}",
]


def _options(argv: list[str]) -> dict[str, int]:
    quick = "--quick" in argv
    out = {"issues": 2000 if quick else 10_000, "calls": 50 if quick else 200}
    out |= {"cli": 3 if quick else 10, "agents": 16, "queue": 800 if quick else 2000}
    for arg in argv:
        name, _, value = arg.removeprefix("--").partition("=")
        if name in out and value:
            out[name] = int(value)
    return out


def _seed(url: str, count: int, *, resolved: bool = True) -> None:
    from passmuster.core.issues import IssueDraft
    from passmuster.usecases.desk import Desk

    rng = random.Random(7)
    desk = Desk.connect(url)
    try:
        drafts = []
        for n in range(count):
            service = rng.choice(SERVICES)
            drafts.append(
                IssueDraft(
                    title=rng.choice(TITLES).format(s=service) + f" ({n})",
                    services=[service],
                    severity=rng.choice(["critical", "high", "medium", "low"]),
                    status="resolved" if resolved and n % 3 == 0 else "open",
                    resolution="Set the URL from the environment" if n % 3 == 0 else "",
                )
            )
        for start in range(0, count, 2000):
            desk.file_many(drafts[start : start + 2000], actor="seed")
    finally:
        desk.close()


def _tokens(url: str, names: list[str]) -> list[str]:
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.tokens import Role, TokenStore

    desk = Desk.connect(url)
    try:
        store = TokenStore(desk.engine)
        return [store.create(name, Role.COORDINATOR, created_by="bench")[1] for name in names]
    finally:
        desk.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serve(url: str, cwd: Path) -> Any:
    import httpx

    port = _free_port()
    log = (cwd / "serve.log").open("wb")
    process = subprocess.Popen(
        [*PASSMUSTER, "--database-url", url, "serve", "--port", str(port)],
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                # /mcp answers (401) once the server has loaded the MCP SDK.
                if httpx.post(f"{base}/mcp", timeout=60).status_code == 401:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError((cwd / "serve.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@asynccontextmanager
async def _stdio(url: str, cwd: Path, name: str) -> AsyncIterator[Any]:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(
        command=PASSMUSTER[0],
        args=[*PASSMUSTER[1:], "--database-url", url, "mcp", "--as", name],
        cwd=str(cwd),
    )
    async with Client(params) as client:
        yield client


@asynccontextmanager
async def _http(base: str, secret: str) -> AsyncIterator[Any]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {secret}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=120) as http,
        Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
    ):
        yield client


async def _call(client: Any, tool: str, **arguments: Any) -> Any:
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text
    if result.is_error:
        raise RuntimeError(f"{tool}: {text}")
    return json.loads(text)


def _calls(issues: int, rng: random.Random) -> dict[str, Callable[[Any], Awaitable[Any]]]:
    return {
        "claim": lambda c: _call(c, "claim"),
        "show": lambda c: _call(c, "show", number=rng.randint(1, issues)),
        "file": lambda c: _call(
            c,
            "file",
            title=rng.choice(TITLES).format(s=rng.choice(SERVICES)),
            services=[rng.choice(SERVICES)],
        ),
    }


async def _latencies(client: Any, issues: int, calls: int) -> dict[str, list[float]]:
    rng = random.Random(11)
    out: dict[str, list[float]] = {}
    for name, call in _calls(issues, rng).items():
        await call(client)  # warm: first use of each code path
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            await call(client)
            times.append(time.perf_counter() - started)
        out[name] = times
    return out


def _cli(url: str, cwd: Path, runs: int, issues: int) -> dict[str, list[float]]:
    rng = random.Random(13)
    env = {**os.environ, "PASSMUSTER_DATABASE_URL": url, "PASSMUSTER_ACTOR": "cli-agent"}
    commands = {
        "claim": lambda: ["claim", "--json"],
        "show": lambda: ["show", str(rng.randint(1, issues)), "--json"],
        "file": lambda: ["new", rng.choice(TITLES).format(s="orders"), "--service", "orders"],
    }
    out: dict[str, list[float]] = {}
    for name, args in commands.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            done = subprocess.run(
                [*PASSMUSTER, *args(), *([] if name != "file" else ["--json"])],
                cwd=cwd,
                env=env,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise RuntimeError(done.stderr.decode())
        out[name] = times
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def _row(label: str, tool: str, times: list[float]) -> str:
    return (
        f"| {label} | {tool} | {len(times)} | {_pct(times, 0.5):.1f} | "
        f"{_pct(times, 0.99):.1f} | {statistics.mean(times) * 1000:.1f} |"
    )


@contextmanager
def _pg_schema() -> Any:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    base = PG.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'drop schema "{schema}" cascade')


async def _claim_until_empty(client: Any) -> int:
    count = 0
    while True:
        result = await client.call_tool("claim", {"lease": "30m"})
        if result.is_error:
            return count
        count += 1


async def _claims_per_second(connect: Callable[[int], Any], agents: int) -> tuple[int, float, int]:
    """(claims, seconds, distinct) for `agents` claiming at once, timed after all connected."""
    async with contextlib_stack(connect, agents) as clients:
        started = time.perf_counter()
        counts = await asyncio.gather(*(_claim_until_empty(c) for c in clients))
        return sum(counts), time.perf_counter() - started, len(clients)


@asynccontextmanager
async def contextlib_stack(connect: Callable[[int], Any], count: int) -> AsyncIterator[list[Any]]:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        # One after another: an SDK client is left in the task that entered it.
        yield [await stack.enter_async_context(connect(i)) for i in range(count)]


def main(argv: list[str]) -> None:
    options = _options(argv)
    issues, calls, agents = options["issues"], options["calls"], options["agents"]
    load = os.getloadavg()
    print(f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; ")
    print(f"{os.cpu_count()} CPUs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    work = Path(tempfile.mkdtemp(prefix="bench-mcp-"))
    try:
        from passmuster.usecases.desk import Desk

        Desk.init(work).close()
        url = f"sqlite:///{work / '.passmuster' / 'desk.db'}"
        started = time.perf_counter()
        _seed(url, issues)
        print(f"seeded {issues} issues in {time.perf_counter() - started:.1f} s")
        (secret,) = _tokens(url, ["bench-agent"])

        async def over_stdio() -> dict[str, list[float]]:
            async with _stdio(url, work, "stdio-agent") as client:
                return await _latencies(client, issues, calls)

        async def over_http(base: str) -> dict[str, list[float]]:
            async with _http(base, secret) as client:
                return await _latencies(client, issues, calls)

        results = {"MCP stdio": asyncio.run(over_stdio())}
        with _serve(url, work) as base:
            results["MCP HTTP"] = asyncio.run(over_http(base))
        results["CLI process"] = _cli(url, work, options["cli"], issues)
        print(f"\n### Tool-call latency at {issues:,} issues (SQLite), ms")
        print("| over | tool | calls | p50 | p99 | mean |\n|---|---|---:|---:|---:|---:|")
        for label, table in results.items():
            for tool, times in table.items():
                print(_row(label, tool, times))
        print("\nCLI per call / MCP per call (p50):")
        for tool in ("claim", "show", "file"):
            cli = _pct(results["CLI process"][tool], 0.5)
            print(
                f"  {tool}: {cli / _pct(results['MCP stdio'][tool], 0.5):.0f}x stdio, "
                f"{cli / _pct(results['MCP HTTP'][tool], 0.5):.0f}x HTTP"
            )

        print(f"\n### Claims per second, {agents} agents at once, PostgreSQL")
        for how in ("HTTP", "stdio"):
            with _pg_schema() as pg:
                Desk.connect(pg).close()
                _seed(pg, options["queue"], resolved=False)
                if how == "HTTP":
                    secrets = _tokens(pg, [f"agent-{i:02d}" for i in range(agents)])
                    with _serve(pg, work) as base:

                        def connect(i: int, base: str = base, secrets: list[str] = secrets) -> Any:
                            return _http(base, secrets[i])

                        claimed, seconds, _ = asyncio.run(_claims_per_second(connect, agents))
                else:
                    claimed, seconds, _ = asyncio.run(
                        _claims_per_second(lambda i: _stdio(pg, work, f"agent-{i:02d}"), agents)
                    )
                held = Desk.connect(pg)
                try:
                    distinct = len(held.held())
                finally:
                    held.close()
            print(
                f"{how}: {claimed} claims of {options['queue']} issues in {seconds:.2f} s = "
                f"{claimed / seconds:.0f} claims/s; {distinct} issues held (each claimed once: "
                f"{'yes' if distinct == claimed == options['queue'] else 'NO'})"
            )
        load = os.getloadavg()
        print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
