"""Status page benchmark: `/status` with 200 services and a year of probe roll-ups, and badges.

A SQLite desk is seeded with 200 services, each with a monitor target holding what compaction
leaves of a year of probes every 10 s: hour roll-ups, minute roll-ups for the last week, day
roll-ups and the last hour of raw samples, 300 incidents
(some with public updates) and a few maintenance windows. The app is driven in-process through
its ASGI interface (no network), so the figures are the server's: reading, computing the
90-day bars and rendering the HTML. Targets (issue #14): `/status` ≤ 100 ms, a badge ≤ 5 ms.
No peer tool is named for this benchmark.

    python -m bench status [--services 200] [--days 365] [--rounds 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from passmuster.core.catalog import Service
from passmuster.core.issues import IssueDraft, IssueType, Status
from passmuster.core.targets import Target
from passmuster.core.uptime import BAR_DAYS, DAY_MS, HOUR_MS, day_of
from passmuster.storage.engine import write_transaction
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.uptime_store import UptimeStore, rebuild_uptime_days
from passmuster.usecases.desk import Desk
from passmuster.usecases.incident_updates import post_update
from passmuster.usecases.maintenance import schedule

MINUTE_MS = 60_000


def seed(folder: Path, services: int, days: int) -> str:
    url = f"sqlite:///{folder / 'desk.db'}"
    (folder / "passmuster.toml").write_text(
        '[status]\nenabled = true\ntitle = "Bench status"\n'
        '[status.groups]\nEdge = ["svc-000", "svc-001", "svc-002"]\n',
        encoding="utf-8",
    )
    now_ms = int(time.time() * 1000)
    names = [f"svc-{i:03d}" for i in range(services)]
    with Desk.connect(url) as desk:
        for name in names:
            desk.ensure_service(Service(name=name))
        store = MonitorStore(desk.engine)
        store.sync_targets(
            {n: Target(name=n, url=f"http://127.0.0.1:1/{n}", service=n) for n in names}, now_ms
        )
        first_hour = (now_ms - days * DAY_MS) // HOUR_MS * HOUR_MS
        hours = range(first_hour, now_ms - HOUR_MS, HOUR_MS)
        rollup_sql = (
            "INSERT INTO monitor_rollups (target, resolution, bucket, count, ok, latency_sum, "
            "latency_max) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        with write_transaction(desk.engine) as conn:
            for index, name in enumerate(names):
                rows = [
                    (
                        name,
                        "h",
                        bucket,
                        360,
                        360 - (1 if (bucket // HOUR_MS + index) % 97 == 0 else 0),
                        360 * 0.02,
                        0.2,
                    )
                    for bucket in hours
                ]
                # What compaction leaves: hours older than a week, minutes within it.
                week_ago = now_ms - 7 * DAY_MS
                minutes = [
                    (name, "m", bucket + m * MINUTE_MS, 6, 6 - (ok < 360 and m == 0), 0.12, 0.2)
                    for (_, _, bucket, _, ok, _, _) in rows
                    if bucket >= week_ago
                    for m in range(60)
                ]
                conn.exec_driver_sql(rollup_sql, [r for r in rows if r[2] < week_ago])  # type: ignore[arg-type]
                conn.exec_driver_sql(rollup_sql, minutes)  # type: ignore[arg-type]
                by_day: dict[int, list[int]] = {}
                for row in rows:
                    tally = by_day.setdefault(row[2] - row[2] % DAY_MS, [0, 0])
                    tally[0] += row[3]
                    tally[1] += row[4]
                conn.exec_driver_sql(
                    rollup_sql,
                    [(name, "d", d, c, ok, c * 0.02, 0.2) for d, (c, ok) in by_day.items()],  # type: ignore[arg-type]
                )
                conn.exec_driver_sql(
                    "INSERT INTO monitor_samples (target, at, ok, degraded, latency) "
                    "VALUES (?, ?, 1, 0, 0.02)",
                    [(name, now_ms - s * 10_000) for s in range(1, 360)],  # type: ignore[arg-type]
                )
            # What migration 0012 does for a desk with history, and the monitor keeps up as it
            # stores samples: every sample counted by target and day.
            rebuild_uptime_days(conn)
        start = datetime.now(UTC) - timedelta(days=days)
        for n in range(300):
            incident = desk.file(
                IssueDraft(
                    title=f"{names[n % services]} is down",
                    type=IssueType.INCIDENT,
                    services=[names[n % services]],
                    reported_at=start + timedelta(hours=n * days * 24 // 300),
                ),
                actor="monitor",
            )
            if n % 3 == 0:
                post_update(desk, incident.number, "identified", "A bad deploy.", actor="ops")
            if n < 295:
                desk.transition(
                    incident.number,
                    Status.RESOLVED,
                    actor="monitor",
                    fields={"resolution": "Recovered."},
                )
            desk.file(IssueDraft(title=f"bug {n}", services=[names[n % services]]), actor="dev")
        soon = datetime.now(UTC) + timedelta(hours=3)
        for n in range(5):
            schedule(
                desk,
                message=f"Upgrade {n}",
                services=[names[n]],
                starts_at=soon + timedelta(days=n),
                ends_at=soon + timedelta(days=n, hours=1),
                actor="ops",
            )
    return url


def timed(call: object, rounds: int) -> list[tuple[float, float]]:
    """(wall ms, CPU ms) per call. On a shared, loaded machine the wall time mostly measures
    waiting for a core; the process's CPU time is what the work itself costs."""
    times = []
    for _ in range(rounds):
        began, cpu = time.perf_counter(), time.process_time()
        call()  # type: ignore[operator]
        times.append(((time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000))
    return times


def report(name: str, times: list[tuple[float, float]], target: float) -> None:
    wall = statistics.median(t[0] for t in times)
    cpu = statistics.median(t[1] for t in times)
    verdict = "within" if cpu <= target else "OVER"
    print(
        f"{name:<30} wall median {wall:7.2f} ms   CPU median {cpu:7.2f} ms   "
        f"(target {target:g} ms, CPU: {verdict})",
        flush=True,
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench status")
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}, "
        f"{os.cpu_count()} cores",
        flush=True,
    )
    from fastapi.testclient import TestClient

    from passmuster.api.app import create_app
    from passmuster.api.config import ServeSettings

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        url = seed(folder, args.services, args.days)
        with Desk.connect(url) as desk:
            rollups = MonitorStore(desk.engine).counts()["rollups"]
        print(
            f"seeded {args.services} services, {rollups:,} roll-up rows ({args.days} days) "
            f"in {time.perf_counter() - began:.1f} s",
            flush=True,
        )
        # The bars' read, the old way and the new, in the same run: summing a year of day
        # roll-ups and every raw sample (before migration 0012) against the day counts.
        with Desk.connect(url) as desk:
            uptime = UptimeStore(desk.engine)
            since = day_of(int(time.time() * 1000)) - (BAR_DAYS - 1) * DAY_MS
            names = [f"svc-{i:03d}" for i in range(args.services)]
            summed = timed(lambda: uptime.days(since), args.rounds)
            counted = timed(lambda: uptime.bar_days(since, names), args.rounds)
            report("bars: roll-ups + samples summed", summed, 100)
            report("bars: day counts (0012)", counted, 100)
            ratio = statistics.median(t[1] for t in summed) / statistics.median(
                t[1] for t in counted
            )
            print(f"day counts read {ratio:.1f}x less CPU than summing", flush=True)
        app = create_app(ServeSettings(database_url=url, platform_root=folder))
        with TestClient(app) as client:
            # Cold: the new app's first view (templates made, every cache empty).
            began, cpu = time.perf_counter(), time.process_time()
            page = client.get("/status")
            cold = ((time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000)
            assert page.status_code == 200, page.text[:500]
            report("GET /status, first of a new app", [cold], 100)
            assert page.text.count('class="component"') == args.services
            print(
                f"/status page: {len(page.content) / 1024:.0f} KiB of HTML, "
                f"{int(page.headers.get('content-length', 0)) / 1024:.0f} KiB sent "
                f"({page.headers.get('content-encoding', 'identity')})",
                flush=True,
            )
            for path in ("/status", "/status.json", "/status/badges/svc-007/uptime-30d.svg"):
                client.get(path)  # warm
            app.state.status_cache_seconds = 0.0  # computed on every request
            report("GET /status (computed)", timed(lambda: client.get("/status"), args.rounds), 100)
            report(
                "GET /status.json (computed)",
                timed(lambda: client.get("/status.json"), args.rounds),
                100,
            )
            app.state.status_cache_seconds = 3600.0  # as served: at most every 5 s
            client.get("/status")
            report("GET /status (cached)", timed(lambda: client.get("/status"), args.rounds), 100)
            app.state.status_cache_seconds = 0.0
            report(
                "GET /status/feed.atom",
                timed(lambda: client.get("/status/feed.atom"), args.rounds),
                100,
            )
            for kind in ("health", "uptime-24h", "uptime-30d", "response-time"):
                path = f"/status/badges/svc-007/{kind}.svg"
                report(f"GET badge {kind}", timed(lambda p=path: client.get(p), args.rounds * 3), 5)
            # The floor: a route that reads nothing, through the same client and app.
            report(
                "GET /healthz (floor)", timed(lambda: client.get("/healthz"), args.rounds * 3), 5
            )
            report(
                "GET badge platform",
                timed(lambda: client.get("/status/badges/platform.svg"), args.rounds * 3),
                5,
            )
