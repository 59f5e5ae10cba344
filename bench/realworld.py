"""Real-world scanner benchmark: `passmuster scan` on labelled public repositories.

Scans each checkout named in bench/realworld/corpus.toml (the ground truth: defects verified by
reading, suspicious-but-correct places, and reviews of earlier findings; schema in
bench/realworld/README.md) exactly as a user would (`passmuster scan DIR --format json`, one
process per repository), judges every finding against the labels, and prints per repository:
recall, precision, findings per service, must-not violations, time and peak memory.

    python -m bench realworld --data DIR [--corpus FILE] [--repo NAME] [--show] [--json FILE]

`--show` lists the defects missed and every false or unreviewed finding, so that a reviewer can
read the repository and add a `[[repo.reviews]]` entry. The scanned code is never run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "realworld" / "corpus.toml"
# The must-holds (bench/realworld/README.md and the scanner's goals).
MIN_RECALL = 0.90
MIN_PRECISION = 0.90
MAX_PER_SERVICE = 3.0
MAX_CONTROL_FINDINGS = 2


class CorpusError(Exception):
    """The corpus file is not what the schema says; the message names the field."""


# ---------------------------------------------------------------------------------- labels


@dataclass(frozen=True, slots=True)
class Match:
    """One match entry: every key present must hold for a finding (see the README)."""

    path: str | None = None
    line: int | None = None
    lines: tuple[int, int] | None = None
    codes: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    service: str | None = None

    def applies(self, finding: Mapping[str, Any]) -> bool:
        if self.path is not None and finding.get("path") != self.path:
            return False
        line = finding.get("line")
        if self.line is not None and line != self.line:
            return False
        if self.lines is not None and (line is None or not self.lines[0] <= line <= self.lines[1]):
            return False
        code = str(finding.get("code", ""))
        if self.codes and not any(code.startswith(c) for c in self.codes):
            return False
        message = str(finding.get("message", "")).lower()
        if any(text.lower() not in message for text in self.contains):
            return False
        return self.service is None or finding.get("service") == self.service


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise CorpusError(f"{where}: expected a string or a list of strings")


def _match(raw: Mapping[str, Any], where: str) -> Match:
    known = {"path", "line", "lines", "code", "contains", "service"}
    extra = set(raw) - known - {"verdict", "reason", "defect"}
    if extra:
        raise CorpusError(f"{where}: unknown match key(s) {', '.join(sorted(extra))}")
    lines = raw.get("lines")
    if lines is not None and (
        not isinstance(lines, list) or len(lines) != 2 or not all(isinstance(n, int) for n in lines)
    ):
        raise CorpusError(f"{where}.lines: expected [first, last]")
    line = raw.get("line")
    if line is not None and not isinstance(line, int):
        raise CorpusError(f"{where}.line: expected a number")
    return Match(
        path=raw.get("path"),
        line=line,
        lines=(lines[0], lines[1]) if lines else None,
        codes=_strings(raw.get("code"), f"{where}.code"),
        contains=_strings(raw.get("contains"), f"{where}.contains"),
        service=raw.get("service"),
    )


@dataclass(slots=True)
class Labelled:
    """A defect or a must-not case: an id, its class and its match entries."""

    id: str
    klass: str
    summary: str
    matches: tuple[Match, ...]
    rules: tuple[str, ...] = ()

    def applies(self, finding: Mapping[str, Any]) -> bool:
        return any(m.applies(finding) for m in self.matches)


@dataclass(slots=True)
class Review:
    match: Match
    verdict: bool
    reason: str


@dataclass(slots=True)
class Repo:
    name: str
    commit: str
    checkout: str
    kind: str
    services: int
    defects: list[Labelled] = field(default_factory=list)
    mustnot: list[Labelled] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)


def _labelled(raw: Mapping[str, Any], where: str, with_rules: bool) -> Labelled:
    for key in ("id", "class", "match"):
        if key not in raw:
            raise CorpusError(f"{where}: missing `{key}`")
    matches = raw["match"]
    if not isinstance(matches, list) or not matches:
        raise CorpusError(f"{where}.match: expected a non-empty list")
    return Labelled(
        id=str(raw["id"]),
        klass=str(raw["class"]),
        summary=str(raw.get("summary", "")),
        matches=tuple(_match(m, f"{where}.match[{i}]") for i, m in enumerate(matches)),
        rules=_strings(raw.get("rules"), f"{where}.rules") if with_rules else (),
    )


def load_corpus(path: Path) -> list[Repo]:
    """The repositories of a corpus file; a CorpusError names the file and field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{path}: {exc}") from None
    if data.get("schema") != 1:
        raise CorpusError(f"{path}: schema must be 1")
    repos = []
    for index, raw in enumerate(data.get("repo", [])):
        where = f"{path.name}: repo[{index}]"
        for key in ("name", "commit", "checkout", "kind", "services"):
            if key not in raw:
                raise CorpusError(f"{where}: missing `{key}`")
        if raw["kind"] not in ("hasty", "control"):
            raise CorpusError(f"{where}.kind: expected hasty or control")
        repo = Repo(
            name=str(raw["name"]),
            commit=str(raw["commit"]),
            checkout=str(raw["checkout"]),
            kind=str(raw["kind"]),
            services=int(raw["services"]),
        )
        where = f"{path.name}: {repo.name}"
        repo.defects = [
            _labelled(d, f"{where} defects[{i}]", True)
            for i, d in enumerate(raw.get("defects", []))
        ]
        repo.mustnot = [
            _labelled(m, f"{where} mustnot[{i}]", False)
            for i, m in enumerate(raw.get("mustnot", []))
        ]
        for i, review in enumerate(raw.get("reviews", [])):
            if review.get("verdict") not in ("true", "false"):
                raise CorpusError(f'{where} reviews[{i}].verdict: expected "true" or "false"')
            repo.reviews.append(
                Review(
                    _match(review, f"{where} reviews[{i}]"),
                    review["verdict"] == "true",
                    str(review.get("reason", "")),
                )
            )
        repos.append(repo)
    ids = [d.id for r in repos for d in (*r.defects, *r.mustnot)]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise CorpusError(f"{path.name}: ids used twice: {', '.join(duplicated)}")
    return repos


# ---------------------------------------------------------------------------------- judging


@dataclass(slots=True)
class Verdicts:
    """How the findings of one repository were judged against its labels."""

    found: set[str] = field(default_factory=set)  # defect ids
    true: list[dict[str, Any]] = field(default_factory=list)
    false: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (finding, why)
    unreviewed: list[dict[str, Any]] = field(default_factory=list)
    violations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (mustnot id, f)
    on_defects: int = 0  # findings that match a labelled defect


def judge(repo: Repo, findings: Sequence[dict[str, Any]]) -> Verdicts:
    """Judge each finding as the README says: defect, else must-not, else review, else none."""
    result = Verdicts()
    for finding in findings:
        hits = [d.id for d in repo.defects if d.applies(finding)]
        if hits:
            result.found.update(hits)
            result.true.append(finding)
            result.on_defects += 1
            continue
        broken = next((m for m in repo.mustnot if m.applies(finding)), None)
        if broken is not None:
            result.false.append((finding, f"must-not {broken.id}: {broken.summary}"))
            result.violations.append((broken.id, finding))
            continue
        review = next((r for r in repo.reviews if r.match.applies(finding)), None)
        if review is None:
            result.unreviewed.append(finding)
        elif review.verdict:
            result.true.append(finding)
        else:
            result.false.append((finding, review.reason))
    return result


# ---------------------------------------------------------------------------------- scanning


@dataclass(slots=True)
class Scanned:
    findings: list[dict[str, Any]]
    seconds: float
    peak_mib: float
    head: str | None  # the checkout's commit, read from .git
    error: str | None = None


def scan_checkout(root: Path) -> Scanned:
    """`passmuster scan ROOT --format json` in its own process: wall time and peak RSS."""
    from passmuster.scanner.git import git_commit

    head = git_commit(root) if (root / ".git").exists() else None
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        command = [
            sys.executable,
            "-m",
            "passmuster",
            "scan",
            str(root),
            "--format",
            "json",
            "--no-record",
            "--no-progress",
            "--output",
            str(report),
        ]
        errors = Path(scratch) / "stderr.txt"
        with errors.open("wb") as stderr:
            started = time.perf_counter()
            process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=stderr, cwd=scratch
            )
            # wait4 gives this child's own resource usage (its peak RSS), not the maximum
            # over every child waited for so far as RUSAGE_CHILDREN would.
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        peak = usage.ru_maxrss / 1024  # KiB on Linux
        if code not in (0, 1) or not report.exists():
            lines = errors.read_text(errors="replace").strip().splitlines()
            return Scanned([], seconds, peak, head, f"exit {code}: {(lines or ['no report'])[-1]}")
        data = json.loads(report.read_text(encoding="utf-8"))
    return Scanned(list(data["findings"]), seconds, peak, head)


# ---------------------------------------------------------------------------------- report


@dataclass(slots=True)
class Row:
    repo: Repo
    scanned: Scanned
    verdicts: Verdicts

    @property
    def defects(self) -> int:
        return len(self.repo.defects)

    @property
    def with_rule(self) -> list[Labelled]:
        return [d for d in self.repo.defects if d.rules]

    @property
    def per_service(self) -> float:
        return len(self.scanned.findings) / max(self.repo.services, 1)


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:6.1%}" if whole else "     -"


def _where(finding: Mapping[str, Any]) -> str:
    line = finding.get("line")
    return f"{finding.get('path')}:{line}" if line else str(finding.get("path"))


def print_rows(rows: list[Row], show: bool) -> None:
    header = (
        f"{'repository':44} {'kind':7} {'svc':>3} {'find':>4} {'/svc':>5} {'recall':>7} "
        f"{'r(rule)':>7} {'prec':>7} {'TP':>3} {'FP':>3} {'unrev':>5} {'mustn':>5} "
        f"{'time s':>6} {'peak MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        repo, scanned, verdicts = row.repo, row.scanned, row.verdicts
        if scanned.error:
            print(f"{repo.name[:44]:44} scan failed: {scanned.error}")
            continue
        found_rule = len([d for d in row.with_rule if d.id in verdicts.found])
        judged = len(verdicts.true) + len(verdicts.false)
        print(
            f"{repo.name[:44]:44} {repo.kind:7} {repo.services:3d} "
            f"{len(scanned.findings):4d} {row.per_service:5.2f} "
            f"{_ratio(len(verdicts.found), row.defects):>7} "
            f"{_ratio(found_rule, len(row.with_rule)):>7} "
            f"{_ratio(len(verdicts.true), judged):>7} {len(verdicts.true):3d} "
            f"{len(verdicts.false):3d} {len(verdicts.unreviewed):5d} "
            f"{len(verdicts.violations):5d} {scanned.seconds:6.2f} {scanned.peak_mib:8.1f}"
        )
        if scanned.head is not None and scanned.head != repo.commit:
            print(f"    ! checkout is at {scanned.head[:12]}, labels are for {repo.commit[:12]}")
        if show:
            _show(row)


def _show(row: Row) -> None:
    for defect in row.repo.defects:
        if defect.id not in row.verdicts.found:
            rules = ",".join(defect.rules) or "no rule"
            print(f"    missed {defect.id} [{defect.klass}; {rules}] {defect.summary}")
    for mustnot_id, finding in row.verdicts.violations:
        print(
            f"    MUST-NOT {mustnot_id}: {finding['code']} {_where(finding)} {finding['message']}"
        )
    for finding, why in row.verdicts.false:
        if why.startswith("must-not"):
            continue
        print(
            f"    false {finding['code']} {_where(finding)} {finding['message']}\n        ({why})"
        )
    for finding in row.verdicts.unreviewed:
        print(f"    unreviewed {finding['code']} {_where(finding)} {finding['message']}")


def summarise(rows: list[Row]) -> list[str]:
    """The totals and each must-hold, as lines."""
    ok_rows = [r for r in rows if not r.scanned.error]
    defects = sum(r.defects for r in ok_rows)
    found = sum(len(r.verdicts.found) for r in ok_rows)
    with_rule = sum(len(r.with_rule) for r in ok_rows)
    found_rule = sum(len([d for d in r.with_rule if d.id in r.verdicts.found]) for r in ok_rows)
    true = sum(len(r.verdicts.true) for r in ok_rows)
    false = sum(len(r.verdicts.false) for r in ok_rows)
    unreviewed = sum(len(r.verdicts.unreviewed) for r in ok_rows)
    violations = sum(len(r.verdicts.violations) for r in ok_rows)
    recall = found / defects if defects else 1.0
    precision = true / (true + false) if true + false else 1.0
    worst = max(ok_rows, key=lambda r: r.per_service, default=None)
    controls = [r for r in ok_rows if r.repo.kind == "control"]

    # A control may have a few labelled defects; what must stay small is everything else.
    def unlabelled(row: Row) -> int:
        return len(row.scanned.findings) - row.verdicts.on_defects

    noisy_controls = [r for r in controls if unlabelled(r) > MAX_CONTROL_FINDINGS]
    slowest = max(ok_rows, key=lambda r: r.scanned.seconds, default=None)
    biggest = max(ok_rows, key=lambda r: r.scanned.peak_mib, default=None)

    def verdict(good: bool) -> str:
        return "holds" if good else "FAILS"

    lines = [
        f"{len(ok_rows)} repositories scanned ({len(rows) - len(ok_rows)} failed), "
        f"{sum(len(r.scanned.findings) for r in ok_rows)} findings: "
        f"{true} true, {false} false, {unreviewed} unreviewed",
        f"recall {found}/{defects} = {recall:.1%} (defects with a rule: "
        f"{found_rule}/{with_rule}) -> >= {MIN_RECALL:.0%} {verdict(recall >= MIN_RECALL)}",
        f"precision {true}/{true + false} = {precision:.1%} -> >= {MIN_PRECISION:.0%} "
        f"{verdict(precision >= MIN_PRECISION)}",
    ]
    if worst is not None:
        lines.append(
            f"findings per service: worst {worst.per_service:.2f} ({worst.repo.name}) -> "
            f"<= {MAX_PER_SERVICE:.0f} on every repository "
            f"{verdict(worst.per_service <= MAX_PER_SERVICE)}"
        )
    lines.append(f"must-not violations: {violations} -> 0 {verdict(violations == 0)}")
    lines.append(
        "controls, findings matching no labelled defect: "
        f"{', '.join(f'{r.repo.name} {unlabelled(r)}' for r in controls)}"
        f" -> <= {MAX_CONTROL_FINDINGS} each {verdict(not noisy_controls)}"
    )
    if slowest is not None and biggest is not None:
        lines.append(
            f"slowest {slowest.scanned.seconds:.2f} s ({slowest.repo.name}); largest peak "
            f"{biggest.scanned.peak_mib:.0f} MiB ({biggest.repo.name}); each a separate "
            f"`passmuster scan` process, interpreter start-up included"
        )
    return lines


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench realworld")
    parser.add_argument("--data", type=Path, help="folder holding one checkout per repository")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--repo", action="append", default=[], help="only these (name part)")
    parser.add_argument("--show", action="store_true", help="list misses and false findings")
    parser.add_argument("--json", type=Path, help="also write the judged findings here")
    args = parser.parse_args(argv)
    if args.data is None:
        print("realworld: skipped (give --data DIR, the folder of corpus checkouts)")
        return
    try:
        repos = load_corpus(args.corpus)
    except CorpusError as exc:
        sys.exit(f"realworld: {exc}")
    if not args.data.is_dir():
        sys.exit(f"realworld: --data {args.data}: not a folder")
    wanted = [r for r in repos if not args.repo or any(w in r.name for w in args.repo)]
    rows: list[Row] = []
    missing: list[str] = []
    for repo in wanted:
        root = args.data / repo.checkout
        if not root.is_dir():
            missing.append(repo.checkout)
            continue
        scanned = scan_checkout(root)
        rows.append(Row(repo, scanned, judge(repo, scanned.findings)))
    print_rows(rows, args.show)
    if missing:
        print(f"not checked out under {args.data}: {', '.join(missing)}")
    for line in summarise(rows):
        print(line)
    if args.json is not None:
        payload = [
            {
                "repo": row.repo.name,
                "commit": row.repo.commit,
                "seconds": row.scanned.seconds,
                "peak_mib": row.scanned.peak_mib,
                "found": sorted(row.verdicts.found),
                "missed": sorted({d.id for d in row.repo.defects} - row.verdicts.found),
                "findings": row.scanned.findings,
            }
            for row in rows
        ]
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
