"""Markdown logs: import and export of a generated 10,000-issue log (about 10 MB).

Figures: parse only (read the log into drafts), import (parse and file everything into a fresh
SQLite desk in one transaction), re-import of the unchanged log (match and compare), and export
(render the desk as Markdown). The peer, measured on the same file in the same run, is
markdown-it-py tokenising it (no issue extraction at all): a floor for any Markdown-based reader.

Then the same three as a user runs them, one process each (`passmuster import ISSUES.md` twice,
`passmuster export -o OUT.md`, into a fresh desk), from spawn to exit: start-up, the printed
report and the closing of the desk included. `--one-shot=0` leaves them out.

`--floor` adds SQLite's own share: every row the import stored, copied into an empty desk of the
same schema with the bare `sqlite3` driver (one executemany per table, one commit). No Python row
building at all: what any import writing the same rows into the same tables costs at least.

    python -m bench logs [--issues=N] [--repeat=R] [--one-shot=RUNS] [--floor]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.cli import Timing as CommandTiming

STATUSES = ["✅ **RESOLVED**", "🔄 In Progress", "📋 Planned", "Open", "⚠️ Workaround Applied"]
SEVERITIES = ["Critical", "High", "Medium", "Low"]
BR = "  "  # the two-space line break the real logs end field lines with


def generate(count: int) -> str:
    """A log in the style of the seeds: status in headings, bold fields, code blocks, lists."""
    parts = ["# Services Coordination Issue Tracking\n\n## 📋 **Current Open Issues**\n"]
    for n in range(1, count + 1):
        parts.append(
            f"""
### {STATUSES[n % 5]} - Issue #{n:05d}: Service {n % 50} fails to reach dependency {n % 7}
**Date**: 2025-{1 + n % 12:02d}-{1 + n % 28:02d}{BR}
**Reporter**: agent-{n % 13} (detected during deployment of build {n}){BR}
**Severity**: {SEVERITIES[n % 4]}{BR}
**Service(s) Affected**: service-{n % 50}, service-{(n + 1) % 50}{BR}
**Description**: The service cannot connect to `dependency-{n % 7}:5432` after the rollout; \
connections time out after 30 seconds and the health check flaps between healthy and degraded.{BR}
**Impact**: Requests to /api/v1/items/{n} fail with 502 for about {n % 40} minutes.{BR}
**Error Details**:
```
ConnectionError: could not connect to server: Connection refused (attempt {n})
    Is the server running on host "dependency-{n % 7}" and accepting TCP/IP connections?
```
**Resolution**:
- Pinned the driver to a compatible version
- Added a readiness probe with a {n % 9 + 1}s back-off
**Files Updated**:
- `services/service-{n % 50}/requirements.txt` - pinned the driver
- `infrastructure/compose/docker-compose.yml` - added the readiness probe

#### Tasks
- [x] Reproduce on staging
- [ ] Add an integration test for issue {n}
"""
        )
    parts.append("\n## 📊 **Issue Statistics**\n\n| Month | Critical | High |\n|---|---|---|\n")
    return "".join(parts)


Timing = tuple[float, float]  # (wall seconds, CPU seconds of this process)


def _timed(run: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def _best(run: Callable[[], object], repeat: int) -> Timing:
    return min((_timed(run) for _ in range(repeat)), key=lambda t: t[1])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench logs")
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one-shot", type=int, default=3, dest="one_shot")
    parser.add_argument("--floor", action="store_true")
    args, _ = parser.parse_known_args(argv)

    from markdown_it import MarkdownIt

    from passmuster.logs.reader import read_text
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.exporting import export_log
    from passmuster.usecases.importing import import_logs

    text = generate(args.issues)
    size_mb = len(text.encode("utf-8")) / 1_000_000
    print(f"log: {args.issues} issues, {size_mb:.1f} MB")

    parsed = read_text(text, "bench.md")
    assert len(parsed.issues) == args.issues, len(parsed.issues)
    parse_s = _best(lambda: read_text(text, "bench.md"), args.repeat)
    peer_s = _best(lambda: MarkdownIt("commonmark").parse(text), args.repeat)

    imports: list[Timing] = []
    reimports: list[Timing] = []
    exports: list[Timing] = []
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "ISSUES.md"
        log.write_text(text, encoding="utf-8")
        for run in range(args.repeat):
            folder = Path(tmp) / f"desk{run}"
            with Desk.init(folder) as desk:
                results: dict[str, object] = {}

                def first(desk: Desk = desk, results: dict[str, object] = results) -> None:
                    results["first"] = import_logs(desk, [log], actor="bench", root=Path(tmp))

                def again(desk: Desk = desk, results: dict[str, object] = results) -> None:
                    results["again"] = import_logs(desk, [log], actor="bench", root=Path(tmp))

                def export(desk: Desk = desk, results: dict[str, object] = results) -> None:
                    results["out"] = export_log(desk)

                imports.append(_timed(first))
                reimports.append(_timed(again))
                exports.append(_timed(export))
                assert results["first"].count("created") == args.issues  # type: ignore[attr-defined]
                assert results["again"].count("unchanged") == args.issues  # type: ignore[attr-defined]
                assert str(results["out"]).count("## Issue #") == args.issues
            if args.floor and run == 0:
                floor = _sqlite_floor(folder / ".passmuster" / "desk.db", Path(tmp), args.repeat)

    def best(timings: list[Timing]) -> Timing:
        return min(timings, key=lambda t: t[1])

    rows = [
        ("parse only (passmuster reader)", parse_s),
        ("peer: markdown-it-py tokenise only", peer_s),
        ("import: parse + file into SQLite", best(imports)),
        ("re-import unchanged (match + compare)", best(reimports)),
        ("export: desk to Markdown", best(exports)),
    ]
    print(f"{'':<42} {'wall':>9} {'CPU':>9}")
    for label, (wall, cpu) in rows:
        print(f"{label:<42} {wall * 1000:7.0f}ms {cpu * 1000:7.0f}ms")
    print(f"parse vs markdown-it-py tokenising (CPU): {peer_s[1] / parse_s[1]:.1f}x faster")
    if args.floor:
        _print_floor(floor)
    if args.one_shot:
        _one_shot(text, args.issues, args.one_shot)
    import_cpu, export_cpu = best(imports)[1], best(exports)[1]
    target = "met" if import_cpu < 1 and export_cpu < 1 else "NOT met"
    print(f"target < 1 s for import and export (CPU): {target}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def _sqlite_floor(desk_db: Path, tmp: Path, repeat: int) -> list[tuple[str, int, float]]:
    """Per table (rows, CPU seconds) and the commit, best of `repeat`, with the bare driver."""
    import sqlite3

    source = sqlite3.connect(desk_db)
    schema = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'issues_fts_%'"
            " ORDER BY type = 'index', rowid"
        )
    ]
    tables = [
        name
        for (name,) in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'issues_fts%'"
            " AND name NOT LIKE 'sqlite_%'"
        )
    ]
    data = {name: source.execute(f'SELECT * FROM "{name}"').fetchall() for name in tables}
    data = {name: rows for name, rows in data.items() if rows}
    fts = source.execute("SELECT rowid, title, body FROM issues_fts").fetchall()
    source.close()
    best: dict[str, tuple[int, float]] = {}
    for attempt in range(repeat):
        target = tmp / f"floor{attempt}.db"
        copy = sqlite3.connect(target, isolation_level=None)
        copy.execute("PRAGMA journal_mode = WAL")
        copy.execute("PRAGMA synchronous = NORMAL")
        for sql in schema:
            copy.execute(sql)
        copy.execute("BEGIN")
        timings: dict[str, tuple[int, float]] = {}
        for name, rows in data.items():
            marks = ", ".join("?" * len(rows[0]))
            start = time.process_time()
            copy.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
            timings[name] = (len(rows), time.process_time() - start)
        start = time.process_time()
        copy.executemany("INSERT INTO issues_fts (rowid, title, body) VALUES (?, ?, ?)", fts)
        timings["issues_fts (search index)"] = (len(fts), time.process_time() - start)
        start = time.process_time()
        copy.execute("COMMIT")
        timings["commit"] = (0, time.process_time() - start)
        copy.close()
        for name, (count, seconds) in timings.items():
            if name not in best or seconds < best[name][1]:
                best[name] = (count, seconds)
    return [(name, count, seconds) for name, (count, seconds) in best.items()]


def _print_floor(floor: list[tuple[str, int, float]]) -> None:
    print("SQLite's own work for the same rows (bare sqlite3 driver, CPU, best per table):")
    for name, count, seconds in sorted(floor, key=lambda item: -item[2]):
        if seconds >= 0.0005:
            print(f"  {name:<40} {count:>7} rows {seconds * 1000:7.0f}ms")
    print(f"  {'total':<53} {sum(s for _, _, s in floor) * 1000:7.0f}ms")


def _one_shot(text: str, count: int, runs: int) -> None:
    """Import, re-import and export as separate `passmuster` processes (median of `runs`)."""
    from bench.cli import PASSMUSTER, command_env, run_timed
    from passmuster.usecases.desk import Desk

    env = command_env()
    timings: dict[str, list[CommandTiming]] = {"import": [], "re-import": [], "export": []}
    for run in range(runs + 1):  # the first run writes the bytecode cache: not counted
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "ISSUES.md").write_text(text, encoding="utf-8")
            Desk.init(folder).close()
            steps = {
                "import": [str(PASSMUSTER), "import", "ISSUES.md"],
                "re-import": [str(PASSMUSTER), "import", "ISSUES.md"],
                "export": [str(PASSMUSTER), "export", "-o", "OUT.md"],
            }
            for step, command in steps.items():
                timing = run_timed(command, folder, env)
                if run:
                    timings[step].append(timing)
            assert (folder / "OUT.md").read_text(encoding="utf-8").count("## Issue #") == count
    print(f"one process per command, median of {runs}:")
    for step, measured in timings.items():
        wall = statistics.median(t.wall_ms for t in measured)
        cpu = statistics.median(t.cpu_ms for t in measured)
        print(f"  passmuster {step:<32} {wall:7.0f}ms {cpu:7.0f}ms")
