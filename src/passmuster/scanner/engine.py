"""Run the rules over a discovered platform: suppressions, baseline, parse errors, exit codes.

    result = scan(Path("."), ScanConfig())
    result.findings        # what to report, sorted by service, file and line
    result.exit_code(Severity.HIGH)

Each rule reads the one parsed `Platform`; nothing is re-read per rule. A rule that crashes is
reported as PM003 and the scan goes on.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from passmuster.core.findings import Finding, Suppression, at_least
from passmuster.core.gc_pause import gc_paused
from passmuster.core.issues import Severity
from passmuster.errors import ConfigError
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.context import Platform, discover
from passmuster.scanner.context.reading import Deadline
from passmuster.scanner.registry import Registry, default_registry
from passmuster.scanner.rule import Rule

# `# passmuster: ignore[CODE, CODE2] why` in any file type that has `#` comments.
_SUPPRESSION = re.compile(r"#\s*passmuster:\s*ignore\[([A-Za-z0-9_,\s-]*)\]\s*(.*)$")

Progress = Callable[[int, int, str], None]  # (done, total, what is running now)


@dataclass(slots=True)
class ScanResult:
    platform: Platform
    findings: list[Finding]
    rules: list[type[Rule]]
    suppressed: list[Finding] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    seconds: float = 0.0
    # Python files that do not parse with the Python running the scan, in services whose image
    # runs a newer one: not analysed, and no PM001 (see `_parse_findings`).
    newer_python: list[str] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(f.severity.value for f in self.findings)

    def exit_code(self, fail_on: Severity = Severity.INFO) -> int:
        """1 when a finding is at least as severe as `fail_on`, else 0."""
        return 1 if any(at_least(f.severity, fail_on) for f in self.findings) else 0

    def fingerprints(self) -> set[str]:
        return {f.fingerprint for f in self.findings}


def scan(
    root: Path,
    config: ScanConfig | None = None,
    *,
    registry: Registry | None = None,
    baseline: set[str] | None = None,
    progress: Progress | None = None,
    platform: Platform | None = None,
) -> ScanResult:
    """Discover the platform under `root` (unless given) and run the selected rules."""
    with gc_paused():
        return _scan(root, config, registry, baseline, progress, platform)


def _scan(
    root: Path,
    config: ScanConfig | None,
    registry: Registry | None,
    baseline: set[str] | None,
    progress: Progress | None,
    platform: Platform | None,
) -> ScanResult:
    config = config or ScanConfig()
    registry = registry or default_registry()
    rules = registry.select(config.select, config.ignore, config.extend_select)
    started = time.perf_counter()
    deadline = Deadline.after(config.timeout)
    total = len(rules) + 1
    if progress is not None:
        progress(0, total, "reading the platform")
    if platform is None:
        platform = discover(root, config, deadline=deadline)
    codes = {r.code for r in rules}
    raw: list[Finding] = []
    newer = _newer_python(platform)
    if "PM001" in codes:
        raw.extend(_parse_findings(platform, deadline, skip=set(newer)))
    for done, rule_class in enumerate(rules, start=1):
        if progress is not None:
            progress(done, total, rule_class.code)
        deadline.check(f"running {rule_class.code}")
        rule = rule_class(config.rule_options(rule_class.code, rule_class.name))
        try:
            raw.extend(rule.check(platform))
        except Exception as exc:  # a rule's bug must not hide every other rule's findings
            if "PM003" in codes:
                raw.append(
                    Finding(
                        "PM003",
                        f"rule {rule_class.code} failed: {type(exc).__name__}: {exc}",
                        "passmuster.toml",
                        None,
                        Severity.HIGH,
                        key=rule_class.code,
                    )
                )
    if progress is not None:
        progress(total, total, "done")
    platform.drop_derived()  # the rules are done with them: see drop_derived
    findings = _dedupe(raw)
    if config.per_file_ignores:
        findings = [f for f in findings if not _ignored_here(f, config.per_file_ignores)]
    suppressions = find_suppressions(platform)
    kept, suppressed = _apply_suppressions(findings, suppressions)
    if "PM002" in codes:
        kept.extend(_unused(suppressions, codes, registry))
    baselined: list[Finding] = []
    if baseline:
        baselined = [f for f in kept if f.fingerprint in baseline]
        kept = [f for f in kept if f.fingerprint not in baseline]
    kept.sort(key=Finding.sort_key)
    return ScanResult(
        platform=platform,
        findings=kept,
        rules=rules,
        suppressed=suppressed,
        baselined=baselined,
        suppressions=suppressions,
        seconds=time.perf_counter() - started,
        newer_python=newer,
    )


def _ignored_here(finding: Finding, per_file: dict[str, list[str]]) -> bool:
    for pattern, codes in per_file.items():
        if fnmatch.fnmatch(finding.path, pattern) and any(
            finding.code.startswith(code.strip().upper()) for code in codes
        ):
            return True
    return False


def _parse_findings(platform: Platform, deadline: Deadline, *, skip: set[str]) -> Iterable[Finding]:
    seen: set[tuple[str, int | None, str]] = set()
    owners = _owners(platform)
    problems = list(platform.problems)
    for source in platform.python.values():
        deadline.check(f"parsing {source.path}")
        if source.error is not None and source.path not in skip:
            problems.append(source.error)
    for problem in problems:
        key = (problem.path, problem.line, problem.message)
        if key in seen:
            continue
        seen.add(key)
        yield Finding(
            "PM001",
            problem.message,
            problem.path,
            problem.line,
            Severity.HIGH,
            service=owners.get(problem.path),
            key=problem.message,
        )


def _newer_python(platform: Platform) -> list[str]:
    """The Python files that fail to parse here but belong to a service whose image runs a
    newer Python than this one: they may well be valid there (f-strings nesting their own
    quotes and `type` aliases came in 3.12, `except A, B:` in 3.14), and `ast` parses only the
    syntax of the Python it runs in. Reporting them as invalid would be a false finding."""
    from passmuster.scanner.context.images import release

    running = sys.version_info[:2]
    newer: set[str] = set()
    for service in platform.every_service():
        version = release(service.python_version)
        if version is not None and version > running:
            newer.update(service.python_files)
    return sorted(
        path
        for path in newer
        if (source := platform.python.get(path)) is not None
        and source.error is not None
        and source.error.message.startswith("invalid Python")
    )


def _owners(platform: Platform) -> dict[str, str]:
    """The service a file belongs to, when exactly one service uses it."""
    users: dict[str, set[str]] = {}
    for service in platform.every_service():
        paths = [*service.python_files, *service.requirement_files]
        if service.dockerfile_path:
            paths.append(service.dockerfile_path)
        for path in paths:
            users.setdefault(path, set()).add(service.name)
    return {path: next(iter(names)) for path, names in users.items() if len(names) == 1}


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, int | None, str, str | None]] = set()
    result = []
    for finding in findings:
        key = (finding.code, finding.path, finding.line, finding.message, finding.service)
        if key not in seen:
            seen.add(key)
            result.append(finding)
    return result


def find_suppressions(platform: Platform) -> list[Suppression]:
    """Every inline suppression comment in the files the scan read.

    A comment after code covers its own line; a comment alone on its line also covers the next
    line that is not blank or a comment (Dockerfiles allow comments only on their own line).
    """
    found: list[Suppression] = []
    # Files read only for committed credentials count too: a key in a script or a YAML
    # file is silenced where it is written.
    for path, text in {**platform.credential_texts, **platform.texts}.items():
        if "passmuster:" not in text:
            continue
        lines = text.splitlines()
        for index, line in enumerate(lines):
            match = _SUPPRESSION.search(line)
            if match is None:
                continue
            codes = tuple(c.strip().upper() for c in match.group(1).split(",") if c.strip())
            if not codes:
                continue
            number = index + 1
            covers = [number]
            if not line[: match.start()].strip():
                for follow in range(index + 1, len(lines)):
                    stripped = lines[follow].strip()
                    if stripped and not stripped.startswith("#"):
                        covers.append(follow + 1)
                        break
            found.append(Suppression(path, number, tuple(covers), codes, match.group(2).strip()))
    return found


def _apply_suppressions(
    findings: list[Finding], suppressions: list[Suppression]
) -> tuple[list[Finding], list[Finding]]:
    by_path: dict[str, list[Suppression]] = {}
    for suppression in suppressions:
        by_path.setdefault(suppression.path, []).append(suppression)
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for finding in findings:
        matched = False
        for suppression in by_path.get(finding.path, ()):
            if suppression.covers(finding):
                for code in suppression.codes:
                    if finding.code.startswith(code):
                        suppression.used.add(code)
                matched = True
        (suppressed if matched else kept).append(finding)
    return kept, suppressed


def _unused(suppressions: list[Suppression], codes: set[str], registry: Registry) -> list[Finding]:
    result = []
    for suppression in suppressions:
        for code in suppression.codes:
            if code in suppression.used:
                continue
            if not registry.matches(code):
                message = f"suppression names {code}, which no rule has"
            elif any(c.startswith(code) for c in codes):
                message = f"unused suppression: {code} reports nothing here"
            else:
                continue  # the rule did not run in this scan; nothing to say about it
            result.append(
                Finding(
                    "PM002",
                    message,
                    suppression.path,
                    suppression.line,
                    Severity.LOW,
                    key=f"{code}:{message}",
                )
            )
    return result


# ---------------------------------------------------------------------- baseline

BASELINE_VERSION = 1


def read_baseline(path: Path) -> set[str]:
    """The fingerprints recorded in a baseline file; errors name the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such baseline file (create it with --write-baseline)"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a passmuster baseline: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ConfigError(f"{path}: not a passmuster baseline (no `findings` list)")
    return {str(item.get("fingerprint")) for item in data["findings"] if isinstance(item, dict)}


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Record findings so later scans report only new ones; returns how many."""
    items = [
        {
            "fingerprint": f.fingerprint,
            "code": f.code,
            "service": f.service,
            "path": f.path,
            "message": f.message,
        }
        for f in sorted(findings, key=Finding.sort_key)
    ]
    data = {"version": BASELINE_VERSION, "findings": items}
    try:
        # The documented place is .passmuster/baseline.json, which a repository without a
        # desk does not have yet.
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None
    return len(items)
