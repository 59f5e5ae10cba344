"""Tracker store, in process: create, filtered list and full-text search at 1k/10k/100k issues,
and 16 processes filing at once, on SQLite and PostgreSQL.

    python -m bench tracker                 # everything (a few minutes)
    python -m bench tracker --quick         # 1k and 10k only, 16 × 100 concurrency
    python -m bench tracker --sqlite-only   # skip PostgreSQL
    python -m bench tracker --reports       # stats and sla at 100k, SQL beside Python (minutes)
    python -m bench tracker --reports --keep-desks=DIR   # the same, the 100k desks kept in DIR

Building the 100k desks for `--reports` takes most of its time (about 35 s on SQLite and
100-130 s on PostgreSQL). `--keep-desks=DIR` keeps them for the next run: the SQLite desk as a
file in DIR, the PostgreSQL one as a schema of the test database named after DIR, each with a
record in DIR of the schema revision and the bench's recipe it was built with and of the moment
its issues were filed (the reports are asked 30 days after it, as on a fresh desk). A desk whose
revision or recipe differs from this tree's, or whose record is missing, is dropped and built
again; the reports only read, so a kept desk stays as it was built.

The peer is the bare database driver doing the least a tracker could do per operation (one
INSERT and COMMIT through sqlite3 / psycopg, no events, no index, no search): the ratio shows what
the desk's bookkeeping costs. Setup loads issues through `Desk.file_many` (the real write path,
1,000 per transaction); only the measured creates go one issue per transaction. After loading,
PostgreSQL gets the VACUUM ANALYZE its autovacuum would run shortly after such a load; SQLite
gets nothing (the desk's indexes are chosen to plan well without statistics).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from passmuster.core.issues import (
    IssueDraft,
    IssueQuery,
    IssueType,
    Priority,
    Severity,
    Status,
)
from passmuster.core.sla import SlaStatus, sla_horizon, sla_report
from passmuster.core.stats import Stats, compute_stats
from passmuster.storage import issue_store, timeline_store
from passmuster.storage.migrate import HEAD
from passmuster.usecases.desk import Desk

PG_BASE = os.environ.get("PASSMUSTER_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
SERVICES = [f"svc-{n:02d}" for n in range(40)]
# Issue text follows Zipf's law like real prose: a few words are everywhere, most are rare.
DOMAIN_WORDS = [
    "error",
    "service",
    "the",
    "failed",
    "timeout",
    "connection",
    "refused",
    "import",
    "port",
    "conflict",
    "migration",
    "schema",
    "token",
    "session",
    "redis",
    "postgres",
    "queue",
    "worker",
    "gateway",
    "health",
    "probe",
    "latency",
    "memory",
    "leak",
    "driver",
    "build",
    "docker",
    "compose",
    "network",
    "dns",
    "certificate",
    "expired",
    "retry",
    "backoff",
    "cache",
    "invalidation",
    "deadlock",
    "index",
]
VOCABULARY = DOMAIN_WORDS + [f"w{n:x}" for n in range(6_000)]
CUM_WEIGHTS = list(itertools.accumulate(1.0 / (rank + 2) for rank in range(len(VOCABULARY))))
# A common word, a mid one, a rare one and one exact case (match counts are printed).
SEARCHES = ("conflict", "w3e8", "w1388", "case 4242")
STATUSES = [Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED, Status.BLOCKED]
SEVERITIES = list(Severity)


def _text(rng: random.Random, count: int) -> str:
    return " ".join(rng.choices(VOCABULARY, cum_weights=CUM_WEIGHTS, k=count))


# Finished issues carry the times a desk with history has: reported in the year before the
# bench, mostly acknowledged within hours, resolved hours to weeks later. The statistics then
# work out resolution and acknowledgement times over tens of thousands of issues, as on a real
# desk, instead of over none.
_HISTORY_END = datetime.now(UTC) - timedelta(days=1)


def _history(
    rng: random.Random, status: Status
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(reported, acknowledged, resolved) for an issue filed in `status`."""
    if status not in (Status.RESOLVED, Status.CLOSED):
        return None, None, None
    reported = _HISTORY_END - timedelta(hours=rng.uniform(0, 365 * 24))
    resolved = reported + timedelta(hours=rng.expovariate(1 / 72))
    acknowledged = None
    if rng.random() < 0.8:
        acknowledged = min(resolved, reported + timedelta(minutes=rng.expovariate(1 / 90)))
    return reported, acknowledged, resolved


def _draft(rng: random.Random, n: int) -> IssueDraft:
    words = _text(rng, 2).split()
    status = rng.choice(STATUSES)
    reported, acknowledged, resolved = _history(rng, status)
    return IssueDraft(
        title=f"{words[0].title()} {words[1]} in {rng.choice(SERVICES)} (case {n})",
        type=rng.choice(list(IssueType)),
        severity=rng.choice(SEVERITIES),
        priority=rng.choice([None, *Priority]),
        status=status,
        close_reason=None if status is not Status.CLOSED else _wont_fix(),
        services=rng.sample(SERVICES, rng.randint(1, 3)),
        labels=rng.sample(["deps", "security", "ports", "auth", "db"], rng.randint(0, 2)),
        description=_text(rng, 40),
        error_details=[_text(rng, 12)],
        resolution="restarted and pinned" if status is Status.RESOLVED else "",
        reported_at=reported,
        acknowledged_at=acknowledged,
        resolved_at=resolved,
    )


def _wont_fix() -> Any:
    from passmuster.core.issues import CloseReason

    return CloseReason.WONT_FIX


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.2f} ms"


def _time(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm caches and statement compilation
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _time_cpu(fn: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """Wall times and this process's CPU times of `repeat` calls (after one warm-up). On a
    machine shared with others, the CPU time is what the load does not add to; it leaves out
    the PostgreSQL server's own work."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        start, used = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - used)
    return wall, cpu


@contextmanager
def _sqlite_url() -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="passmuster-bench-"))
    try:
        yield f"sqlite:///{folder / 'desk.db'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _pg_url() -> Iterator[str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    sep = "&" if "?" in PG_BASE else "?"
    try:
        yield f"{PG_BASE}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'drop schema "{schema}" cascade')


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_BASE, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception:
        return False
    return True


# --- the peer: a bare driver insert -----------------------------------------------------------


def _bare_sqlite_insert(repeat: int) -> list[float]:
    folder = Path(tempfile.mkdtemp(prefix="passmuster-bench-bare-"))
    try:
        conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("create table t (id integer primary key, title text, body text)")

        def one() -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("insert into t (title, body) values (?, ?)", ("a title", "a body"))
            conn.execute("COMMIT")

        result = _time(one, repeat)
        conn.close()
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _bare_pg_insert(url: str, repeat: int) -> list[float]:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        conn.execute("create table bare_t (id serial primary key, title text, body text)")
        conn.commit()

        def one() -> None:
            conn.execute("insert into bare_t (title, body) values (%s, %s)", ("a title", "a body"))
            conn.commit()

        return _time(one, repeat)


# --- in-process operations --------------------------------------------------------------------


def _load(desk: Desk, rng: random.Random, upto: int) -> float:
    """Bring the desk to `upto` issues; returns seconds spent."""
    start = time.perf_counter()
    have = desk.count()
    batch = 1_000
    while have < upto:
        size = min(batch, upto - have)
        desk.file_many([_draft(rng, have + i) for i in range(size)], actor="loader")
        have += size
    return time.perf_counter() - start


def _settle(desk: Desk) -> None:
    """VACUUM ANALYZE after a bulk load: what autovacuum does shortly after on a live server."""
    with desk.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("VACUUM ANALYZE")


def _measure(desk: Desk, rng: random.Random) -> dict[str, list[float]]:
    creates: list[float] = []
    for n in range(200):
        draft = _draft(rng, -n)
        start = time.perf_counter()
        desk.file(draft, actor="bench")
        creates.append(time.perf_counter() - start)
    queries = [
        IssueQuery(statuses=[Status.OPEN], severities=[Severity.HIGH], sort="urgency", limit=50),
        IssueQuery(services=["svc-07"], active_only=True, sort="-updated", limit=50),
        IssueQuery(labels=["security"], statuses=[Status.IN_PROGRESS], limit=50),
    ]
    lists: list[float] = []
    for query in queries:
        lists += _time(lambda q=query: desk.issues(q), 10)  # type: ignore[misc]
    counts = _time(lambda: desk.count(IssueQuery(active_only=True)), 5)
    searches: list[float] = []
    for text in SEARCHES:
        searches += _time(lambda t=text: desk.search(t), 10)  # type: ignore[misc]
    return {"create": creates, "list": lists, "count": counts, "search": searches}


def _run_sizes(name: str, url: str, sizes: tuple[int, ...], rows: list[str]) -> None:
    rng = random.Random(7)
    with Desk.connect(url) as desk:
        desk.sla_policy  # noqa: B018 - read the config before timing anything
        for size in sizes:
            spent = _load(desk, rng, size)
            if name == "postgresql":
                _settle(desk)
            figures = _measure(desk, rng)
            hits = "/".join(str(desk.count(IssueQuery(text=t))) for t in SEARCHES)
            # Whole-desk reports: stats reads every issue; sla only those old enough to be at
            # risk, so it is also timed a month ahead, when every active issue is.
            stats = _time(desk.stats, 1)
            sla = _time(desk.sla, 3)
            ahead = desk.clock() + timedelta(days=30)
            sla_late = _time(lambda at=ahead: desk.sla(now=at), 1)  # type: ignore[misc]
            line = (
                f"{name:10s} {size:>7,} issues  create {_ms(figures['create'])}  "
                f"list(50) {_ms(figures['list'])}  count {_ms(figures['count'])}  "
                f"search {_ms(figures['search'])}  stats {_ms(stats)}  sla {_ms(sla)}  "
                f"sla+30d {_ms(sla_late)}  (matches {hits}; load {spent:5.1f} s)"
            )
            print(line, flush=True)
            rows.append(line)


# --- concurrency ------------------------------------------------------------------------------


def _filer(url: str, worker: int, count: int, barrier: Any, errors: Any) -> None:
    try:
        with Desk.open(url) as desk:
            barrier.wait(timeout=120)
            for n in range(count):
                desk.file(IssueDraft(title=f"worker {worker} issue {n}"), actor=f"agent-{worker}")
    except BaseException as exc:  # reported to the parent, which prints it
        errors.put(f"worker {worker}: {type(exc).__name__}: {exc}")


def _concurrency(name: str, url: str, processes: int, per_process: int, rows: list[str]) -> None:
    Desk.connect(url).close()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes + 1)
    errors = context.Queue()
    workers = [
        context.Process(target=_filer, args=(url, w, per_process, barrier, errors))
        for w in range(processes)
    ]
    for process in workers:
        process.start()
    barrier.wait(timeout=120)
    start = time.perf_counter()
    for process in workers:
        process.join()
    spent = time.perf_counter() - start
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    with Desk.open(url) as desk:
        numbers = sorted(i.number for i in desk.issues())
    total = processes * per_process
    ok = numbers == list(range(1, total + 1)) and not problems
    line = (
        f"{name:10s} {processes} processes × {per_process:,} issues: {len(numbers):,} filed, "
        f"numbers {'unique and gap-free' if ok else 'WRONG'}, {len(problems)} errors, "
        f"{spent:5.1f} s ({total / spent:,.0f} issues/s)"
    )
    print(line, flush=True)
    for problem in problems[:5]:
        print("   ", problem)
    rows.append(line)


# --- whole-desk reports: SQL over the timeline sums beside the Python evaluation -------------


def _python_stats(desk: Desk) -> Stats:
    """`stats` as it was computed before the sums: every issue and timeline read and evaluated."""
    with desk.engine.connect() as c:
        query = IssueQuery()
        found = issue_store.issue_summaries(c, query, with_services=True)
        timelines = issue_store.timelines(c, query, kinds=("created", "status", "acknowledged"))
    return compute_stats(found, timelines, desk.sla_policy, now=desk.clock())


def _python_sla(desk: Desk, now: datetime) -> list[SlaStatus]:
    """`sla` as it was computed before the sums: the issues past their horizon, in Python."""
    with desk.engine.connect() as c:
        horizon = sla_horizon(desk.sla_policy, now=now)
        kinds = ("created", "status", "acknowledged", "escalated")
        found, timelines = timeline_store.sla_candidates(c, horizon, kinds=kinds)
    return sla_report(found, timelines, desk.sla_policy, now=now)


def _some_timelines(desk: Desk, rng: random.Random, changes: int) -> None:
    """Acknowledge and move a few thousand issues, so some timelines have several segments."""
    total = desk.count()
    for _ in range(changes):
        number = rng.randint(1, total)
        issue = desk.get(number)
        if not issue.status.is_active:
            continue
        if rng.random() < 0.5:
            desk.acknowledge(number, actor="bench")
        else:
            target = Status.BLOCKED if issue.status is not Status.BLOCKED else Status.IN_PROGRESS
            desk.transition(number, target, actor="bench")


class _FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


# What a kept desk was built by: bump it when the desk the bench builds changes (issues, their
# timelines), so kept desks built the old way are built again.
REPORTS_RECIPE = (
    "2: seed 7, file_many by 1,000, finished issues with report, acknowledgement and resolution "
    "times, 2,000 timeline changes"
)


def _build_reports_desk(name: str, url: str, size: int) -> tuple[datetime, float]:
    """File `size` issues and change some timelines; returns the moment after it and the
    seconds spent."""
    rng = random.Random(7)
    start = time.perf_counter()
    with Desk.connect(url) as desk:
        _load(desk, rng, size)
        _some_timelines(desk, rng, 2_000)
        if name == "postgresql":
            _settle(desk)
        return desk.clock(), time.perf_counter() - start


@contextmanager
def _fresh_reports_desk(
    name: str, make_url: Callable[[], Any], size: int
) -> Iterator[tuple[str, datetime, str]]:
    with make_url() as url:
        filed, spent = _build_reports_desk(name, url, size)
        yield url, filed, f"built in {spent:5.1f} s"


def _kept_pg_schema(keep: Path, size: int) -> str:
    # Named after the folder, so two folders keep two desks in the one test database.
    digest = hashlib.sha1(str(keep.resolve()).encode()).hexdigest()[:10]
    return f"bench_kept_{digest}_{size}"


def _desk_revision(url: str) -> str | None:
    """The schema revision the desk at `url` records, None if there is none."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None
    finally:
        engine.dispose()


@contextmanager
def _kept_reports_desk(name: str, size: int, keep: Path) -> Iterator[tuple[str, datetime, str]]:
    """The desk kept in `keep` for `name` and `size` if it was built at this schema revision by
    this recipe; else it is dropped and built again, and kept."""
    import psycopg

    keep.mkdir(parents=True, exist_ok=True)
    record = keep / f"{name}-{size}.json"
    if name == "sqlite":
        path = keep / f"{name}-{size}.db"
        url = f"sqlite:///{path}"
    else:
        schema = _kept_pg_schema(keep, size)
        sep = "&" if "?" in PG_BASE else "?"
        url = f"{PG_BASE}{sep}options=-csearch_path%3D{schema}"
    try:
        kept = json.loads(record.read_text())
    except (OSError, ValueError):
        kept = {}
    wanted = {"revision": HEAD, "recipe": REPORTS_RECIPE, "size": size}
    exists = name != "sqlite" or path.is_file()
    if all(kept.get(k) == v for k, v in wanted.items()) and exists and _desk_revision(url) == HEAD:
        filed = datetime.fromisoformat(kept["filed"])
        yield url, filed, f"kept in {keep}, built in {kept['seconds']:5.1f} s"
        return
    if kept:
        print(f"{name}: the desk kept in {keep} is stale ({kept.get('revision')}); building again")
    record.unlink(missing_ok=True)
    if name == "sqlite":
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
    else:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'drop schema if exists "{schema}" cascade')
            conn.execute(f'create schema "{schema}"')
    filed, spent = _build_reports_desk(name, url, size)
    record.write_text(json.dumps({**wanted, "filed": filed.isoformat(), "seconds": spent}))
    yield url, filed, f"built in {spent:5.1f} s, kept in {keep}"


def _reports(name: str, url: str, filed: datetime, built: str, rows: list[str]) -> None:
    from passmuster.web import views

    with Desk.connect(url) as desk:
        desk.sla_policy  # noqa: B018 - read the config before timing anything
        # A month after filing every active issue's clocks have run out: the worst case, each
        # one listed by `sla`, and `stats` counts every clock as missed or still running.
        later = filed + timedelta(days=30)
        desk.clock = _FixedClock(later)
        sla_sql, sla_cpu = _time_cpu(lambda: desk.sla(now=later), 5)
        stats_sql, stats_cpu = _time_cpu(desk.stats, 5)
        page, page_cpu = _time_cpu(lambda: views.statistics(desk), 3)
        # The Python evaluation takes seconds: timed once, and its answers compared.
        start = time.perf_counter()
        expected_sla = _python_sla(desk, later)
        sla_py = [time.perf_counter() - start]
        start = time.perf_counter()
        expected_stats = _python_stats(desk)
        stats_py = [time.perf_counter() - start]
        same_sla = desk.sla(now=later) == expected_sla
        same_stats = desk.stats() == expected_stats
        listed = len(expected_sla)
        active = desk.count(IssueQuery(active_only=True))
        size = desk.count()

    def ratio(py: list[float], sql: list[float]) -> str:
        return f"{statistics.median(py) / statistics.median(sql):5.1f}x"

    line = (
        f"{name:10s} {size:>7,} issues ({active:,} active, {listed:,} clocks listed; "
        f"desk {built})\n"
        f"    sla      SQL {_ms(sla_sql)} (CPU {_ms(sla_cpu)})  Python {_ms(sla_py)}  "
        f"({ratio(sla_py, sla_sql)}; identical: {same_sla})\n"
        f"    stats    SQL {_ms(stats_sql)} (CPU {_ms(stats_cpu)})  Python {_ms(stats_py)}  "
        f"({ratio(stats_py, stats_sql)}; identical: {same_stats})\n"
        f"    statistics page (views.statistics) {_ms(page)} (CPU {_ms(page_cpu)})"
    )
    print(line, flush=True)
    rows.append(line)


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    sizes = QUICK_SIZES if quick else SIZES
    per_process = 100 if quick else 1_000
    backends: list[tuple[str, Callable[[], Any]]] = [("sqlite", _sqlite_url)]
    if "--sqlite-only" not in argv:
        if _pg_available():
            backends.append(("postgresql", _pg_url))
        else:
            print(f"PostgreSQL not reachable at {PG_BASE}: skipping it")
    rows: list[str] = []
    if "--reports" in argv:
        keep = [Path(a.split("=", 1)[1]) for a in argv if a.startswith("--keep-desks=")]
        size = QUICK_SIZES[-1] if quick else SIZES[-1]
        print(f"load average: {os.getloadavg()}")
        for name, make_url in backends:
            desk = (
                _kept_reports_desk(name, size, keep[-1])
                if keep
                else _fresh_reports_desk(name, make_url, size)
            )
            with desk as (url, filed, built):
                _reports(name, url, filed, built, rows)
        print(f"load average: {os.getloadavg()}")
        return

    print("peer: bare driver, one INSERT + COMMIT per issue")
    bare_sqlite = statistics.median(_bare_sqlite_insert(200))
    print(f"  sqlite3     {bare_sqlite * 1000:7.3f} ms")
    bare: dict[str, float] = {"sqlite": bare_sqlite}
    if len(backends) > 1:
        with _pg_url() as url:
            bare["postgresql"] = statistics.median(_bare_pg_insert(url, 200))
        print(f"  psycopg     {bare['postgresql'] * 1000:7.3f} ms")

    for name, make_url in backends:
        with make_url() as url:
            _run_sizes(name, url, sizes, rows)
    for name, make_url in backends:
        with make_url() as url:
            _concurrency(name, url, 16, per_process, rows)
    print("create vs bare driver insert: see the ratio of the create column to the peer line")
    for name, value in bare.items():
        print(f"  {name}: bare insert+commit {value * 1000:.3f} ms")
