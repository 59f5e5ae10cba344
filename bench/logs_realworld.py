"""Real-world issue logs: `passmuster import` on hand-kept logs nobody here wrote, scored.

Imports each log named in bench/realworld/logs.toml (the answer key, counted by reading; how it
was made and how to score against it is in bench/realworld/LOGS.md) exactly as a new user would
(`passmuster import --dry-run --json INPUT`, one process per log, no desk), matches the issues it
found to the expected ones (by line, else by title) and prints per log: expected vs found,
recall, precision, status accuracy and crashes, then the totals against the must-holds.

    python -m bench logs-realworld --data DIR [--log NAME] [--show] [--json FILE] [--jobs N]
                                   [--merge]

`--show` lists, per log, the expected issues that were missed and the found ones that match
nothing, so a reader can tell a reader bug from a label to revisit.

`--merge` also imports each log for real into a fresh SQLite desk, works every issue on the desk
(a root cause on each, resolved with a resolution where the workflow allows), and re-imports the
unchanged log twice: a three-way merge must leave every issue as the desk had it, with no
conflict and nothing reported removed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRUTH = Path(__file__).resolve().parent / "realworld" / "logs.toml"
DEFAULT_DATA = Path("/work/corpus/logs")
# The must-holds of the importer on real logs.
MIN_RECALL = 0.95
MIN_PRECISION = 0.95
MIN_WITHIN_ONE = 0.90
TIMEOUT = 120


@dataclass(frozen=True, slots=True)
class Expected:
    line: int
    file: str
    title: str
    status: str | None
    optional: bool


@dataclass(frozen=True, slots=True)
class Found:
    line: int
    file: str
    title: str
    status: str


@dataclass(slots=True)
class Result:
    name: str
    language: str
    expected: list[Expected]
    found: list[Found] = field(default_factory=list)
    crashed: str = ""  # why, when the import did not finish as documented
    matched: list[tuple[Expected, Found]] = field(default_factory=list)

    @property
    def definite(self) -> int:
        return sum(1 for e in self.expected if not e.optional)

    @property
    def hits(self) -> int:
        return sum(1 for e, _ in self.matched if not e.optional)

    @property
    def optional_hits(self) -> int:
        return sum(1 for e, _ in self.matched if e.optional)

    @property
    def counted(self) -> int:
        """Found issues that count: optional sections found are neither right nor wrong."""
        return len(self.found) - self.optional_hits

    @property
    def recall(self) -> float:
        return self.hits / self.definite if self.definite else 1.0

    @property
    def precision(self) -> float:
        return self.hits / self.counted if self.counted else 1.0

    @property
    def within_one(self) -> bool:
        return not self.crashed and abs(self.counted - self.definite) <= 1

    @property
    def statuses(self) -> tuple[int, int]:
        """(right, stated): matched issues whose stated status was read right."""
        stated = [(e, f) for e, f in self.matched if e.status is not None and not e.optional]
        return sum(1 for e, f in stated if f.status == e.status), len(stated)


def normalised(title: str) -> str:
    """NFKC, casefolded, letters and digits only (LOGS.md)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", title).casefold() if ch.isalnum())


def match(expected: Sequence[Expected], found: Sequence[Found]) -> list[tuple[Expected, Found]]:
    """Pair found issues with expected ones, each used once: by line first, then by title."""
    pairs: list[tuple[Expected, Found]] = []
    free = list(found)
    waiting: list[Expected] = []
    for e in expected:
        same = next((f for f in free if f.line == e.line and f.file == e.file), None)
        if same is None:
            waiting.append(e)
        else:
            pairs.append((e, same))
            free.remove(same)
    for e in waiting:
        want = normalised(e.title)
        for f in free:
            got = normalised(f.title)
            if want and got and f.file == e.file and (want in got or got in want):
                pairs.append((e, f))
                free.remove(f)
                break
    return pairs


def load_truth(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    if data.get("schema") != 1:
        sys.exit(f"{path}: expected schema = 1")
    logs: list[dict[str, Any]] = data["log"]
    return logs


def run_one(log: dict[str, Any], data: Path) -> Result:
    expected = [
        Expected(
            line=int(i["line"]),
            file=str(i.get("file", "")),
            title=str(i["title"]),
            status=i.get("status"),
            optional=bool(i.get("optional", False)),
        )
        for i in log["issues"]
    ]
    result = Result(name=log["name"], language=log["language"], expected=expected)
    target = data / log["name"] / log["input"]
    if not target.exists():
        result.crashed = f"missing input {target}"
        return result
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    with tempfile.TemporaryDirectory(prefix="logs-realworld-") as scratch:
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "passmuster", "import", "--dry-run", "--json", str(target)],
                cwd=scratch,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            result.crashed = f"no answer within {TIMEOUT} s"
            return result
    if proc.returncode not in (0, 1, 2) or "Traceback" in proc.stderr:
        last = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        result.crashed = last[0][:200]
        return result
    if not proc.stdout.strip():
        return result  # nothing imported, said on stderr: 0 found
    report = json.loads(proc.stdout)
    base = target if target.is_dir() else target.parent
    for entry in report.get("issues", []):
        path = Path(entry["path"])
        relative = path.resolve().relative_to(base.resolve()).as_posix() if target.is_dir() else ""
        result.found.append(
            Found(int(entry["line"]), relative, str(entry["title"]), str(entry.get("status", "")))
        )
    result.matched = match(expected, result.found)
    return result


def merge_check(log: dict[str, Any], data: Path) -> tuple[str, int, int]:
    """Desk work on every issue of a really imported log, then the unchanged log re-imported
    twice: what went wrong ("" when nothing did), issues imported, issues resolved on the desk."""
    from passmuster.core.issues import ALLOWED_TRANSITIONS, Issue, Status
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.importing import NothingImported, import_logs

    root = data / log["name"]
    target = root / log["input"]

    def state(issue: Issue) -> tuple[object, ...]:
        return (issue.status, issue.resolution, issue.root_cause, issue.severity, issue.title)

    with tempfile.TemporaryDirectory(prefix="logs-merge-") as scratch:
        try:
            with Desk.connect(f"sqlite:///{scratch}/desk.db") as desk:
                import_logs(desk, [target], actor="log", root=root)
                resolved = 0
                for issue in desk.issues():
                    number = issue.number
                    desk.update(
                        number, {"root_cause": f"found on the desk ({number})"}, actor="ana"
                    )
                    if Status.RESOLVED in ALLOWED_TRANSITIONS[desk.get(number).status]:
                        fix = {"resolution": f"fixed on the desk ({number})"}
                        desk.transition(number, Status.RESOLVED, actor="ana", fields=fix)
                        resolved += 1
                before = {i.number: state(i) for i in desk.issues()}
                for attempt in (1, 2):
                    report = import_logs(desk, [target], actor="log", root=root)
                    after = {i.number: state(i) for i in desk.issues()}
                    changed = sorted(n for n in after if before.get(n) != after[n])
                    moved = {e.action for e in report.issues} - {"unchanged"}
                    if changed or report.conflicts or report.removed or moved:
                        return (
                            f"re-import {attempt}: changed {changed[:5]}, "
                            f"{len(report.conflicts)} conflicts, {len(report.removed)} removed, "
                            f"actions {sorted(moved)}",
                            len(before),
                            resolved,
                        )
                return "", len(before), resolved
        except NothingImported as exc:
            if log["expected"] == 0:
                return "", 0, 0  # an empty log (a template, "no bugs yet"): nothing to keep
            return f"{type(exc).__name__}: {exc}"[:200], 0, 0
        except Exception as exc:  # a crash is a finding here, reported with the others
            return f"{type(exc).__name__}: {exc}"[:200], 0, 0


def _pct(value: float) -> str:
    return f"{100 * value:5.1f}%"


def report(results: Sequence[Result], *, show: bool) -> bool:
    """Print the table and the totals; True when every must-hold is met."""
    print(
        f"{'log':58} {'lang':4} {'exp':>4} {'found':>5} {'hit':>4} "
        f"{'recall':>7} {'prec':>7} {'±1':>3} {'status':>7}"
    )
    for r in results:
        right, stated = r.statuses
        status = f"{right}/{stated}" if stated else "-"
        mark = "CRASH" if r.crashed else ("yes" if r.within_one else "NO")
        print(
            f"{r.name[:58]:58} {r.language:4} {r.definite:4} {r.counted:5} {r.hits:4} "
            f"{_pct(r.recall):>7} {_pct(r.precision):>7} {mark:>3} {status:>7}"
        )
        if r.crashed:
            print(f"    crashed: {r.crashed}")
        if show:
            paired = {id(f) for _, f in r.matched}
            hit = {id(e) for e, _ in r.matched}
            for e in r.expected:
                if id(e) not in hit and not e.optional:
                    print(f"    missed  {e.file}:{e.line} {e.title}")
            for f in r.found:
                if id(f) not in paired:
                    print(f"    extra   {f.file}:{f.line} {f.title}")
            for e, f in r.matched:
                if e.status is not None and not e.optional and f.status != e.status:
                    print(f"    status  {e.file}:{e.line} {e.title}: {f.status} (is {e.status})")
    expected = sum(r.definite for r in results)
    hits = sum(r.hits for r in results)
    counted = sum(r.counted for r in results)
    crashes = sum(1 for r in results if r.crashed)
    within = sum(1 for r in results if r.within_one)
    right = sum(r.statuses[0] for r in results)
    stated = sum(r.statuses[1] for r in results)
    recall = hits / expected if expected else 1.0
    precision = hits / counted if counted else 1.0
    share = within / len(results) if results else 1.0
    print()
    print(f"logs: {len(results)}, expected issues: {expected}, found: {counted}, matched: {hits}")
    print(f"recall {_pct(recall)} (must be >= {MIN_RECALL:.0%})")
    print(f"precision {_pct(precision)} (must be >= {MIN_PRECISION:.0%})")
    print(f"crashes {crashes} (must be 0)")
    print(f"logs within ±1 of their count: {within}/{len(results)} {_pct(share)}")
    print(f"  (must be >= {MIN_WITHIN_ONE:.0%})")
    if stated:
        share_right = _pct(right / stated)
        print(f"statuses read right (where the log states one): {right}/{stated} {share_right}")
    return (
        recall >= MIN_RECALL
        and precision >= MIN_PRECISION
        and crashes == 0
        and share >= MIN_WITHIN_ONE
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench logs-realworld")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the logs")
    parser.add_argument("--truth", type=Path, default=TRUTH, help="the answer key (logs.toml)")
    parser.add_argument("--log", action="append", default=[], help="only this log (repeatable)")
    parser.add_argument("--show", action="store_true", help="list misses and extras per log")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--jobs", type=int, default=2, help="imports run at once")
    parser.add_argument("--merge", action="store_true", help="also check re-imports keep desk work")
    args, _ = parser.parse_known_args(argv)
    if not args.data.is_dir():
        print(
            f"no data folder {args.data}: skipped (fetch the logs as bench/realworld/LOGS.md says)"
        )
        return
    logs = load_truth(args.truth)
    if args.log:
        logs = [log for log in logs if log["name"] in args.log]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda log: run_one(log, args.data), logs))
    met = report(results, show=args.show)
    if args.merge:
        checks = [(log["name"], *merge_check(log, args.data)) for log in logs]
        kept = sum(1 for _, problem, _, _ in checks if not problem)
        issues = sum(n for _, _, n, _ in checks)
        resolved = sum(r for _, _, _, r in checks)
        for name, problem, _, _ in checks:
            if problem:
                print(f"  desk work not kept: {name}: {problem}")
        print(
            f"re-imports keep desk work: {kept}/{len(checks)} logs ({issues} issues imported, "
            f"a root cause set on each and {resolved} resolved on the desk; each log re-imported "
            "twice unchanged) (must be all)"
        )
        met = met and kept == len(checks)
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "log": r.name,
                        "language": r.language,
                        "expected": r.definite,
                        "found": r.counted,
                        "matched": r.hits,
                        "recall": r.recall,
                        "precision": r.precision,
                        "within_one": r.within_one,
                        "crashed": r.crashed,
                    }
                    for r in results
                ],
                indent=2,
            ),
            encoding="utf-8",
        )
    print("must-holds:", "met" if met else "NOT met")
