"""Import Markdown issue logs into a desk: every file read first, then one transaction.

An issue is matched to the desk by its log (the `source`) and its original ID, or its title when
the log gives no ID; a log that passmuster exported carries the desk numbers, which match too.
New issues are filed, changed ones updated field by field (each change an event), and unchanged
ones left alone, so importing the same log twice changes nothing. The whole import commits or
none of it does, also when the process dies midway.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from passmuster.core.issues import (
    ALLOWED_TRANSITIONS,
    EDITABLE_FIELDS,
    CloseReason,
    Issue,
    IssueDraft,
    IssueQuery,
    Status,
)
from passmuster.core.limits import STORED, check_draft
from passmuster.errors import ParseError, PassmusterError
from passmuster.logs.model import ImportReport, ParsedIssue, ParsedLog, ReportEntry
from passmuster.logs.reader import Folder, issue_key, read_file

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk

LOG_SUFFIXES = (".md", ".markdown", ".mdown", ".txt")
# For the kill test: pause (seconds) inside the open transaction, after the writes.
PAUSE_ENV = "PASSMUSTER_IMPORT_PAUSE"

Progress = Callable[[int, int], None]


class NothingImported(PassmusterError):
    """No file held an issue that could be imported (exit 2); `report` says why per file."""

    exit_code = 2
    status_code = 422

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders contribute their log files (one issue per file is fine)."""
    return list(collect_logs(paths))


def collect_logs(paths: Iterable[Path]) -> dict[Path, Folder | None]:
    """Each log file, with the folder it was found in (None for a file given by name)."""
    found: dict[Path, Folder | None] = {}
    for path in paths:
        if path.is_dir():
            members = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in LOG_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            files = frozenset(str(p.resolve()) for p in members)
            for member in members:
                found[member] = Folder(files, index=_is_index(member, files))
        elif path.exists():
            found[path] = None
        else:
            raise ParseError(path, None, "no such file or folder")
    return found


_INDEX_NAMES = frozenset({"readme", "index", "_index", "toc", "summary", "contents"})


def _is_index(path: Path, files: frozenset[str]) -> bool:
    """A folder's index: named like one, or linking to most other files of the folder."""
    if path.stem.lower() in _INDEX_NAMES:
        return True
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    targets = {
        str((path.parent / m.group(1)).resolve()) for m in re.finditer(r"\]\(([^)\s#]+)", text)
    }
    # An issue may link to a related one or two; an index links to most of the folder.
    linked = len((targets & files) - {str(path.resolve())})
    return linked >= 3 and linked * 2 >= len(files) - 1


def source_label(path: Path, root: Path | None) -> str:
    """How a log is named on the desk: relative to the desk's folder when inside it."""
    resolved = path.resolve()
    if root is not None:
        try:
            return resolved.relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return resolved.as_posix()


def read_logs(
    files: Sequence[Path] | dict[Path, Folder | None],
    *,
    root: Path | None,
    family: str = "auto",
    progress: Progress | None = None,
) -> tuple[list[ParsedLog], list[str]]:
    """Read every file (with the folder each was found in, from `collect_logs`); a file that
    cannot be read is an error message naming it, not a stop."""
    logs: list[ParsedLog] = []
    errors: list[str] = []
    folders = files if isinstance(files, dict) else dict.fromkeys(files)
    for index, path in enumerate(folders):
        folder = folders.get(path)
        try:
            log = read_file(path, source=source_label(path, root), family=family, folder=folder)
        except ParseError as exc:
            errors.append(exc.message)
        else:
            # A folder may hold an index, templates and notes beside its issue files.
            if not log.issues and folder is None:
                errors.append(f"{path}: no issues found (nothing looks like an issue section)")
            logs.append(log)
        if progress is not None:
            progress(index + 1, len(folders))
    return logs, errors


@dataclass(slots=True)
class _Plan:
    parsed: ParsedIssue
    path: str
    existing: Issue | None
    changes: dict[str, Any]
    status: Status | None


_COMPARED = tuple(sorted(EDITABLE_FIELDS))


def _changes(draft: IssueDraft, issue: Issue) -> dict[str, Any]:
    return {
        name: getattr(draft, name)
        for name in _COMPARED
        if getattr(draft, name) != getattr(issue, name)
    }


def _desk_keys(issues: Sequence[Issue]) -> dict[str, Issue]:
    """The same keys the reader gives, for issues already on the desk from one log."""
    keyed: dict[str, Issue] = {}
    seen: Counter[str] = Counter()
    for issue in sorted(issues, key=lambda i: i.number):
        key = issue_key(issue)
        seen[key] += 1
        keyed[key if seen[key] == 1 else f"{key}#{seen[key]}"] = issue
    return keyed


def plan_import(desk: Desk | None, logs: Sequence[ParsedLog]) -> list[_Plan]:
    """Match each parsed issue to the desk and work out what would change."""
    plans: list[_Plan] = []
    by_source: dict[str, dict[str, Issue]] = {}
    for log in logs:
        for parsed in log.issues:
            draft = parsed.draft
            existing: Issue | None = None
            if desk is not None:
                if draft.source is not None:
                    if draft.source not in by_source:
                        by_source[draft.source] = _desk_keys(
                            desk.list(IssueQuery(source=draft.source))
                        )
                    existing = by_source[draft.source].get(parsed.key)
                elif parsed.number is not None:
                    existing = _same_unsourced(desk, parsed)
            if existing is None:
                plans.append(_Plan(parsed, log.path, None, {}, None))
                continue
            status = draft.status if draft.status is not existing.status else None
            plans.append(_Plan(parsed, log.path, existing, _changes(draft, existing), status))
    return plans


def _same_unsourced(desk: Desk, parsed: ParsedIssue) -> Issue | None:
    """An exported issue that was filed by hand: the same number, no log, the same title."""
    from passmuster.errors import NotFound

    assert parsed.number is not None
    try:
        issue = desk.get(parsed.number)
    except NotFound:
        return None
    if issue.source is None and issue.title == parsed.draft.title:
        return issue
    return None


def _transition_path(current: Status, target: Status) -> list[Status]:
    """Finished issues move back through `open` to reach a work state."""
    if target in ALLOWED_TRANSITIONS[current]:
        return [target]
    return [Status.OPEN, target]


def _where(plan: _Plan) -> str:
    return f"{plan.parsed.draft.source or plan.path}:{plan.parsed.line}"


def _pause_for_tests() -> None:
    pause = os.environ.get(PAUSE_ENV)
    if pause:
        marker = os.environ.get(f"{PAUSE_ENV}_MARKER")
        if marker:
            Path(marker).write_text("paused\n", encoding="utf-8")
        time.sleep(float(pause))


def _update(desk: Desk, plan: _Plan, existing: Issue, *, actor: str) -> None:
    number = existing.number
    if plan.changes:
        desk.update(number, plan.changes, actor=actor, limits=STORED)
    if plan.status is not None:
        draft = plan.parsed.draft
        for step in _transition_path(existing.status, plan.status):
            reason = None
            if step is Status.CLOSED:
                reason = draft.close_reason or CloseReason.WONT_FIX
            desk.transition(number, step, actor=actor, reason=reason)
    if plan.changes or plan.status is not None:
        # Which log line the change came from, for the issue's timeline.
        desk.record_event(number, "imported", actor=actor, field="source", new=_where(plan))


def check_drafts(logs: Sequence[ParsedLog]) -> None:
    """What the desk would refuse, found before anything is written and named by file:line.

    The desk's own checks with the limits of what it stores (core.limits.STORED): an import
    keeps long headings and pasted logs no form would take.
    """
    for log in logs:
        for parsed in log.issues:
            try:
                check_draft(parsed.draft, STORED)
            except PassmusterError as exc:
                raise ParseError(log.path, parsed.line, exc.message) from None


def apply_plan(desk: Desk, plans: Sequence[_Plan], *, actor: str) -> dict[int, int]:
    """Write the plan in the current transaction; returns plan index → desk number."""
    numbers: dict[int, int] = {}
    for index, plan in enumerate(plans):
        existing = plan.existing
        if existing is None:
            continue
        number = existing.number
        try:
            _update(desk, plan, existing, actor=actor)
        except PassmusterError as exc:
            raise ParseError(plan.path, plan.parsed.line, exc.message) from None
        numbers[index] = number
    new = [(index, plan) for index, plan in enumerate(plans) if plan.existing is None]
    if new:
        drafts = [plan.parsed.draft for _, plan in new]
        filed = desk.file_many(drafts, actor=actor, limits=STORED)
        for (index, _), issue in zip(new, filed, strict=True):
            numbers[index] = issue.number
    return numbers


def import_logs(
    desk: Desk | None,
    paths: Sequence[Path],
    *,
    actor: str,
    dry_run: bool = False,
    family: str = "auto",
    root: Path | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Read the logs and, unless `dry_run`, apply them to `desk` in one transaction.

    Raises NothingImported when no file yields an issue; the report is attached as `.report`.
    """
    report = ImportReport(dry_run=dry_run)
    folders = collect_logs(paths)
    files = list(folders)
    logs, errors = read_logs(folders, root=root, family=family, progress=progress)
    report.files = [str(f) for f in files]
    report.errors = errors
    for log in logs:
        report.formats[log.path] = log.family
        report.notes.extend(log.notes)
        report.warnings.extend(log.warnings)
        report.totals.extend(log.totals)
    if not any(log.issues for log in logs):
        raise NothingImported(
            "nothing imported: " + ("; ".join(errors) if errors else "no log files given"),
            report,
        )
    check_drafts(logs)
    plans = plan_import(desk, logs)
    numbers: dict[int, int] = {}
    if not dry_run:
        assert desk is not None
        with desk.transaction():
            numbers = apply_plan(desk, plans, actor=actor)
            _pause_for_tests()
    for index, plan in enumerate(plans):
        parsed = plan.parsed
        if plan.existing is None:
            action = "created"
        elif plan.changes or plan.status is not None:
            action = "updated"
        else:
            action = "unchanged"
        if dry_run and action != "unchanged":
            action = f"would be {action}"
        changed = sorted(plan.changes) + (["status"] if plan.status is not None else [])
        report.issues.append(
            ReportEntry(
                path=plan.path,
                line=parsed.line,
                title=parsed.draft.title,
                original_id=parsed.draft.original_id,
                action=action,
                number=numbers.get(index, plan.existing.number if plan.existing else None),
                filled=list(parsed.filled),
                changed=changed,
                status=parsed.draft.status.value,
            )
        )
    return report
