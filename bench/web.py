"""Web and API under load: a real `passmuster serve` process on loopback, an async load generator.

    python -m bench web [--issues 10000] [--services 1000] [--requests 2000]

The desk is bulk-seeded with 10,000 issues over 1,000 services (SQLite, the embedded default).
Then, against one server process: requests per second and p50/p99 latency for GET issue, a
filtered list and POST issue (the POST paced at a fixed 200 requests/s, open loop), and the
time of the board and services pages. Pages are timed one request at a time on loopback, where
the client adds well under a millisecond: that is the server's time. Start-up (process start
to the first `/healthz` answer, with the server's CPU time by then) and `/healthz` itself are
measured too, and so is the first filtered list each fresh server answers (the first request to
the API builds the routes of the routers before it: web/lazy_routes.py). There is no peer tool
for a desk's dashboard; the ratios printed are against the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

import passmuster

WORK = Path(__file__).resolve().parent / ".work" / "web"
# GET issue measures throughput (16 in flight); the filtered list's target is a latency, so it
# runs with 4 in flight, a few dashboards and agents at once, rather than measuring a queue.
GET_CONCURRENCY = 16
LIST_CONCURRENCY = 4
TARGETS = {
    "board page": 200.0,
    "services page": 200.0,
    "POST issue p99 @200/s": 20.0,
    "filtered list p99": 50.0,
    "/healthz": 10.0,
    "start-up": 500.0,
}


@dataclass
class Figures:
    name: str
    count: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    cpu_ms: float = float("nan")  # the server process's CPU time per request

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def line(self) -> str:
        return (
            f"{self.name:<28} {self.count:>6} req  {self.rps:>8.0f} req/s  "
            f"p50 {self.pct(50):>7.2f} ms  p99 {self.pct(99):>7.2f} ms  "
            f"server CPU {self.cpu_ms:>5.2f} ms/req  errors {self.errors}"
        )


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Metered:
    """Charges the server's CPU time during a phase to that phase's requests."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def __call__(self, figures: Figures, before: float) -> Figures:
        used = cpu_seconds(self.pid) - before
        figures.cpu_ms = used * 1000 / max(figures.count, 1)
        return figures


def seed(url: str, issues: int, services: int) -> None:
    from passmuster.core.catalog import Service
    from passmuster.core.issues import IssueDraft, IssueType, Severity, Status
    from passmuster.usecases.desk import Desk

    rng = random.Random(7)
    desk = Desk.connect(url)
    names = [f"svc-{i:04d}" for i in range(services)]
    for i, name in enumerate(names):
        needs = rng.sample(names[:i], k=min(i, rng.randint(0, 3)))
        desk.ensure_service(Service(name=name, depends_on=needs, kind="service"))
    now = datetime.now(UTC)
    statuses = [Status.OPEN] * 4 + [Status.IN_PROGRESS, Status.BLOCKED, Status.PLANNED]
    statuses += [Status.RESOLVED] * 3
    batch: list[IssueDraft] = []
    for n in range(issues):
        status = rng.choice(statuses)
        reported = now - timedelta(days=rng.uniform(0, 365))
        batch.append(
            IssueDraft(
                title=f"{rng.choice(['Timeout', 'Crash', '502', 'Slow query', 'Bad pin'])} "
                f"in {rng.choice(names)} #{n}",
                type=rng.choice(list(IssueType)),
                severity=rng.choice(list(Severity)),
                status=status,
                services=rng.sample(names, k=rng.randint(1, 3)),
                reported_at=reported,
                resolved_at=reported + timedelta(hours=rng.uniform(0.5, 200))
                if status is Status.RESOLVED
                else None,
                description="Seeded for the web benchmark.",
            )
        )
        if len(batch) == 500:
            desk.file_many(batch, actor="bench")
            batch = []
    if batch:
        desk.file_many(batch, actor="bench")
    desk.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, cwd: Path) -> tuple[subprocess.Popen[bytes], str, float, float]:
    """The server process, its base URL, and the wall and CPU milliseconds to the first /healthz."""
    port = free_port()
    # As installed: PYTHONDONTWRITEBYTECODE would make every start compile passmuster from source.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PASSMUSTER_DATABASE_URL"] = url
    # The passmuster this benchmark imported (a worktree's, given first on PYTHONPATH), not the
    # installed one: the server runs in another folder, where a relative path would not hold.
    source = str(Path(passmuster.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "passmuster",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(cwd / f"serve-{port}.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    with httpx.Client() as client:
        while time.perf_counter() - started < 60:
            try:
                if client.get(f"{base}/healthz", timeout=1).status_code == 200:
                    wall = (time.perf_counter() - started) * 1000
                    return process, base, wall, cpu_seconds(process.pid) * 1000
            except httpx.HTTPError:
                time.sleep(0.005)
    process.kill()
    raise SystemExit(f"server did not start; see {cwd}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


async def closed_loop(
    name: str, client: httpx.AsyncClient, make: object, count: int, concurrency: int
) -> Figures:
    """`count` requests, at most `concurrency` in flight."""
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        nonlocal errors
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            method, path, body = make(i)  # type: ignore[operator]
            t = time.perf_counter()
            try:
                response = await client.request(method, path, json=body)
            except httpx.HTTPError:
                errors += 1
                continue
            latencies.append((time.perf_counter() - t) * 1000)
            if response.status_code >= 400:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Figures(name, count, time.perf_counter() - started, latencies, errors)


async def open_loop(
    name: str, client: httpx.AsyncClient, make: object, count: int, rate: float
) -> Figures:
    """`count` requests sent at a fixed `rate` per second whatever the answers take."""
    latencies: list[float] = []
    errors = 0

    async def one(i: int) -> None:
        nonlocal errors
        method, path, body = make(i)  # type: ignore[operator]
        t = time.perf_counter()
        try:
            response = await client.request(method, path, json=body)
        except httpx.HTTPError:
            errors += 1
            return
        latencies.append((time.perf_counter() - t) * 1000)
        if response.status_code >= 400:
            errors += 1

    started = time.perf_counter()
    tasks = []
    for i in range(count):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return Figures(name, count, time.perf_counter() - started, latencies, errors)


def sequential(name: str, client: httpx.Client, path: str, count: int) -> Figures:
    latencies = []
    errors = 0
    started = time.perf_counter()
    for _ in range(count):
        t = time.perf_counter()
        response = client.get(path)
        latencies.append((time.perf_counter() - t) * 1000)
        errors += response.status_code >= 400
    return Figures(name, count, time.perf_counter() - started, latencies, errors)


async def api_load(base: str, token: str, requests: int, issues: int, pid: int) -> list[Figures]:
    meter = Metered(pid)
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    rng = random.Random(11)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as c:
        await c.get("/api/v1/issues/1")
        before = cpu_seconds(pid)
        get_issue = await closed_loop(
            "GET issue",
            c,
            lambda i: ("GET", f"/api/v1/issues/{rng.randint(1, issues)}", None),
            requests,
            GET_CONCURRENCY,
        )
        meter(get_issue, before)
        services = [f"svc-{i:04d}" for i in range(0, 1000, 7)]
        before = cpu_seconds(pid)
        listed = await closed_loop(
            "filtered list",
            c,
            lambda i: (
                "GET",
                f"/api/v1/issues?status=open&severity=high&service={services[i % len(services)]}"
                "&sort=urgency&limit=50",
                None,
            ),
            requests // 2,
            LIST_CONCURRENCY,
        )
        meter(listed, before)
        before = cpu_seconds(pid)
        posted = await open_loop(
            "POST issue @200/s",
            c,
            lambda i: (
                "POST",
                "/api/v1/issues",
                {"title": f"Bench issue {i}", "severity": "high", "services": ["svc-0001"]},
            ),
            min(requests, 2000),
            200.0,
        )
        meter(posted, before)
    return [get_issue, listed, posted]


def pages(base: str, token: str, count: int, pid: int) -> list[Figures]:
    import re

    with httpx.Client(base_url=base, timeout=60) as client:
        form = client.get("/login").text
        match = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert match
        client.post("/login", data={"token": token, "csrf_token": match.group(1)})
        meter = Metered(pid)
        out = []
        for name, path, n in (
            ("board page (first)", "/board", 1),
            ("board page", "/board", count),
            ("services page", "/services", count),
            ("issue list page", "/issues?status=open", count),
            ("/healthz", "/healthz", count * 10),
        ):
            before = cpu_seconds(pid)
            out.append(meter(sequential(name, client, path, n), before))
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench web")
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--services", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--page-requests", type=int, default=20)
    parser.add_argument("--startups", type=int, default=3, help="fresh servers started and timed")
    args = parser.parse_args([a for a in argv if a.startswith("--")])

    from passmuster.usecases.desk import Desk
    from passmuster.usecases.tokens import TokenStore

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    url = f"sqlite:///{WORK / 'desk.db'}"
    t = time.perf_counter()
    seed(url, args.issues, args.services)
    print(f"passmuster from {Path(passmuster.__file__).resolve().parents[1]}", flush=True)
    print(
        f"seeded {args.issues} issues over {args.services} services in "
        f"{time.perf_counter() - t:.1f} s",
        flush=True,
    )
    desk = Desk.connect(url)
    _, token = TokenStore(desk.engine).create("bench", "admin", created_by="bench")
    desk.close()

    startups, startup_cpus, first_lists = [], [], []
    first_list = "/api/v1/issues?status=open&severity=high&service=svc-0001&sort=urgency&limit=50"
    for _ in range(args.startups):
        process, base, ms, cpu_ms = start_server(url, WORK)
        startups.append(ms)
        startup_cpus.append(cpu_ms)
        t = time.perf_counter()
        httpx.get(f"{base}{first_list}", headers={"Authorization": f"Bearer {token}"}, timeout=60)
        first_lists.append((time.perf_counter() - t) * 1000)
        stop(process)
    process, base, _, _ = start_server(url, WORK)
    try:
        figures = asyncio.run(api_load(base, token, args.requests, args.issues, process.pid))
        figures += pages(base, token, args.page_requests, process.pid)
    finally:
        stop(process)

    load = os.getloadavg()[0]
    print(f"machine load average at the end of the run: {load:.1f} on {os.cpu_count()} cores")
    print(
        f"{'start-up (to /healthz)':<28} median {statistics.median(startups):.0f} ms "
        f"(runs: {', '.join(f'{s:.0f}' for s in startups)}), server CPU by then "
        f"{statistics.median(startup_cpus):.0f} ms (runs: "
        f"{', '.join(f'{s:.0f}' for s in startup_cpus)})"
    )
    print(
        f"{'first filtered list':<28} median {statistics.median(first_lists):.0f} ms "
        f"(runs: {', '.join(f'{s:.0f}' for s in first_lists)})"
    )
    for f in figures:
        print(f.line())
    by_name = {f.name: f for f in figures}
    checks = [
        ("board page", by_name["board page"].pct(50)),
        ("services page", by_name["services page"].pct(50)),
        ("POST issue p99 @200/s", by_name["POST issue @200/s"].pct(99)),
        ("filtered list p99", by_name["filtered list"].pct(99)),
        ("/healthz", by_name["/healthz"].pct(50)),
        ("start-up", statistics.median(startups)),
    ]
    print("\nagainst the targets (measured / target; ≤ 1.00 meets it):")
    for name, value in checks:
        target = TARGETS[name]
        mark = "ok" if value <= target else "MISSED"
        print(f"  {name:<24} {value:>8.1f} ms / {target:>5.0f} ms = {value / target:5.2f}  {mark}")


if __name__ == "__main__":
    main(sys.argv[1:])
