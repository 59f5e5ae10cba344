"""Read a Markdown issue log: pick its format family, read it, check what it says about itself.

`read_file(path)` and `read_text(text, path)` return a ParsedLog with issues, log notes,
warnings (file:line) and the log's own stated totals compared with what was found. Nothing here
touches a desk.
"""

from __future__ import annotations

import gc
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from passmuster.core.issues import IssueDraft
from passmuster.errors import ParseError
from passmuster.logs.model import ParsedLog, StatedTotal
from passmuster.logs.outline import build_outline
from passmuster.logs.readers import tables
from passmuster.logs.readers.sections import SectionReader
from passmuster.logs.text import decode
from passmuster.logs.vocab import (
    clean,
    normalise_severity,
    normalise_status,
    normalise_type,
    words,
)

FAMILIES = ("auto", "sections", "single", "table")
_TOTAL_ENDINGS = ("issues", "issue", "items", "item", "bugs", "bug", ".", "Issues", "Issue")

_TOTAL = re.compile(
    r"^\s*(?:[-*+]\s+)?[^\w\s]*\s*(?:\*\*)?(?P<label>[^\d:：*]{1,40}?)(?:\*\*)?\s*[:：]\s*(?:\*\*)?"
    r"(?P<n>\d+)(?:\*\*)?\s+(?:open\s+)?(?:issues?|items?|bugs?)\b\s*\.?\s*$",
    re.IGNORECASE,
)


def read_file(path: Path, *, source: str | None = None, family: str = "auto") -> ParsedLog:
    """Read one log file; a ParseError names the file when it is not a readable log."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(path, None, f"cannot read: {exc.strerror or exc}") from None
    return read_text(decode(data, path), str(path), source=source, family=family)


def read_text(
    text: str, path: str, *, source: str | None = None, family: str = "auto"
) -> ParsedLog:
    if family not in FAMILIES:
        raise ParseError(
            path, None, f"unknown format {family!r}; choose from {', '.join(FAMILIES)}"
        )
    with _gc_paused():
        return _read(text, path, source=source, family=family)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Reading allocates many small objects and frees none: cyclic GC passes only cost time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read(text: str, path: str, *, source: str | None, family: str) -> ParsedLog:
    outline = build_outline(text)
    log = ParsedLog(path=path, family=family, source=source if source is not None else path)
    if outline.repaired:
        log.warn(
            outline.first_repaired + 1,
            f"repaired garbled characters (mojibake) on {outline.repaired} line(s), the first here",
        )
    for start in outline.unclosed_fences:
        log.warn(start + 1, "code fence never closed: it ends at the next heading instead")
    if family == "table":
        rest = tables.read_tables(
            outline.lines, outline.inside_fence, list(range(len(outline.lines))), log
        )
        body = "\n".join(outline.lines[i] for i in rest).strip()
        if body:
            from passmuster.logs.model import LogNote

            log.notes.append(LogNote(path, 1, "(outside the table)", body))
    else:
        single = family == "single"
        SectionReader(outline, log, single=single).read()
        if family == "auto":
            log.family = _detected(
                log, outline.root.children[0].line if outline.root.children else -1
            )
    _number_keys(log)
    _stated_totals(log, outline.lines, outline.inside_fence)
    return log


def _detected(log: ParsedLog, first_heading: int) -> str:
    if log.issues and all(issue.origin == "table" for issue in log.issues):
        return "table"
    if len(log.issues) == 1 and log.issues[0].line == first_heading + 1:
        return "single"
    return "sections"


def issue_key(draft: IssueDraft) -> str:
    """What a later import of the same log matches this issue by: its ID, else its title."""
    name = f"id:{draft.original_id}" if draft.original_id else f"title:{draft.title}"
    return f"{draft.source}|{name}"


def _number_keys(log: ParsedLog) -> None:
    """Give each issue its match key; a key seen twice is a conflict kept twice, with a warning."""
    first_line: dict[str, int] = {}
    seen: Counter[str] = Counter()
    for issue in log.issues:
        key = issue_key(issue.draft)
        seen[key] += 1
        if seen[key] > 1:
            what = issue.draft.original_id or repr(issue.draft.title)
            log.warn(
                issue.line,
                f"{what} appears again (first at line {first_line[key]}); both kept",
            )
            key = f"{key}#{seen[key]}"
        else:
            first_line[key] = issue.line
        issue.key = key


def _classify_total(label: str) -> tuple[str, Callable[[IssueDraft], bool]] | None:
    key = clean(label)
    if key in words("total"):
        return "total", lambda d: True
    status = normalise_status(label)
    if status is not None:
        return f"status {status.value}", lambda d: d.status is status
    severity = normalise_severity(label)
    if severity is not None:
        return f"severity {severity.value}", lambda d: d.severity is severity
    typ = normalise_type(label)
    if typ is not None:
        return f"type {typ.value}", lambda d: d.type is typ
    return None


def _stated_totals(log: ParsedLog, lines: list[str], inside: list[bool]) -> None:
    """ "Open: 17 issues" in a summary: compare with what this file was found to hold."""
    issue_lines = {issue.line for issue in log.issues}
    for i, line in enumerate(lines):
        if inside[i] or not line.endswith(_TOTAL_ENDINGS) or i + 1 in issue_lines:
            continue
        m = _TOTAL.match(line)
        if m is None:
            continue
        label = m.group("label").strip()
        classified = _classify_total(label)
        if classified is None:
            continue
        _, predicate = classified
        found = sum(1 for issue in log.issues if predicate(issue.draft))
        _add_total(log, i + 1, label, int(m.group("n")), found)
    _month_tables(log, lines, inside)


def _add_total(log: ParsedLog, line: int, label: str, stated: int, found: int) -> None:
    total = StatedTotal(log.path, line, label, stated, found)
    log.totals.append(total)
    if not total.matches:
        log.warn(line, f"the log says {label}: {stated} issues; {found} found")


def _month_tables(log: ParsedLog, lines: list[str], inside: list[bool]) -> None:
    """A `| Month | Critical | High | … | Total |` statistics table, row by row."""
    from passmuster.logs.readers.tables import split_row

    if any(p.draft.reported_at is None for p in log.issues):
        return  # undated issues could belong to any month: nothing to compare honestly
    for i, line in enumerate(lines):
        if inside[i] or not line.lstrip().startswith("|") or "month" not in line.lower():
            continue
        header = [clean(cell) for cell in split_row(line)]
        if not header or header[0] != "month":
            continue
        j = i + 2
        while j < len(lines) and lines[j].lstrip().startswith("|") and not inside[j]:
            cells = split_row(lines[j])
            month = _month_of(cells[0]) if cells else None
            if month is not None:
                in_month = [
                    p.draft
                    for p in log.issues
                    if p.draft.reported_at is not None
                    and p.draft.reported_at.strftime("%Y-%m") == month
                ]
                for name, cell in zip(header[1:], cells[1:], strict=False):
                    if not cell.strip().isdigit():
                        continue
                    severity = normalise_severity(name)
                    if name == "total":
                        found = len(in_month)
                    elif severity is not None:
                        found = sum(1 for d in in_month if d.severity is severity)
                    else:
                        continue
                    _add_total(log, j + 1, f"{cells[0]} {name}", int(cell), found)
            j += 1


def _month_of(text: str) -> str | None:
    """`Sep 2025` or `2025-09` → `2025-09`."""
    for fmt in ("%b %Y", "%B %Y", "%Y-%m"):
        try:
            return datetime.strptime(text.strip().replace("*", ""), fmt).strftime("%Y-%m")
        except ValueError:
            continue
    return None
