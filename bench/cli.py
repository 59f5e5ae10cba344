"""CLI wall time against Backlog.md: the commands agents run all day at 20, 1k and 10k issues,
and --help / --version.

    python -m bench cli                  # 20, 1k and 10k issues, 5 runs per operation (median)
    python -m bench cli --quick          # 20 and 1k only, 3 runs
    python -m bench cli --sizes=1000 --runs=9
    python -m bench cli --baseline=/work/wt/before   # also another passmuster tree, alternating

The passmuster measured is the one this benchmark imports (put a worktree first on PYTHONPATH,
with absolute paths): the `passmuster` script next to the interpreter imports it the same way, and
the benchmark stops if the script would load another. `--baseline=TREE` runs TREE's code
(TREE/src) through the same script, in the same alternation, for a before/after in one run.

Both tools run as a user runs them: one process per command, started from the project folder,
measured from spawn to exit. Backlog.md (npm package `backlog.md`) is installed by this benchmark
into bench/.work/backlog with `npm install backlog.md`. The operations are the same work for both:

    create       passmuster new TITLE --severity high --service S --label L
                 backlog task create TITLE -d DESC --priority high -l L --plain
    list 50      passmuster list --status open                (the first 50, a table)
                 backlog task list -s "To Do" --limit 50 --plain
    list all     passmuster list --status open --limit 0 --json
                 backlog task list -s "To Do" --json
    search       passmuster search logout                      (20 best, a table)
                 backlog search logout --limit 20 --plain
    show         passmuster show N                             (one issue and its timeline)
                 backlog task view TASK-N --plain
    ready        passmuster ready                              (20 most urgent unblocked)
                 backlog task list --ready --sort priority --limit 20 --plain
    claim        passmuster claim                              (the next ready issue, leased)
                 backlog task edit TASK-N -s "In Progress" -a @bench --plain
                 (Backlog.md has no claim: it is told which task, so it does less work)

Backlog.md runs as its native binary (the npm launcher, a Node script, only starts it), which is
its best case. The two tools alternate run by run, so a busy machine slows both alike, and each
process's CPU time (user + system) is recorded next to its wall time.

The desks are seeded in process (passmuster through `Desk.file_many`; Backlog.md by writing its
task files directly in the format its own `task create` writes, because creating 10,000 tasks
through its CLI takes hours). Each measured `create` adds one issue to each side.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
WORK = ROOT / ".work"
BACKLOG_DIR = WORK / "backlog"
PASSMUSTER = Path(sys.executable).with_name("passmuster")
HELP_TARGET_MS = 60.0  # --help and --version
# Backlog.md's time over passmuster's, by wall time and by CPU, at each desk size (issue 15).
RATIO_TARGETS = {20: 1.0, 1000: 2.0, 10000: 5.0}

SERVICES = [
    "identity-service", "user-service", "tenant-service", "instance-service", "billing-service",
    "api-gateway", "policy-service", "notification-service", "analytics-service", "search-service",
    "files-service", "reporting-service", "workflow-service", "monitoring-service", "etl-service",
    "scraper-service", "dashboard-service", "config-service", "mobile-api", "integration-service",
]  # fmt: skip
# Situations of the real logs; {s} and {t} are services.
TITLES = [
    "{s} fails to start: HTTPStatus imported from fastapi",
    "Database driver conflict between asyncpg and psycopg2-binary in {s}",
    "Session not invalidated after logout in {s}",
    "{s} /auth/me returns 500: UUID is not a string",
    "Port conflict between {s} and {t}",
    "Missing health check endpoint in {s}",
    "{s} passes a Python list to a JSONB column",
    "{s} duplicates the shared requirements",
    "get_current_user used before it is defined in {s}",
    "{s} calls {t} on a hard-coded localhost URL",
    "Connection pool exhausted in {s} under load",
    "{s} Dockerfile lacks gcc for psutil",
]
DESCRIPTIONS = [
    "Seen after the last deploy; other services that call it time out.",
    "Blocks the upgrade of every service that depends on it.",
    "Reproduced on staging; the error repeats on every request.",
    "Found during the coordination review of the compose file.",
]


@dataclass(frozen=True)
class Timing:
    wall_ms: float
    cpu_ms: float  # user + system time of the process and its children


@dataclass(frozen=True)
class Measure:
    operation: str
    size: int
    passmuster: Timing
    backlog: Timing | None
    baseline: Timing | None = None  # the --baseline tree's passmuster, when given

    @property
    def ratio(self) -> float | None:
        return self.backlog.wall_ms / self.passmuster.wall_ms if self.backlog else None

    @property
    def cpu_ratio(self) -> float | None:
        return self.backlog.cpu_ms / self.passmuster.cpu_ms if self.backlog else None


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    sizes = _option(argv, "--sizes", "20,1000" if quick else "20,1000,10000")
    runs = int(_option(argv, "--runs", "3" if quick else "5"))
    size_list = [int(s) for s in sizes.split(",") if s]
    baseline = _option(argv, "--baseline", "")
    global _BASELINE_ENV
    _BASELINE_ENV = _tree_env(Path(baseline).resolve()) if baseline else None

    backlog = install_backlog()
    print(f"passmuster: {PASSMUSTER} running {_measured_source(command_env())}")
    if _BASELINE_ENV is not None:
        print(f"baseline: {PASSMUSTER} running {_measured_source(_BASELINE_ENV)}")
    print(f"Backlog.md: {backlog or 'not available (npm install failed); passmuster only'}")
    if backlog:
        version = subprocess.run([backlog, "--version"], capture_output=True, text=True)
        print(f"Backlog.md version {version.stdout.strip()}")
    print(f"{runs} runs per operation (median), one process per command, tools alternating\n")

    WORK.mkdir(parents=True, exist_ok=True)
    results: list[Measure] = []
    mine, peer = _compare(
        lambda: [str(PASSMUSTER), "--help"],
        (lambda: [backlog, "--help"]) if backlog else None,
        WORK,
        WORK,
        max(runs, 10),
    )
    results.append(Measure("--help", 0, mine, peer, _last_baseline()))
    print(_line(results[-1]), flush=True)
    mine, peer = _compare(
        lambda: [str(PASSMUSTER), "--version"],
        (lambda: [backlog, "--version"]) if backlog else None,
        WORK,
        WORK,
        max(runs, 10),
    )
    results.append(Measure("--version", 0, mine, peer, _last_baseline()))
    print(_line(results[-1]), flush=True)

    for size in size_list:
        folder = WORK / f"cli-{size}"
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        desk_folder = seed_passmuster(folder / "passmuster", size)
        took = time.perf_counter() - started
        print(f"seeded a passmuster desk with {size:,} issues in {took:.1f} s")
        backlog_folder: Path | None = None
        if backlog:
            started = time.perf_counter()
            backlog_folder = seed_backlog(folder / "backlog", size, backlog)
            print(
                f"seeded Backlog.md with {size:,} tasks (files written directly) in "
                f"{time.perf_counter() - started:.1f} s"
            )
        results += measure_size(size, desk_folder, backlog, backlog_folder, runs)

    print()
    print(report(results))


def _option(argv: Sequence[str], name: str, default: str) -> str:
    for arg in argv:
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


# --- the peer -------------------------------------------------------------------------------


def install_backlog() -> str | None:
    """bench/.work/backlog/node_modules/.bin/backlog, installed with npm when missing."""
    binary = BACKLOG_DIR / "node_modules" / ".bin" / "backlog"
    if binary.exists():
        return _native(binary)
    npm = shutil.which("npm")
    if npm is None:
        return None
    BACKLOG_DIR.mkdir(parents=True, exist_ok=True)
    package = BACKLOG_DIR / "package.json"
    if not package.exists():
        package.write_text('{"name": "passmuster-bench-backlog", "private": true}\n')
    done = subprocess.run(
        [npm, "install", "backlog.md", "--no-audit", "--no-fund"],
        cwd=BACKLOG_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 or not binary.exists():
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return _native(binary)


def _native(launcher: Path) -> str:
    """The platform binary the npm launcher would start: Backlog.md's best case (no Node)."""
    for candidate in sorted((BACKLOG_DIR / "node_modules").glob("backlog.md-*/backlog")):
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return str(launcher)


# --- seeding --------------------------------------------------------------------------------


def _situation(rng: random.Random, n: int) -> tuple[str, str, str, str]:
    """Title, description, service and severity of the n-th sample issue."""
    service, other = rng.sample(SERVICES, 2)
    title = rng.choice(TITLES).format(s=service, t=other) + f" (case {n})"
    description = rng.choice(DESCRIPTIONS)
    severity = rng.choices(["critical", "high", "medium", "low"], weights=[1, 3, 4, 2])[0]
    return title, description, service, severity


def seed_passmuster(folder: Path, size: int) -> Path:
    from passmuster.core.issues import IssueDraft, Severity, Status
    from passmuster.usecases.desk import Desk

    folder.mkdir(parents=True)
    rng = random.Random(size)
    with Desk.init(folder) as desk:
        batch: list[IssueDraft] = []
        for n in range(1, size + 1):
            title, description, service, severity = _situation(rng, n)
            status = rng.choices(
                [Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED], weights=[7, 1, 2]
            )[0]
            batch.append(
                IssueDraft(
                    title=title,
                    description=description,
                    services=[service],
                    severity=Severity(severity),
                    status=status,
                    labels=["bench"],
                    resolution="Applied the documented fix." if status is Status.RESOLVED else "",
                )
            )
            if len(batch) == 1000:
                desk.file_many(batch, actor="bench")
                batch = []
        if batch:
            desk.file_many(batch, actor="bench")
    return folder


def seed_backlog(folder: Path, size: int, backlog: str) -> Path:
    folder.mkdir(parents=True)
    subprocess.run(
        [backlog, "init", "bench", "--defaults", "--no-git", "--integration-mode", "none"],
        cwd=folder,
        capture_output=True,
        check=True,
        timeout=120,
    )
    tasks = folder / "backlog" / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    rng = random.Random(size)
    stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    for n in range(1, size + 1):
        title, description, service, severity = _situation(rng, n)
        status = rng.choices(["To Do", "In Progress", "Done"], weights=[7, 1, 2])[0]
        priority = {"critical": "high", "high": "high", "medium": "medium", "low": "low"}[severity]
        slug = "".join(c if c.isalnum() else "-" for c in title)[:60].strip("-")
        (tasks / f"task-{n} - {slug}.md").write_text(
            f"---\nid: TASK-{n}\ntitle: '{title}'\nstatus: {status}\nassignee: []\n"
            f"created_date: '{stamp}'\nlabels:\n  - bench\n  - {service}\ndependencies: []\n"
            f"priority: {priority}\nordinal: {n * 1000}\n---\n\n## Description\n\n"
            f"<!-- SECTION:DESCRIPTION:BEGIN -->\n{description}\n"
            "<!-- SECTION:DESCRIPTION:END -->\n",
            encoding="utf-8",
        )
    return folder


# --- measuring ------------------------------------------------------------------------------

_BASELINE_ENV: dict[str, str] | None = None
_baseline_timings: list[Timing] = []


def _tree_env(tree: Path) -> dict[str, str]:
    """The environment that makes the passmuster script run `tree`'s code."""
    env = command_env()
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "src"), str(tree)])
    return env


def _measured_source(env: dict[str, str]) -> str:
    """The passmuster package the script loads with `env`; stops the benchmark when that is not
    the one this process imports (and seeds desks with), unless it is the baseline's."""
    import passmuster

    done = subprocess.run(
        [sys.executable, "-c", "import passmuster; print(passmuster.__file__)"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    loaded = Path(done.stdout.strip()).resolve().parent
    if env is not _BASELINE_ENV and loaded != Path(passmuster.__file__).resolve().parent:
        raise SystemExit(
            f"the passmuster script would run {loaded}, but this benchmark imports "
            f"{Path(passmuster.__file__).resolve().parent}: put the tree to measure first on "
            "PYTHONPATH with absolute paths"
        )
    return str(loaded)


def _last_baseline() -> Timing | None:
    return _baseline_timings[-1] if _BASELINE_ENV is not None and _baseline_timings else None


def command_env() -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE would make every run compile passmuster's modules from source; an
    # installed passmuster has its bytecode cached, as the first (unmeasured) run writes it here.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PASSMUSTER_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PASSMUSTER_ACTOR"] = "bench"
    env["NO_COLOR"] = "1"
    return env


def run_timed(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(list(command), cwd=cwd, env=env or command_env(), capture_output=True)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-500:]}"
        )
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return Timing(wall, cpu)


def _median(timings: Sequence[Timing]) -> Timing:
    walls = [t.wall_ms for t in timings]
    cpus = [t.cpu_ms for t in timings]
    return Timing(statistics.median(walls), statistics.median(cpus))


def _compare(
    ours: Callable[[], list[str]],
    theirs: Callable[[], list[str]] | None,
    desk: Path,
    backlog_folder: Path | None,
    runs: int,
    *,
    warm: bool = True,
) -> tuple[Timing, Timing | None]:
    """Median timings, the two tools alternating so that a busy machine slows both alike (and the
    baseline's passmuster with them, when there is one: its median goes to `_baseline_timings`)."""
    base_env = _BASELINE_ENV
    if warm:  # the first run of each reads the files into the page cache; not counted
        run_timed(ours(), desk)
        if theirs and backlog_folder:
            run_timed(theirs(), backlog_folder)
        if base_env is not None:
            run_timed(ours(), desk, base_env)
    mine: list[Timing] = []
    peer: list[Timing] = []
    base: list[Timing] = []
    for _ in range(runs):
        mine.append(run_timed(ours(), desk))
        if theirs and backlog_folder:
            peer.append(run_timed(theirs(), backlog_folder))
        if base_env is not None:
            base.append(run_timed(ours(), desk, base_env))
    if base:
        _baseline_timings.append(_median(base))
    return _median(mine), (_median(peer) if peer else None)


def measure_size(
    size: int, desk: Path, backlog: str | None, backlog_folder: Path | None, runs: int
) -> list[Measure]:
    pm = str(PASSMUSTER)
    bl = backlog or ""
    operations: list[tuple[str, list[str], list[str]]] = [
        ("list 50", [pm, "list", "--status", "open"],
         [bl, "task", "list", "-s", "To Do", "--limit", "50", "--plain"]),
        ("list all (JSON)", [pm, "list", "--status", "open", "--limit", "0", "--json"],
         [bl, "task", "list", "-s", "To Do", "--json"]),
        ("search", [pm, "search", "logout"],
         [bl, "search", "logout", "--limit", "20", "--plain"]),
    ]  # fmt: skip
    counter = iter(range(10**6))

    def create_pm() -> list[str]:
        n = next(counter)
        return [pm, "new", f"Port conflict between user-service and api-gateway (bench {n})",
                "--severity", "high", "--service", "user-service", "--label", "bench"]  # fmt: skip

    def create_bl() -> list[str]:
        n = next(counter)
        return [bl, "task", "create",
                f"Port conflict between user-service and api-gateway (bench {n})",
                "-d", "Seen after the last deploy.", "--priority", "high", "-l", "bench",
                "--plain"]  # fmt: skip

    results: list[Measure] = []
    peer_create = create_bl if backlog else None
    mine, peer = _compare(create_pm, peer_create, desk, backlog_folder, runs, warm=False)
    results.append(Measure("create", size, mine, peer, _last_baseline()))
    print(_line(results[-1]), flush=True)
    shown = max(1, size // 2)
    operations += [
        ("show", [pm, "show", str(shown)], [bl, "task", "view", f"TASK-{shown}", "--plain"]),
        ("ready", [pm, "ready"],
         [bl, "task", "list", "--ready", "--sort", "priority", "--limit", "20", "--plain"]),
    ]  # fmt: skip
    for name, ours, theirs in operations:
        mine, peer = _compare(
            lambda ours=ours: ours,  # type: ignore[misc]
            (lambda theirs=theirs: theirs) if backlog else None,  # type: ignore[misc]
            desk,
            backlog_folder,
            runs,
        )
        results.append(Measure(name, size, mine, peer, _last_baseline()))
        print(_line(results[-1]), flush=True)
    claimed = iter(range(1, size + 1))

    def claim_bl() -> list[str]:
        return [bl, "task", "edit", f"TASK-{next(claimed)}", "-s", "In Progress", "-a", "@bench",
                "--plain"]  # fmt: skip

    mine, peer = _compare(
        lambda: [pm, "claim"], claim_bl if backlog else None, desk, backlog_folder, runs,
        warm=False,
    )  # fmt: skip
    results.append(Measure("claim", size, mine, peer, _last_baseline()))
    print(_line(results[-1]), flush=True)
    return results


def _line(m: Measure) -> str:
    size = f"{m.size:>6,}" if m.size else "     -"
    ours = f"{m.passmuster.wall_ms:6.0f} ms (cpu {m.passmuster.cpu_ms:5.0f})"
    theirs = f"{m.backlog.wall_ms:7.0f} ms (cpu {m.backlog.cpu_ms:6.0f})" if m.backlog else "-"
    ratio = f"{m.ratio:5.1f}x" if m.ratio else "-"
    base = ""
    if m.baseline is not None:
        base = f"  baseline {m.baseline.wall_ms:6.0f} ms (cpu {m.baseline.cpu_ms:5.0f})"
    return f"{m.operation:<16} {size}  passmuster {ours}  Backlog.md {theirs}  {ratio}{base}"


def report(results: Sequence[Measure]) -> str:
    """The Markdown table recorded in bench/RESULTS.md."""
    with_base = any(m.baseline is not None for m in results)
    lines = [
        "| Operation | Issues | passmuster wall (CPU) | Backlog.md wall (CPU) | ratio | CPU ratio"
        " |" + (" baseline wall (CPU) |" if with_base else ""),
        "|---|---:|---:|---:|---:|---:|" + ("---:|" if with_base else ""),
    ]
    for m in results:
        size = f"{m.size:,}" if m.size else "-"
        ours = f"{m.passmuster.wall_ms:.0f} ms ({m.passmuster.cpu_ms:.0f})"
        theirs = f"{m.backlog.wall_ms:.0f} ms ({m.backlog.cpu_ms:.0f})" if m.backlog else "-"
        ratio = f"{m.ratio:.1f}x" if m.ratio else "-"
        cpu_ratio = f"{m.cpu_ratio:.1f}x" if m.cpu_ratio else "-"
        row = f"| {m.operation} | {size} | {ours} | {theirs} | {ratio} | {cpu_ratio} |"
        if with_base:
            base = m.baseline
            row += f" {base.wall_ms:.0f} ms ({base.cpu_ms:.0f}) |" if base else " - |"
        lines.append(row)
    lines.append("")
    for flag in ("--help", "--version"):
        took = next((m.passmuster for m in results if m.operation == flag), None)
        if took is not None:
            verdict = "met" if took.wall_ms <= HELP_TARGET_MS else "missed"
            lines.append(
                f"`passmuster {flag}`: {took.wall_ms:.0f} ms wall, {took.cpu_ms:.0f} ms CPU "
                f"(target <= {HELP_TARGET_MS:.0f} ms: {verdict})."
            )
    for size, target in RATIO_TARGETS.items():
        rows = [m for m in results if m.size == size and m.ratio and m.cpu_ratio]
        if not rows:
            continue
        slow = [m for m in rows if min(m.ratio or 0, m.cpu_ratio or 0) < target]
        names = ", ".join(
            f"{m.operation} ({m.ratio:.1f}x wall, {m.cpu_ratio:.1f}x CPU)" for m in slow
        )
        lines.append(
            f"At {size:,} issues (target >= {target:g}x by wall time and CPU): "
            + (f"below it: {names}." if slow else "met by every operation.")
        )
    return "\n".join(lines)
