"""Real-world failure output: the deploy failure classifiers on excerpts nobody here wrote, scored.

The data directory holds text files, each the output of one failing service start or image build
as people pasted it into public issue threads (compose prefixes, time stamps, process managers'
lines, Windows and macOS spellings), and `key.toml`, the answer key written by reading each one:

    [[case]]
    file = "001-uvicorn-errno98.txt"
    class = "port-in-use"          # the class a person would file it under
    subject = "8080"               # what it is about; "" when there is nothing to name
    source = "https://..."         # where the text was found
    result = "failed"              # optional: failed (default) or timed_out
    exit_code = 1                  # optional: when the runner would know it
    reason = "..."                 # optional: the runner's own account (timed out attempts)

Each excerpt is classified exactly as `passmuster deploy` classifies a failed attempt: an
`Evidence` with the tail of the output a deploy keeps, through the catalogue a deploy builds.
Prints per case the expected and found class and subject, then class and subject accuracy per
expected class and in total.

    python -m bench deploy-realworld [--data DIR] [--show] [--json FILE]

`--show` prints every case, not only the wrong ones.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path("/work/corpus/deploy-failures")


@dataclass(frozen=True, slots=True)
class Case:
    file: str
    expected: str
    subject: str | None
    source: str
    result: str
    exit_code: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Outcome:
    file: str
    expected: str
    found: str
    expected_subject: str | None
    found_subject: str | None
    summary: str

    @property
    def class_right(self) -> bool:
        return self.found == self.expected

    @property
    def subject_right(self) -> bool:
        """The subject counts only when the class is right: a right word under the wrong
        class files the failure into the wrong issue all the same."""
        return self.class_right and _same(self.expected_subject, self.found_subject)


def _same(expected: str | None, found: str | None) -> bool:
    if not expected:
        return not found
    return found is not None and found.casefold() == expected.casefold()


def load_key(data: Path) -> list[Case]:
    key = data / "key.toml"
    try:
        with key.open("rb") as handle:
            raw = tomllib.load(handle)
    except OSError as exc:
        sys.exit(f"{key}: cannot read: {exc.strerror}")
    except tomllib.TOMLDecodeError as exc:
        sys.exit(f"{key}: {exc}")
    cases: list[Case] = []
    for index, entry in enumerate(raw.get("case", []), start=1):
        missing = [k for k in ("file", "class", "subject", "source") if k not in entry]
        if missing:
            sys.exit(f"{key}: case {index} lacks {', '.join(missing)}")
        cases.append(
            Case(
                entry["file"],
                entry["class"],
                entry["subject"] or None,
                entry["source"],
                entry.get("result", "failed"),
                entry.get("exit_code"),
                entry.get("reason", ""),
            )
        )
    return cases


def classify(data: Path, cases: list[Case]) -> tuple[list[Outcome], float]:
    from passmuster.core.deploy.attempts import Result, tail
    from passmuster.core.deploy.classify import Evidence
    from passmuster.usecases.deploy_failures import build_classifiers

    catalogue = build_classifiers(plugins=False)
    known = {c.name for c in catalogue.all()}
    outcomes: list[Outcome] = []
    spent = 0.0
    for case in cases:
        if case.expected not in known:
            sys.exit(f"key.toml: {case.file}: no failure class {case.expected!r}")
        text = (data / case.file).read_text(encoding="utf-8", errors="replace")
        evidence = Evidence(
            "service",
            Result(case.result),
            exit_code=case.exit_code,
            output=tail(text),
            reason=case.reason,
        )
        begun = time.perf_counter()
        failure = catalogue.classify(evidence)
        spent += time.perf_counter() - begun
        outcomes.append(
            Outcome(
                case.file,
                case.expected,
                failure.name,
                case.subject,
                failure.subject,
                failure.summary,
            )
        )
    return outcomes, spent


def report(outcomes: list[Outcome], spent: float, *, show: bool) -> None:
    for o in outcomes:
        if show or not o.subject_right:
            mark = "ok " if o.subject_right else ("SUB" if o.class_right else "CLS")
            print(
                f"{mark} {o.file}: expected {o.expected} [{o.expected_subject or '-'}], "
                f"found {o.found} [{o.found_subject or '-'}]"
            )
            if not o.class_right:
                print(f"      {o.summary[:160]}")
    by_class: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_class[o.expected].append(o)
    print()
    print(f"{'expected class':22} {'cases':>5} {'class right':>12} {'subject right':>14}")
    for name in sorted(by_class):
        group = by_class[name]
        right = sum(o.class_right for o in group)
        subject = sum(o.subject_right for o in group)
        print(f"{name:22} {len(group):5} {right:7}/{len(group):<4} {subject:9}/{len(group):<4}")
    total = len(outcomes)
    right = sum(o.class_right for o in outcomes)
    subject = sum(o.subject_right for o in outcomes)
    wrongly = sum(1 for o in outcomes if o.found != "unclassified" and not o.class_right)
    print(
        f"{'total':22} {total:5} {right:7}/{total:<4} {subject:9}/{total:<4}"
        f"  class {right / total:.0%}, subject {subject / total:.0%}"
    )
    print(f"named a wrong known class: {wrongly} of {total}")
    print(f"classifying took {spent * 1000:.1f} ms in all ({spent / total * 1e6:.0f} µs a case)")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench deploy-realworld")
    parser.add_argument("--data", type=Path, default=None, help=f"default {DEFAULT_DATA}")
    parser.add_argument("--show", action="store_true", help="print every case")
    parser.add_argument("--json", type=Path, help="write the outcomes here")
    args, _ = parser.parse_known_args(argv)
    data: Path = args.data or DEFAULT_DATA
    if not (data / "key.toml").is_file():
        if args.data is None:
            # Run with every other area: the corpus lives outside the repository.
            print(f"no answer key at {data}/key.toml; skipped (see --data)")
            return
        sys.exit(f"{data}/key.toml: no such file")
    cases = load_key(data)
    if not cases:
        sys.exit(f"{data}/key.toml: no [[case]] entries")
    outcomes, spent = classify(data, cases)
    report(outcomes, spent, show=args.show)
    if args.json:
        rows: list[dict[str, Any]] = [
            {**asdict(o), "class_right": o.class_right, "subject_right": o.subject_right}
            for o in outcomes
        ]
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
