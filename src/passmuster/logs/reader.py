"""Read a Markdown issue log: pick its format family, read it, check what it says about itself.

`read_file(path)` and `read_text(text, path)` return a ParsedLog with issues, log notes,
warnings (file:line) and the log's own stated totals compared with what was found. Nothing here
touches a desk.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from passmuster.core.gc_pause import gc_paused
from passmuster.core.issues import IssueDraft
from passmuster.errors import ParseError
from passmuster.logs.body import split_body
from passmuster.logs.model import LogNote, ParsedIssue, ParsedLog, StatedTotal
from passmuster.logs.outline import Node, Outline, build_outline, heading_parts
from passmuster.logs.readers import bullets, tables
from passmuster.logs.readers.sections import SectionReader
from passmuster.logs.text import decode, lines_containing
from passmuster.logs.titles import is_note_title, section_meaning
from passmuster.logs.vocab import (
    clean,
    field_for,
    normalise_severity,
    normalise_status,
    normalise_type,
    strip_emoji,
    words,
)

FAMILIES = ("auto", "sections", "single", "table")
CHANGELOG_NOTE = "(a changelog)"  # the title of the note a changelog is kept as
_TOTAL_ENDINGS = ("issues", "issue", "items", "item", "bugs", "bug", ".", "Issues", "Issue")

_TOTAL = re.compile(
    r"^\s*(?:[-*+]\s+)?[^\w\s]*\s*(?:\*\*)?(?P<label>[^\d:：*]{1,40}?)(?:\*\*)?\s*[:：]\s*(?:\*\*)?"
    r"(?P<n>\d+)(?:\*\*)?\s+(?:open\s+)?(?:issues?|items?|bugs?)\b\s*\.?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Folder:
    """Where a file read from a folder of logs stands: one issue per file is the usual shape
    there, and the folder's index (`README.md`, or a file linking to the others) lists issues
    that the other files hold."""

    files: frozenset[str]  # every log file of the folder, resolved
    index: bool = False


def read_file(
    path: Path, *, source: str | None = None, family: str = "auto", folder: Folder | None = None
) -> ParsedLog:
    """Read one log file; a ParseError names the file when it is not a readable log."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(path, None, f"cannot read: {exc.strerror or exc}") from None
    return read_text(decode(data, path), str(path), source=source, family=family, folder=folder)


def read_text(
    text: str,
    path: str,
    *,
    source: str | None = None,
    family: str = "auto",
    folder: Folder | None = None,
) -> ParsedLog:
    if family not in FAMILIES:
        raise ParseError(
            path, None, f"unknown format {family!r}; choose from {', '.join(FAMILIES)}"
        )
    if text.startswith("\ufeff"):
        # A byte-order mark pasted or decoded by the caller: `read_file` drops it, so must this,
        # or the log's `# Title` is no heading.
        text = text[1:]
    with gc_paused():
        return _read(text, path, source=source, family=family, folder=folder)


def _read(
    text: str, path: str, *, source: str | None, family: str, folder: Folder | None
) -> ParsedLog:
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
            log.notes.append(LogNote(path, 1, "(outside the table)", body))
    elif family == "auto":
        _read_auto(outline, log, folder)
    else:
        hint = "" if folder is None else Path(path).stem
        SectionReader(outline, log, single=family == "single", title_hint=hint).read()
    _number_keys(log)
    inside = outline.inside_fence
    if log.quoted:
        inside = list(inside)
        for quoted in log.quoted:
            for i in quoted:
                inside[i] = True  # quoted from other logs: not this log's own totals
    _stated_totals(log, outline.lines, inside, outline.text)
    return log


def _read_auto(outline: Outline, log: ParsedLog, folder: Folder | None) -> None:
    """Sections first; then, for a log whose words the vocabulary lacks, sections written alike;
    then the file as one issue when it is one of a folder's files, or shows issue fields.
    A changelog (its sections are releases) holds no issues: it is kept as a note."""
    releases = _release_headings(outline.root)
    if releases:
        body = "\n".join(outline.lines).strip()
        log.notes.append(LogNote(log.path, 1, CHANGELOG_NOTE, body))
        shown = ", ".join(releases[:3]) + (" …" if len(releases) > 3 else "")
        log.warn(
            1,
            f"reads as a changelog (its sections are releases: {shown}): no issues taken from "
            "it; --format sections reads it as a log of issues",
        )
        return
    index = folder is not None and folder.index
    hint = "" if index else Path(log.path).stem
    SectionReader(outline, log, title_hint=hint, index=index).read()
    if not log.issues:
        _retry(
            log,
            lambda into: SectionReader(outline, into, title_hint=hint, index=index, by_shape=True),
        )
    if not log.issues and not index:
        single = _trial(
            log, lambda into: SectionReader(outline, into, single=True, title_hint=hint)
        )
        if single.issues and (folder is not None or _shows_fields(single)):
            _adopt(log, single)
    first = outline.root.children[0].line if outline.root.children else -1
    if len(log.issues) == 1 and log.issues[0].line == first + 1 and _fields_above(outline):
        # `Status: READY` lines above the file's one issue heading belong to that issue.
        _retry(log, lambda into: SectionReader(outline, into, single=True, title_hint=hint))
    if not index:
        _read_list(outline, log)
        _read_checklists(outline, log)
    if index and folder is not None:
        _cross_checks(log, outline, folder)
    _summary_rows(log, outline)
    _repeated_entries(log, outline)
    log.family = _detected(log, first)


def _read_list(outline: Outline, log: ParsedLog) -> None:
    """A log kept as a list of issues (`- Title` with `- Root cause: …` under it): taken when
    every issue the sections gave is only a heading over items of such lists (`## Known
    issues`, `## Fixed`), so the items are the issues."""
    if not bullets.may_hold_lists(outline.text):
        return
    if [(i.origin, bool(i.draft.original_id)) for i in log.issues] == [("section", True)]:
        return  # `# B001: Title`: the file's one issue by its ID; its lists are its parts
    listed = ParsedLog(path=log.path, family=log.family, source=log.source)
    rest = bullets.read_bullet_issues(
        outline.lines, outline.inside_fence, listed, status_at=_section_states(outline)
    )
    if rest is None or len(listed.issues) < 2 or len(listed.issues) <= len(log.issues):
        return
    starts = [*sorted(issue.line for issue in log.issues), len(outline.lines) + 1]
    items = [issue.line for issue in listed.issues]
    if not all(any(a < item < b for item in items) for a, b in itertools.pairwise(starts)):
        return
    text = "\n".join(outline.lines[i] for i in rest).strip()
    if text:
        listed.notes.append(LogNote(log.path, 1, "(outside the list)", text))
    _adopt(log, listed)


def _read_checklists(outline: Outline, log: ParsedLog) -> None:
    """A log whose sections are each only a checklist of one-line issues (`## 不具合` over
    `[ ] …` lines): the items are the issues, also in the sibling sections read as notes
    (`## P0 — before release` over a checklist)."""
    if not log.issues or not bullets.may_hold_checklists(outline.text):
        return
    if any(issue.origin != "section" for issue in log.issues):
        return
    lines = outline.lines
    levels = {_level(lines[issue.line - 1]) for issue in log.issues} - {None}
    sections = [(issue.line, issue.draft.title, True) for issue in log.issues]
    sections += [
        (note.line, note.title, False)
        for note in log.notes
        if 0 < note.line <= len(lines)
        and _level(lines[note.line - 1]) in levels
        and not is_note_title(note.title)
    ]
    found = bullets.read_checklist_issues(
        lines, outline.inside_fence, log, sorted(sections), status_at=_section_states(outline)
    )
    if found is not None:
        listed, taken = found
        gone = taken | {issue.line for issue in log.issues}
        listed.notes[:0] = [note for note in log.notes if note.line not in gone]
        _adopt(log, listed)


def _level(line: str) -> int | None:
    parts = heading_parts(line)
    return None if parts is None else parts[0]


def _section_states(outline: Outline) -> Callable[[int], str | None]:
    """The state the nearest heading above a line states (`## Fixed`), if any."""
    states: list[tuple[int, str | None]] = []
    read = False

    def status_at(line: int) -> str | None:
        nonlocal read
        if not read:  # on first use: most logs hold no list of issues to ask for
            read = True
            for i, text in enumerate(outline.lines):
                m = _HEADING.match(text)
                if m is not None and not outline.inside_fence[i]:
                    meaning = section_meaning(m.group(1))
                    states.append((i, meaning.status if meaning is not None else None))
        above = [state for start, state in states if start < line]
        return above[-1] if above else None

    return status_at


_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


# A release heading: `0.12.0 (2026-08-12)`, `[1.4.0] - 2024-01-01`, `v2.3`, `Version 3.1.0`,
# `Release 1.2` — a version first, then at most a date or a name in a few words.
_RELEASE = re.compile(
    r"^\W*(?:(?:version|release|v)\s*)?\[?v?\d+\.\d+(?:\.\d+)?(?:[-.+][0-9A-Za-z.]+)?\]?"
    r"(?:\s*[-–—:(]\s*[^\n]{0,40})?\)?\s*$",
    re.IGNORECASE,
)
_EMPHASIS = re.compile(r"[*_`]+")
_DOTTED = re.compile(r"\d\.\d")  # every version heading has one: the others are passed over
_UNRELEASED_WORD = re.compile(r"unreleased|latest changes|upcoming|next", re.IGNORECASE)
_UNRELEASED = re.compile(r"^\W*\[?(?:unreleased|latest changes|upcoming|next)\]?\s*$", re.I)


def _release_headings(root: Node) -> list[str]:
    """The release headings of a changelog: the headings of one level, nearly all of them
    versions (`## 0.12.0`, `## [1.4.0] - 2024-01-01`, an `Unreleased` one besides), at least
    three; else nothing. A log of issues names an issue per section, never a version."""
    by_level: dict[float, list[Node]] = {}
    stack = list(reversed(root.children))
    while stack:  # in the order of the file
        node = stack.pop()
        if node.kind == "heading" and node.level <= 3:
            by_level.setdefault(node.level, []).append(node)
            stack.extend(reversed(node.children))
    for nodes in by_level.values():
        # The first headings decide most logs at once: a log of issues opens with issues.
        if len(nodes) >= 3 and _releases_among(nodes[:10]) is not None:
            found = _releases_among(nodes)
            if found is not None and len(found) >= 3:
                return found
    return []


def _releases_among(nodes: list[Node]) -> list[str] | None:
    """The release headings among `nodes`, or None when more than a fifth of them are
    neither a release nor an `Unreleased` one."""
    versions: list[str] = []
    others = 0
    allowed = len(nodes) // 5
    for node in nodes:
        text = ""
        if _DOTTED.search(node.text) or _UNRELEASED_WORD.search(node.text):
            text = _EMPHASIS.sub("", strip_emoji(node.text)).strip()
        if text and _RELEASE.match(text):
            versions.append(text)
        elif not text or not _UNRELEASED.match(text):
            others += 1
            if others > allowed:
                return None
    return versions


def _trial(log: ParsedLog, reader: Callable[[ParsedLog], SectionReader]) -> ParsedLog:
    into = ParsedLog(path=log.path, family=log.family, source=log.source)
    reader(into).read()
    return into


def _retry(log: ParsedLog, reader: Callable[[ParsedLog], SectionReader]) -> None:
    found = _trial(log, reader)
    if found.issues:
        _adopt(log, found)


def _adopt(log: ParsedLog, other: ParsedLog) -> None:
    """Take another reading's issues and notes; warnings of the reading are kept once."""
    log.issues = other.issues
    log.notes = other.notes
    seen = {(w.line, w.message) for w in log.warnings}
    log.warnings.extend(w for w in other.warnings if (w.line, w.message) not in seen)


def _fields_above(outline: Outline) -> bool:
    """Whether the lines above the first heading hold issue fields."""
    body = split_body(outline.lines, outline.inside_fence, outline.root.body)
    return any(field_for(entry.name) is not None for entry in body.entries)


def _shows_fields(log: ParsedLog) -> bool:
    """A file read as one issue counts when the log's own words name some of its fields."""
    plain = {"title", "description", "original_id", "type"}
    return any(set(issue.filled) - plain for issue in log.issues)


_LINK = re.compile(r"\]\((?P<target>[^)\s#]+)(?:#[^)]*)?\)")


def _cross_checks(log: ParsedLog, outline: Outline, folder: Folder) -> None:
    """In a folder's index, an entry that links to another file of the folder is that file's
    issue listed again: a cross-check, kept as a note, not a second issue."""
    base = Path(log.path).resolve().parent
    names = {Path(f).name for f in folder.files} - {Path(log.path).name}
    starts = sorted(issue.line for issue in log.issues)
    kept = []
    for issue in log.issues:
        later = [start for start in starts if start > issue.line]
        end = later[0] - 1 if later else len(outline.lines)
        text = "\n".join(outline.lines[issue.line - 1 : end])
        targets = [m.group("target") for m in _LINK.finditer(text)]
        linked = any(str((base / t).resolve()) in folder.files for t in targets) or any(
            name in text for name in names
        )
        if linked:
            row = outline.lines[issue.line - 1].strip()
            log.notes.append(
                LogNote(log.path, issue.line, f"(index entry) {issue.draft.title}", row)
            )
        else:
            kept.append(issue)
    log.issues = kept


def _summary_rows(log: ParsedLog, outline: Outline) -> None:
    """A table that repeats issues the log describes in sections of their own (by ID, or by
    title, also shortened: `podinfo removal` for `podinfo Demo App Should Be Removed`) is a
    cross-check: its rows are notes and each issue is counted once. Where most rows repeat a
    section, a row that repeats none is noted with a warning rather than counted."""
    described = [issue for issue in log.issues if issue.origin != "table"]
    rows = [issue for issue in log.issues if issue.origin == "table"]
    if not described or not rows:
        return
    ids = {_same(i.draft.original_id) for i in described if i.draft.original_id}
    titles = [(_same(i.draft.original_id), _words(i.draft.title)) for i in described]
    summary: set[int] = set()
    for table in _tables_of(rows):
        repeated = [row for row in table if _repeats(row, ids, titles)]
        if len(repeated) * 2 < len(table):
            summary.update(id(row) for row in repeated)
            continue
        summary.update(id(row) for row in table)
        for row in table:
            if row not in repeated:
                log.warn(
                    row.line,
                    f"{row.draft.title!r} is in a table that repeats the issues described "
                    "in this log, but matches none of them; kept as a note",
                )
    for row in rows:
        if id(row) in summary:
            text = outline.lines[row.line - 1].strip()
            log.notes.append(LogNote(log.path, row.line, f"(summary row) {row.draft.title}", text))
    log.issues = [issue for issue in log.issues if id(issue) not in summary]


# `P1-1 — P1-7`, `BUG-001 .. BUG-005`, `C-1 ~ C-4`: a span of IDs (spaces around the dash).
_ID_RANGE = re.compile(r"\s+(?:[-–—~]|\.\.|to|до|至)\s+|\s*(?:\.\.|…|～)\s*")


def _repeated_entries(log: ParsedLog, outline: Outline) -> None:
    """An entry with the ID and the title of one read earlier in the same log is that issue
    written again (a short entry and a long one, a fixed-list row repeating its table row): a
    note, and the issue is counted once, where it first appears. So is a row whose ID spans
    two read earlier (`P1-1 — P1-7`): it sums up the issues between them."""
    # The issues read so far under each ID; their titles' words are worked out only when the
    # ID comes again (most IDs of a log appear once).
    earlier: dict[str, list[ParsedIssue]] = {}
    repeated: set[int] = set()
    for issue in sorted(log.issues, key=lambda i: i.line):
        own = _same(issue.draft.original_id)
        if not own or issue.number is not None:
            continue  # a passmuster export numbers each issue: two numbers are two issues
        cell = _id_cell(issue, outline)
        ends = [_same(end) for end in _ID_RANGE.split(cell)] if _ID_RANGE.search(cell) else []
        spans = len(ends) == 2 and all(end in earlier for end in ends)
        if spans or (
            own in earlier
            and _repeats(issue, set(), [(own, _words(e.draft.title)) for e in earlier[own]])
        ):
            repeated.add(id(issue))
            text = outline.lines[issue.line - 1].strip()
            log.notes.append(
                LogNote(log.path, issue.line, f"(repeated entry) {issue.draft.title}", text)
            )
        else:
            earlier.setdefault(own, []).append(issue)
    log.issues = [issue for issue in log.issues if id(issue) not in repeated]


def _id_cell(issue: ParsedIssue, outline: Outline) -> str:
    """The ID as the log wrote it: for a table row, the whole cell holding it."""
    written = issue.draft.original_id or ""
    if issue.origin != "table" or not written:
        return written
    for cell in outline.lines[issue.line - 1].strip().strip("|").split("|"):
        if _same(written) in _same(cell):
            return cell.strip()
    return written


def _tables_of(rows: list[ParsedIssue]) -> list[list[ParsedIssue]]:
    """Table rows grouped by table: rows on consecutive lines."""
    tables: list[list[ParsedIssue]] = []
    for row in rows:
        if tables and tables[-1][-1].line + 1 == row.line:
            tables[-1].append(row)
        else:
            tables.append([row])
    return tables


def _repeats(row: ParsedIssue, ids: set[str], titles: list[tuple[str, frozenset[str]]]) -> bool:
    own = _same(row.draft.original_id)
    if own and own in ids:
        return True
    mine = _words(row.draft.title)
    if not mine:
        return False
    for other_id, other in titles:
        if not other or (own and other_id and own != other_id):
            continue  # `BUG-013` is not `TYPE-001`, whatever words their titles share
        shared = len(mine & other)
        shorter = min(len(mine), len(other))
        if shared >= 0.75 * shorter or (shared >= 2 and shared >= 0.6 * shorter):
            return True
    return False


def _words(text: str) -> frozenset[str]:
    """The words of a title that carry meaning, cut to a stem (`removal`, `removed` → `remov`)."""
    words = re.findall(r"[^\W_]+", text.casefold())
    return frozenset(w[:5] for w in words if len(w) >= 3 or not w.isascii())


def _same(text: str | None) -> str:
    """Text compared for sameness: letters and digits only, case folded."""
    # `[\W_]` is exactly what str.isalnum refuses: one regex pass instead of a loop in Python.
    return _NOT_ALNUM.sub("", text.casefold()) if text else ""


_NOT_ALNUM = re.compile(r"[\W_]+")


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


def _classify_total(label: str) -> tuple[str, str | None, object] | None:
    """What a stated total counts: (its name, the draft attribute, the value it is), with no
    attribute for all issues; None when the label names nothing the reader counts."""
    key = clean(label)
    if key in words("total"):
        return "total", None, None
    status = normalise_status(label)
    if status is not None:
        return f"status {status.value}", "status", status
    severity = normalise_severity(label)
    if severity is not None:
        return f"severity {severity.value}", "severity", severity
    typ = normalise_type(label)
    if typ is not None:
        return f"type {typ.value}", "type", typ
    return None


def _counter(issues: list[ParsedIssue]) -> Callable[[str | None, object], int]:
    """How many drafts have `attr` set to the very `value` (all of them for no attribute):
    each attribute counted in one pass over the issues, on first use, not once per total."""
    counts: dict[str, Counter[int]] = {}

    def count(attr: str | None, value: object) -> int:
        if attr is None:
            return len(issues)
        by_value = counts.get(attr)
        if by_value is None:
            # By identity, as `is` compares: a value's id is stable while the value lives.
            by_value = counts[attr] = Counter(id(getattr(p.draft, attr)) for p in issues)
        return by_value[id(value)]

    return count


def _stated_totals(log: ParsedLog, lines: list[str], inside: list[bool], text: str) -> None:
    """ "Open: 17 issues" in a summary: compare with what this file was found to hold."""
    issue_lines = {issue.line for issue in log.issues}
    count = _counter(log.issues)
    ending = [i for i, line in enumerate(lines) if line.endswith(_TOTAL_ENDINGS)]
    for i in ending:
        if inside[i] or i + 1 in issue_lines:
            continue
        line = lines[i]
        m = _TOTAL.match(line)
        if m is None:
            continue
        label = m.group("label").strip()
        classified = _classify_total(label)
        if classified is None:
            continue
        _, attr, value = classified
        _add_total(log, i + 1, label, int(m.group("n")), count(attr, value))
    _month_tables(log, lines, inside, text)


def _add_total(log: ParsedLog, line: int, label: str, stated: int, found: int) -> None:
    total = StatedTotal(log.path, line, label, stated, found)
    log.totals.append(total)
    if not total.matches:
        log.warn(line, f"the log says {label}: {stated} issues; {found} found")


def _month_tables(log: ParsedLog, lines: list[str], inside: list[bool], text: str) -> None:
    """A `| Month | Critical | High | … | Total |` statistics table, row by row."""
    from passmuster.logs.readers.tables import split_row

    if any(p.draft.reported_at is None for p in log.issues):
        return  # undated issues could belong to any month: nothing to compare honestly
    by_month: dict[str, list[IssueDraft]] | None = None  # each issue's month, found once
    piped = lines_containing(text, "|")
    for i in piped:
        line = lines[i]
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
                if by_month is None:
                    by_month = {}
                    for p in log.issues:
                        if p.draft.reported_at is not None:
                            at = p.draft.reported_at.strftime("%Y-%m")
                            by_month.setdefault(at, []).append(p.draft)
                in_month = by_month.get(month, [])
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
