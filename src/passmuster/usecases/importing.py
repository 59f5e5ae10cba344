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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from passmuster.core.gc_pause import gc_paused
from passmuster.core.issues import (
    ALLOWED_TRANSITIONS,
    CloseReason,
    Issue,
    IssueQuery,
    Status,
)
from passmuster.core.limits import STORED, Checked, checked
from passmuster.core.merge import ImportRecord, Merge, field_digests, merge
from passmuster.core.notes import LogNote
from passmuster.errors import ParseError, PassmusterError
from passmuster.logs.model import (
    ImportConflict,
    ImportReport,
    LogWarning,
    ParsedIssue,
    ParsedLog,
    RemovedIssue,
    ReportEntry,
)
from passmuster.logs.reader import CHANGELOG_NOTE, Folder, issue_key, read_file

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


def _folder_held(folder: Path, found: dict[Path, Folder | None]) -> str:
    """What a folder given to import held, when none of it was an issue."""
    count = sum(1 for path in found if path.is_relative_to(folder))
    if not count:
        return f"{folder}: no log files in this folder ({', '.join(LOG_SUFFIXES)})"
    return f"{folder}: no issues found in its {count} log file{'s' if count != 1 else ''}"


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
        except Exception as exc:  # one unreadable file must not stop the others
            # A bug of the reader on a log nobody foresaw: say so, keep the other files.
            errors.append(
                f"{path}: could not be read ({type(exc).__name__}: {exc}); please report this "
                "log as a passmuster bug"
            )
        else:
            # A folder may hold an index, templates and notes beside its issue files.
            if not log.issues and folder is None:
                why = (
                    "it is a changelog"
                    if any(note.title == CHANGELOG_NOTE for note in log.notes)
                    else "nothing looks like an issue section"
                )
                errors.append(f"{path}: no issues found ({why})")
            logs.append(log)
        if progress is not None:
            progress(index + 1, len(folders))
    return logs, errors


@dataclass(slots=True)
class _Plan:
    parsed: ParsedIssue
    path: str
    source: str | None
    existing: Issue | None  # the desk's issue, when it had to be read to merge
    number: int | None  # the desk's number of the matched issue
    merge: Merge
    digests: dict[str, str]  # the log's fields now
    record: ImportRecord | None  # what the log said at its last import
    checked: Checked | None = None  # the draft as the desk's checks passed it


def _desk_keys(issues: Sequence[Issue]) -> dict[str, Issue]:
    """The same keys the reader gives, for issues already on the desk from one log."""
    keyed: dict[str, Issue] = {}
    seen: Counter[str] = Counter()
    for issue in sorted(issues, key=lambda i: i.number):
        key = issue_key(issue)
        seen[key] += 1
        keyed[key if seen[key] == 1 else f"{key}#{seen[key]}"] = issue
    return keyed


@dataclass(slots=True)
class _Log:
    """One log's issues on the desk: what it said last time, and (read when needed) the issues
    it gave before the desk remembered logs."""

    desk: Desk
    source: str
    records: dict[str, ImportRecord]
    by_desk_key: dict[str, Issue] | None = None
    matched: set[int] = field(default_factory=set)

    @classmethod
    def read(cls, desk: Desk, source: str) -> _Log:
        records = {record.key: record for record in desk.import_records(source)}
        return cls(desk, source, records)

    def desk_issues(self) -> dict[str, Issue]:
        if self.by_desk_key is None:
            self.by_desk_key = _desk_keys(self.desk.issues(IssueQuery(source=self.source)))
        return self.by_desk_key


@dataclass(slots=True)
class ImportPlan:
    """What an import would do: each issue's plan, and the issues the logs dropped."""

    issues: list[_Plan]
    removed: list[RemovedIssue]
    unrecorded: list[Issue]  # dropped issues the desk kept no record of the log for


def plan_import(
    desk: Desk | None, logs: Sequence[ParsedLog], *, prefer_log: bool = False
) -> ImportPlan:
    """Match each parsed issue to the desk and work out, field by field, what changes.

    Every draft the desk may write passes the desk's checks here, before anything is written
    (`_checked`). A draft that says what its log said at the last import is not checked again:
    it passed then, and nothing of it is written now (most of a re-import of an unchanged log).
    """
    plans: list[_Plan] = []
    known: dict[str, _Log] = {}
    for log in logs:
        for parsed in log.issues:
            draft = parsed.draft
            state: _Log | None = None
            record: ImportRecord | None = None
            if desk is not None and draft.source is not None:
                state = known.get(draft.source)
                if state is None:
                    state = known[draft.source] = _Log.read(desk, draft.source)
                record = state.records.get(parsed.key)
            if record is not None:
                digests = field_digests(draft)
                if record.digests == digests:
                    # The log says what it said last time: nothing of it to merge.
                    assert state is not None
                    state.matched.add(record.number)
                    plans.append(
                        _Plan(
                            parsed,
                            log.path,
                            draft.source,
                            None,
                            record.number,
                            Merge(),
                            digests,
                            record,
                        )
                    )
                    continue
            passed = _checked(log, parsed)
            # The checks may have given a value its field's form (a severity written as text,
            # a service named twice): the digests are of the draft as the desk would keep it.
            digests = field_digests(passed.draft)
            plan = _Plan(parsed, log.path, draft.source, None, None, Merge(), digests, record)
            plan.checked = passed
            plans.append(plan)
            if desk is None:
                continue
            if state is None:
                if parsed.number is not None:
                    plan.existing = _same_unsourced(desk, parsed)
            else:
                if plan.record is not None and plan.record.digests == digests:
                    plan.number = plan.record.number
                    state.matched.add(plan.number)
                    continue
                if plan.record is not None:
                    plan.existing = _get(desk, plan.record.number)
                if plan.existing is None:
                    plan.record = None
                    plan.existing = state.desk_issues().get(parsed.key)
                if plan.existing is not None:
                    state.matched.add(plan.existing.number)
            if plan.existing is not None:
                plan.number = plan.existing.number
                baseline = plan.record.digests if plan.record is not None else None
                plan.merge = merge(
                    baseline, plan.existing, draft, prefer_log=prefer_log, log_digests=digests
                )
    removed, unrecorded = _removed(known, logs)
    return ImportPlan(plans, removed, unrecorded)


def _checked(log: ParsedLog, parsed: ParsedIssue) -> Checked:
    """What the desk would refuse, found before anything is written and named by file:line.

    The desk's own checks with the limits of what it stores (core.limits.STORED): an import
    keeps long headings and pasted logs no form would take. The draft comes back as checked,
    so the desk files it without checking it again.
    """
    try:
        return checked(parsed.draft, STORED)
    except PassmusterError as exc:
        raise ParseError(log.path, parsed.line, exc.message) from None


def _get(desk: Desk, number: int) -> Issue | None:
    from passmuster.errors import NotFound

    try:
        return desk.get(number)
    except NotFound:
        return None


def _removed(
    known: dict[str, _Log], logs: Sequence[ParsedLog]
) -> tuple[list[RemovedIssue], list[Issue]]:
    """Issues a log gave before and no longer does: reported, never deleted. Also those of
    them the desk has no record of (imported before it remembered logs)."""
    paths = {log.source: log.path for log in logs if log.source is not None}
    removed: list[RemovedIssue] = []
    unrecorded: list[Issue] = []
    for source, state in known.items():
        recorded = {r.number for r in state.records.values()}
        gone = {n for n in recorded if n not in state.matched}
        for issue in (state.by_desk_key or {}).values():
            if issue.number not in state.matched and issue.number not in recorded:
                gone.add(issue.number)
                unrecorded.append(issue)
        for number in sorted(gone):
            dropped = _get(state.desk, number)
            if dropped is not None:
                where = paths.get(source, source)
                removed.append(RemovedIssue(where, number, dropped.title, dropped.original_id))
    return removed, unrecorded


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
    changes, status = plan.merge.changes, plan.merge.status
    if changes:
        desk.update(number, changes, actor=actor, limits=STORED)
    if status is not None:
        draft = plan.parsed.draft
        for step in _transition_path(existing.status, status):
            reason = None
            if step is Status.CLOSED:
                reason = draft.close_reason or CloseReason.WONT_FIX
            desk.transition(number, step, actor=actor, reason=reason)
    if changes or status is not None:
        # Which log line the change came from, for the issue's timeline.
        desk.record_event(number, "imported", actor=actor, field="source", new=_where(plan))


def apply_plan(desk: Desk, whole: ImportPlan, *, actor: str) -> dict[int, int]:
    """Write the plan in the current transaction; returns plan index → desk number."""
    plans = whole.issues
    numbers: dict[int, int] = {}
    for index, plan in enumerate(plans):
        if plan.existing is not None:
            try:
                _update(desk, plan, plan.existing, actor=actor)
            except PassmusterError as exc:
                raise ParseError(plan.path, plan.parsed.line, exc.message) from None
        if plan.number is not None:
            numbers[index] = plan.number
    new = [(index, plan) for index, plan in enumerate(plans) if plan.number is None]
    if new:
        drafts = [plan.checked or plan.parsed.draft for _, plan in new]
        filed = desk.file_many(drafts, actor=actor, limits=STORED)
        for (index, _), issue in zip(new, filed, strict=True):
            numbers[index] = issue.number
    desk.save_import_records(_records(plans, numbers, whole.unrecorded))
    return numbers


def _records(
    plans: Sequence[_Plan], numbers: dict[int, int], unrecorded: Sequence[Issue]
) -> list[ImportRecord]:
    """What to remember of each log now: every issue whose log text or line moved, and the
    issues the log dropped that the desk had no record of (so later imports report them too)."""
    records: list[ImportRecord] = []
    for index, plan in enumerate(plans):
        source = plan.source
        if source is None:
            continue
        before = plan.record
        if (
            before is not None
            and before.line == plan.parsed.line
            and before.number == numbers[index]
            and before.key == plan.parsed.key
            and before.source == source
            and before.digests == plan.digests
        ):
            continue  # the record stands as it is (most of a re-import of an unchanged log)
        record = ImportRecord(
            numbers[index], source, plan.parsed.key, plan.parsed.line, plan.digests
        )
        if plan.record != record:
            records.append(record)
    for issue in unrecorded:
        if issue.source is not None:
            key = issue_key(issue)
            records.append(ImportRecord(issue.number, issue.source, key, 0, field_digests(issue)))
    return records


def import_logs(
    desk: Desk | None,
    paths: Sequence[Path],
    *,
    actor: str,
    dry_run: bool = False,
    family: str = "auto",
    root: Path | None = None,
    progress: Progress | None = None,
    prefer: str = "desk",
) -> ImportReport:
    """Read the logs and, unless `dry_run`, apply them to `desk` in one transaction.

    A re-imported log merges three ways (core.merge): a field changed on the desk and in the
    log since the last import keeps the desk's value, or the log's with `prefer="log"`.
    Raises NothingImported when no file yields an issue; the report is attached as `.report`.
    """
    if prefer not in ("desk", "log"):
        raise PassmusterError(f"prefer {prefer!r}: choose desk or log")
    with gc_paused():
        return _import_logs(
            desk,
            paths,
            actor=actor,
            dry_run=dry_run,
            family=family,
            root=root,
            progress=progress,
            prefer=prefer,
        )


def _import_logs(
    desk: Desk | None,
    paths: Sequence[Path],
    *,
    actor: str,
    dry_run: bool,
    family: str,
    root: Path | None,
    progress: Progress | None,
    prefer: str,
) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    folders = collect_logs(paths)
    files = list(folders)
    logs, errors = read_logs(folders, root=root, family=family, progress=progress)
    report.files = [str(f) for f in files]
    report.errors = errors
    for log in logs:
        report.formats[log.path] = log.family
        report.notes.extend(log.notes)
        report.notes.extend(log.carried_notes)
        report.warnings.extend(log.warnings)
        report.totals.extend(log.totals)
    if not any(log.issues for log in logs):
        # A folder's files that hold no issue are not errors (an index, templates): say what the
        # folders held, rather than that no log was given.
        said = [*errors, *(_folder_held(path, folders) for path in paths if path.is_dir())]
        raise NothingImported(
            "nothing imported: " + ("; ".join(said) if said else "no log files given"), report
        )
    whole = plan_import(desk, logs, prefer_log=prefer == "log")
    numbers: dict[int, int] = {}
    if not dry_run:
        assert desk is not None
        with desk.transaction():
            numbers = apply_plan(desk, whole, actor=actor)
            _keep_notes(desk, logs)
            _pause_for_tests()
    for index, plan in enumerate(whole.issues):
        _report_issue(report, plan, numbers.get(index, plan.number), dry_run=dry_run)
    report.removed = whole.removed
    for gone in whole.removed:
        what = gone.original_id or repr(gone.title)
        report.warnings.append(
            LogWarning(
                gone.path,
                1,
                f"#{gone.number:03d} {what} is no longer in this log; kept on the desk",
            )
        )
    return report


def _keep_notes(desk: Desk, logs: Sequence[ParsedLog]) -> None:
    """Each log's notes replace what the desk kept of it; an exported log gives back the notes
    it carries to the logs they came from."""
    carried: dict[str, list[LogNote]] = {}
    for log in logs:
        for note in log.carried_notes:
            carried.setdefault(note.path, []).append(note)
    for log in logs:
        if log.source is not None and log.source not in carried:
            kept = [LogNote(log.source, n.line, n.title, n.body) for n in log.notes]
            desk.replace_log_notes(log.source, kept)
    for source, notes in carried.items():
        desk.replace_log_notes(source, notes)


def _report_issue(report: ImportReport, plan: _Plan, number: int | None, *, dry_run: bool) -> None:
    parsed, found = plan.parsed, plan.merge
    if plan.number is None:
        action = "created"
    elif found.changes or found.status is not None:
        action = "updated"
    else:
        action = "unchanged"
    if dry_run and action != "unchanged":
        action = f"would be {action}"
    changed = sorted(found.changes) + (["status"] if found.status is not None else [])
    report.issues.append(
        ReportEntry(
            path=plan.path,
            line=parsed.line,
            title=parsed.draft.title,
            original_id=parsed.draft.original_id,
            action=action,
            number=number,
            filled=list(parsed.filled),
            changed=changed,
            status=parsed.draft.status.value,
            kept=list(found.kept),
        )
    )
    assert number is not None or not found.conflicts
    for conflict in found.conflicts:
        entry = ImportConflict(
            plan.path,
            parsed.line,
            number or 0,
            parsed.draft.title,
            conflict.field,
            conflict.desk,
            conflict.log,
            conflict.taken,
        )
        report.conflicts.append(entry)
        report.warnings.append(LogWarning(plan.path, parsed.line, str(entry).split(": ", 1)[1]))
