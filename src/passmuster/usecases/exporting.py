"""Export the desk as a Markdown log: one file, one file per issue, or a check against disk.

A log is read in terminals and editors: control characters in issue text (an escape sequence
that clears the screen or hides a link) are written visibly, as `\x1b` (core.visible), while
the desk keeps the text exactly as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from passmuster.core.gc_pause import gc_paused
from passmuster.core.issues import Issue, IssueQuery
from passmuster.core.visible import escape_controls
from passmuster.errors import ParseError
from passmuster.logs.writer import issue_filename, render_log, render_single

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk


def desk_root(desk: Desk) -> Path | None:
    """The folder holding `.passmuster/` for a desk file; None for a server database."""
    database = desk.engine.url.database
    if desk.engine.url.get_backend_name() != "sqlite" or not database:
        return None
    path = Path(database).resolve()
    return path.parent.parent if path.parent.name == ".passmuster" else path.parent


def desk_issues(desk: Desk, query: IssueQuery | None = None) -> list[Issue]:
    return desk.issues(query or IssueQuery(sort="number"))


def export_log(
    desk: Desk,
    *,
    title: str = "Issue Log",
    template: Path | None = None,
    query: IssueQuery | None = None,
    notes: bool = False,
) -> str:
    """The desk as one Markdown log; the same desk always gives the same text. With `notes`,
    the imported logs' notes follow the issues."""
    if template is not None and not template.is_file():
        raise ParseError(template, None, "template not found")
    with gc_paused():
        kept = desk.log_notes() if notes else []
        issues = desk_issues(desk, query)
        return escape_controls(render_log(issues, title=title, template=template, notes=kept))


@dataclass(frozen=True, slots=True)
class FileResult:
    path: Path
    changed: bool


def write_if_changed(path: Path, text: str) -> FileResult:
    """Write `text` unless the file already holds exactly it (keeps mtimes for make and git)."""
    try:
        current = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        current = None
    if current == text:
        return FileResult(path, False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except BaseException:
        # A full disk or a permission problem: the old file stays whole, no temporary is left.
        tmp.unlink(missing_ok=True)
        raise
    return FileResult(path, True)


def differs(path: Path, text: str) -> bool:
    """True when the file on disk is missing or not exactly `text` (for --check)."""
    try:
        return path.read_text(encoding="utf-8") != text
    except (FileNotFoundError, UnicodeDecodeError):
        return True


def per_issue_files(desk: Desk, query: IssueQuery | None = None) -> dict[str, str]:
    """File name → Markdown for one file per issue."""
    with gc_paused():
        return {
            issue_filename(issue, issue.number): escape_controls(render_single(issue))
            for issue in desk_issues(desk, query)
        }
