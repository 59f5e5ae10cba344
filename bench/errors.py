"""Runtime-error ingestion under load: a real `passmuster serve` on one core, Sentry envelopes in.

    python -m bench errors [--seconds 20] [--groups 1000] [--big 1000000] [--postgres URL]

The server process is pinned to one core (`taskset`), the load generator to the other. Events
are shaped like the Python SDK's (a chained stack trace, request, tags, user, release; about
4 KB of JSON) and sent gzip-compressed, one per envelope, each with its own event id, spread
over `--groups` causes (so every event is grouped, counted and stored whole). Figures:

- **throughput**: events per second acknowledged at saturation (64 connections, closed loop),
  and the server's CPU time per event: one core's worth is 1000 / that;
- **latency**: p50/p99 of the envelope endpoint at a fixed 2,000 events/s (open loop), the
  target rate, or at 80 % of the measured saturation when that is lower;
- **peer**: `/healthz` at saturation on the same server, the HTTP stack's own ceiling;
- **--big N**: N events into `--groups` groups, then the database's size and the resident
  memory of the process that recorded them. They go through the server's own writer path
  (`ErrorIntake.record`, batches of 500, events read and grouped as the endpoint does) in this
  process rather than over HTTP, so a million events take minutes rather than an hour on a
  shared machine; the HTTP path is what the figures above measure.

The load generator speaks HTTP/1.1 on raw sockets (keep-alive), so it costs the other core
a small share of what the server spends. Run on SQLite (the embedded default) and, with
`--postgres`, on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

WORK = Path(__file__).resolve().parent / ".work" / "errors"
TARGET_RATE = 2000.0
CONNECTIONS = 64


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory in MB; `VmHWM` for the peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- events -------------------------------------------------------------------------------------


def _template(group: int) -> dict[str, object]:
    """An event of cause `group`: its own exception type and innermost in-app function."""
    frames = [
        {
            "filename": "uvicorn/protocols/http/httptools_impl.py",
            "module": "uvicorn.protocols.http.httptools_impl",
            "function": "run_asgi",
            "lineno": 401,
            "in_app": False,
            "context_line": "result = await app(self.scope, self.receive, self.send)",
        },
        {
            "filename": "starlette/routing.py",
            "module": "starlette.routing",
            "function": "handle",
            "lineno": 74,
            "in_app": False,
            "context_line": "await self.app(scope, receive, send)",
        },
        {
            "filename": "fastapi/routing.py",
            "module": "fastapi.routing",
            "function": "run_endpoint_function",
            "lineno": 212,
            "in_app": False,
            "context_line": "return await dependant.call(**values)",
        },
        {
            "filename": "app/api/orders.py",
            "module": "app.api.orders",
            "function": "create_order",
            "lineno": 58,
            "in_app": True,
            "context_line": "total = pricing.total(order)",
        },
        {
            "filename": "app/pricing.py",
            "module": "app.pricing",
            "function": f"rule_{group}",
            "lineno": 130 + group % 50,
            "in_app": True,
            "context_line": "return table[order.size] * order.quantity",
        },
    ]
    return {
        "level": "error",
        "platform": "python",
        "server_name": "orders-7d9f",
        "release": "orders@2.4.1",
        "environment": "production",
        "transaction": "/api/v1/orders",
        "user": {"id": "user-0"},
        "tags": {"region": "eu-west", "tenant": "acme"},
        "request": {
            "method": "POST",
            "url": "http://orders/api/v1/orders",
            "headers": {"Content-Type": "application/json", "User-Agent": "python-httpx/0.28"},
            "data": {"size": "large", "quantity": 3},
        },
        "contexts": {
            "runtime": {"name": "CPython", "version": "3.12.7"},
            "os": {"name": "Linux", "version": "6.1.0"},
            "trace": {"trace_id": "0" * 32, "span_id": "0" * 16},
        },
        "modules": {f"package-{i}": f"1.{i}.0" for i in range(60)},
        "sdk": {"name": "sentry.python.fastapi", "version": "2.19.0"},
        "exception": {
            "values": [
                {
                    "type": f"PricingError{group}",
                    "value": f"no price for size 'large' in table {group}",
                    "module": "app.pricing",
                    "mechanism": {"type": "starlette", "handled": False},
                    "stacktrace": {"frames": frames},
                }
            ]
        },
    }


class Envelopes:
    """Fresh gzip-compressed envelopes: each its own event id and user, over `groups` causes."""

    def __init__(self, groups: int, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.groups = groups
        # The JSON around the event id is fixed per group; only the id and the user change.
        self.parts = []
        for g in range(groups):
            text = json.dumps(_template(g))
            self.parts.append(
                text.replace('"user-0"', '"user-%d"').replace("{", '{"event_id": "%s", ', 1)
            )

    def next(self, group: int | None = None) -> tuple[str, bytes]:
        if group is None:
            group = self.random.randrange(self.groups)
        event_id = uuid.uuid4().hex
        body = (self.parts[group] % (event_id, self.random.randrange(500))).encode()
        envelope = b'{"event_id":"%s"}\n{"type":"event","length":%d}\n%s\n' % (
            event_id.encode(),
            len(body),
            body,
        )
        packer = zlib.compressobj(1, zlib.DEFLATED, 31)
        return event_id, packer.compress(envelope) + packer.flush()


# --- a small HTTP/1.1 client on raw sockets -----------------------------------------------------


@dataclass
class Run:
    ok: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


def _post(path: str, key: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"X-Sentry-Auth: Sentry sentry_version=7, sentry_key={key}, sentry_client=bench/1\r\n"
        "Content-Type: application/x-sentry-envelope\r\nContent-Encoding: gzip\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _closed_loop(
    port: int, make: object, seconds: float, connections: int, limit: int | None = None
) -> Run:
    run = Run()
    deadline = time.perf_counter() + seconds
    sent = 0

    async def one() -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline and (limit is None or sent < limit):
                sent += 1
                request = make()  # type: ignore[operator]
                start = time.perf_counter()
                status = await _exchange(reader, writer, request)
                run.latencies_ms.append((time.perf_counter() - start) * 1000)
                run.statuses[status] = run.statuses.get(status, 0) + 1
                if status == 200:
                    run.ok += 1
                else:
                    run.errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))
    return run


async def _open_loop(port: int, make: object, rate: float, seconds: float) -> Run:
    """Requests started at a fixed rate, whatever the answers' pace (latency without
    coordinated omission), over a pool of connections."""
    run = Run()
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    tasks = []

    async def one(planned: float, request: bytes) -> None:
        reader, writer = await pool.get()
        try:
            status = await _exchange(reader, writer, request)
        finally:
            pool.put_nowait((reader, writer))
        run.latencies_ms.append((time.perf_counter() - planned) * 1000)
        run.statuses[status] = run.statuses.get(status, 0) + 1
        if status == 200:
            run.ok += 1
        else:
            run.errors += 1

    start = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        planned = start + i / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(planned, make())))  # type: ignore[operator]
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait()[1].close()
    return run


# --- the server ---------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    project: int
    key: str


def _start(database_url: str, folder: Path, core: str) -> Server:
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.ingest_keys import IngestKeys

    with Desk.connect(database_url) as desk:
        dsn = IngestKeys(desk).dsn_for("orders", actor="bench")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {
        **os.environ,
        "PASSMUSTER_DATABASE_URL": database_url,
        "PASSMUSTER_INGEST_RATE": "0",
    }
    command = [
        sys.executable,
        "-m",
        "passmuster",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    if shutil.which("taskset"):
        command = ["taskset", "-c", core, *command]
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    # Pinned to one core of a busy machine, a server on a fresh PostgreSQL schema has taken
    # more than 30 s to answer (imports, migrations, start-up jobs); it is not what is measured.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return Server(process, port, dsn.project_id, dsn.public_key)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit((folder / "serve.log").read_text())


def _stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()


def _database_size(database_url: str, folder: Path) -> float:
    """MB on disk: the SQLite file and its WAL, or the PostgreSQL schema's relations."""
    if database_url.startswith("sqlite"):
        return sum(p.stat().st_size for p in folder.glob("desk.db*")) / 1e6
    import psycopg

    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    schema = (
        plain.split("search_path%3D", 1)[1].split("&", 1)[0]
        if "search_path%3D" in plain
        else "public"
    )
    with psycopg.connect(plain.split("?", 1)[0]) as conn:
        row = conn.execute(
            "select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind in ('r', 'm')",
            (schema,),
        ).fetchone()
    return float(row[0] if row else 0) / 1e6


def measure(database_url: str, folder: Path, args: argparse.Namespace) -> None:
    server = _start(database_url, folder, core="0")
    envelopes = Envelopes(args.groups)
    path = f"/api/{server.project}/envelope/"

    def make() -> bytes:
        return _post(path, server.key, envelopes.next()[1])

    healthz = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    try:
        # Warm up: every group made once, so the figures are of counting, not filing.
        groups = iter(range(args.groups))

        def each_group() -> bytes:
            return _post(path, server.key, envelopes.next(next(groups, 0))[1])

        asyncio.run(_closed_loop(server.port, each_group, 600, 16, limit=args.groups))
        cpu0, t0 = cpu_seconds(server.process.pid), time.perf_counter()
        saturated = asyncio.run(_closed_loop(server.port, make, args.seconds, CONNECTIONS))
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(server.process.pid) - cpu0
        rate = saturated.ok / wall
        print(
            f"  saturation: {saturated.ok} events in {wall:.1f} s = {rate:,.0f} events/s "
            f"(server CPU {cpu / max(saturated.ok, 1) * 1000:.3f} ms/event = "
            f"{saturated.ok / max(cpu, 1e-9):,.0f} events per CPU-second); "
            f"p50 {saturated.pct(50):.1f} ms p99 {saturated.pct(99):.1f} ms; "
            f"statuses {saturated.statuses}",
            flush=True,
        )
        paced_rate = TARGET_RATE if rate >= TARGET_RATE else round(rate * 0.8)
        paced = asyncio.run(_open_loop(server.port, make, paced_rate, min(args.seconds, 15)))
        print(
            f"  at {paced_rate:,.0f} events/s (open loop): p50 {paced.pct(50):.1f} ms, "
            f"p99 {paced.pct(99):.1f} ms, max {max(paced.latencies_ms):.1f} ms; "
            f"statuses {paced.statuses}",
            flush=True,
        )
        peer = asyncio.run(_closed_loop(server.port, lambda: healthz, 5, CONNECTIONS))
        print(
            f"  peer /healthz: {peer.ok / 5:,.0f} req/s; ingestion is "
            f"{rate / (peer.ok / 5):.2f}x the HTTP stack's ceiling",
            flush=True,
        )
        print(
            f"  server RSS at the end: {rss_mb(server.process.pid):.0f} MB "
            f"(peak {rss_mb(server.process.pid, 'VmHWM'):.0f} MB); "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    finally:
        _stop(server)
    from passmuster.storage import error_store
    from passmuster.usecases.desk import Desk

    with Desk.connect(database_url) as desk:
        groups = desk.read(lambda c: error_store.groups(c))
        total = sum(g.event_count for g in groups)
        print(
            f"  desk: {len(groups)} groups, {total:,} events counted, {desk.count()} issues",
            flush=True,
        )
    print(f"  database size: {_database_size(database_url, folder):.1f} MB", flush=True)


def big_run(database_url: str, folder: Path, total: int, groups: int) -> None:
    """`total` events into `groups` groups through the writer path; size and memory after."""
    from passmuster.core.envelopes import decode_body, event_id_of, parse_envelope
    from passmuster.core.error_events import read_event
    from passmuster.core.grouping import group
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.ingest_keys import IngestKeys
    from passmuster.usecases.runtime_errors import ErrorIntake, Incoming

    envelopes = Envelopes(groups)
    with Desk.connect(database_url) as desk:
        dsn = IngestKeys(desk).dsn_for("orders", actor="bench")
        intake = ErrorIntake(desk)
        start = time.perf_counter()
        cpu0 = time.process_time()
        done = 0
        while done < total:
            batch = []
            for _ in range(min(500, total - done)):
                data = decode_body(envelopes.next()[1], "gzip", limit=20 * 1024 * 1024)
                envelope = parse_envelope(data)
                [payload] = envelope.events()
                event = read_event(payload, event_id_of(payload, envelope.headers))
                raw = envelope.items[0].payload
                batch.append(Incoming(dsn.project_id, "orders", event, group(event), raw))
            intake.record(batch)
            done += len(batch)
            if done % 100_000 == 0:
                print(
                    f"    {done:,} events, {time.perf_counter() - start:.0f} s, "
                    f"RSS {rss_mb(os.getpid()):.0f} MB, "
                    f"database {_database_size(database_url, folder):.0f} MB",
                    flush=True,
                )
        took = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        from passmuster.storage import error_store

        found = desk.read(lambda c: error_store.groups(c))
        counted = sum(g.event_count for g in found)
        print(
            f"  big: {done:,} events into {len(found)} groups ({counted:,} counted, "
            f"{desk.count()} issues) in {took:.0f} s = {done / took:,.0f} events/s "
            f"({cpu / done * 1000:.3f} ms CPU per event, reading included); "
            f"RSS {rss_mb(os.getpid()):.0f} MB (peak {rss_mb(os.getpid(), 'VmHWM'):.0f} MB); "
            f"database {_database_size(database_url, folder):.0f} MB; "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench errors")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument(
        "--big", type=int, default=0, help="only the size run: this many events in all"
    )
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL to run against too")
    parser.add_argument("--only-postgres", action="store_true")
    args = parser.parse_args(argv)
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}, "
        f"{os.cpu_count()} cores",
        flush=True,
    )
    targets = [] if args.only_postgres else ["sqlite"]
    if args.postgres:
        targets.append("postgres")
    for target in targets:
        # Each kind of run its own folder: a throughput run starting while a size run is going
        # would otherwise delete the size run's desk under it.
        folder = WORK / (f"{target}-big" if args.big else target)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if target == "sqlite":
            url = f"sqlite:///{folder / 'desk.db'}"
        else:
            url = _fresh_schema(args.postgres)
        print(f"{target}:", flush=True)
        if args.big:
            big_run(url, folder, args.big, args.groups)
        else:
            measure(url, folder, args)


def _fresh_schema(base: str) -> str:
    import psycopg

    schema = f"bench_errors_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    url = base.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


if __name__ == "__main__":
    main(sys.argv[1:])
