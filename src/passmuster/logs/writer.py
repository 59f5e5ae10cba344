"""Render issues as a Markdown log in the style of the real ones, and read back exactly.

Each issue is a `## Issue #NNN - Title` section with bold field lines and one `###` subsection per
text field, followed by the month × severity table, the summary by status, severity and type, and
the priority matrix. The same issues always render to the same bytes.

The reader must get every field back. Text that would read as structure (a heading, a fence never
closed, a bold `**Issue #…**` line, a leading blank line) is fenced as `~~~verbatim`, which the
reader unwraps. A value no Markdown line can carry exactly (a title with a line break, a path with
a backtick, a stale original spelling) is written as readably as possible and also, exactly, in a
`<!-- passmuster: {...} -->` comment the reader applies last. That comment always carries the
issue's number, source and original ID, so importing an export matches the issues it came from.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from passmuster.core.issues import (
    ExtraSection,
    FileChange,
    Issue,
    IssueDraft,
    Link,
    Priority,
    Severity,
    Status,
    Task,
    format_number,
)
from passmuster.core.notes import LogNote
from passmuster.core.stats import tally
from passmuster.core.visible import escape_controls, has_controls
from passmuster.logs.body import VERBATIM_INFO, parse_files, split_names, trim_blank
from passmuster.logs.builder import SERVICE_NAME
from passmuster.logs.fields import (
    CLOSE_DISPLAY,
    FIELDS,
    LINE_FIELDS,
    LINK_DISPLAY,
    SECTION_FIELDS,
    SEVERITY_DISPLAY,
    STATUS_DISPLAY,
    TYPE_DISPLAY,
    IssueField,
    Kind,
    Place,
)
from passmuster.logs.headings import TRAILING_EMOJI, parse_heading
from passmuster.logs.outline import heading_parts, inline_start
from passmuster.logs.text import find_fences, repair_mojibake
from passmuster.logs.titles import section_field
from passmuster.logs.vocab import (
    field_for,
    format_date,
    parse_date,
    strip_emoji,
)

STATUS_EMOJI = {
    Status.OPEN: "🔴",
    Status.PLANNED: "📋",
    Status.IN_PROGRESS: "🔄",
    Status.BLOCKED: "⛔",
    Status.WORKAROUND_APPLIED: "⚠️",
    Status.RESOLVED: "✅",
    Status.CLOSED: "⚪",
}
SEVERITY_EMOJI = {
    Severity.CRITICAL: "🚨",
    Severity.HIGH: "🔴",
    Severity.MEDIUM: "🟡",
    Severity.LOW: "🟢",
    Severity.INFO: "⚪",
}
PRIORITY_HEADINGS = {
    Priority.IMMEDIATE: "Immediate (Blocking)",
    Priority.SHORT_TERM: "Short Term (Next Sprint)",
    Priority.MEDIUM_TERM: "Medium Term (Next Quarter)",
    Priority.LONG_TERM: "Long Term (Future Releases)",
}

_STRUCTURE_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
# A NUL makes the file look binary and a CR turns into a line break when it is read again.
_UNWRITABLE = re.compile(r"[\x00\r]")
# What the comment carries when the Markdown cannot carry the issue as it is.
_EXACT_FIELDS = (
    *(
        f.attr
        for f in FIELDS
        if f.kind not in (Kind.STATUS, Kind.CHOICE, Kind.CLOSE_REASON, Kind.DATE, Kind.LINKS)
        and f.place is not Place.META
        and f.attr != "original_id"
    ),
    "original_values",
    "extra_sections",
)


# --- what the reader would make of a value -------------------------------------------------------


def _one_line(value: str) -> bool:
    """Survives as the value of a `**Field**: value` line."""
    if value.isascii() and value.isprintable():
        return bool(value) and value == value.strip()
    return (
        bool(value)
        and value == value.strip()
        and not _STRUCTURE_CHARS.search(value)
        and repair_mojibake(value) == value
    )


def _safe_title(title: str) -> bool:
    if not _one_line(title) or "**" in title or "__" in title:
        return False
    heading = heading_parts(f"## Issue #001 - {title}")
    if heading is None or heading[1] != f"Issue #001 - {title}":
        return False
    return parse_heading(heading[1]).title == title and not TRAILING_EMOJI.search(title)


# Where any structure the reader knows could start: headings, fences, bold lines, our comment.
_STRUCTURE_START = re.compile(
    r"^(?:[ \t]*(?:#|`{3}|~{3}|\*\*|__)|<!--| {0,3}\d{1,3}[.)][ \t]+(?:\*\*|__))", re.MULTILINE
)
# The same starts after a line break: a pattern that begins with a literal character is found
# far faster than one that begins with `^` (the text's first line is matched on its own).
_STRUCTURE_AFTER_BREAK = re.compile("\n" + _STRUCTURE_START.pattern[1:])


def _safe_body(text: str) -> bool:
    """Survives verbatim as the body of a `###` subsection."""
    if not text or trim_blank(text) != text or repair_mojibake(text) != text:
        return False
    if "\x00" in text or "\r" in text or text.startswith("~~~"):  # what _UNWRITABLE finds
        return False
    if _STRUCTURE_START.match(text) is None and _STRUCTURE_AFTER_BREAK.search(text) is None:
        return True  # no line that could open a heading, fence, bold line or comment
    lines = text.split("\n")
    inside, unclosed = find_fences(lines)
    if unclosed:
        return False
    for i, (line, fenced) in enumerate(zip(lines, inside, strict=True)):
        if fenced:
            continue
        if heading_parts(line) is not None or line.startswith("<!-- passmuster"):
            return False
        if inline_start(lines, inside, i) is not None:
            return False
    return True


_RUNS = {"`": re.compile("`+"), "~": re.compile("~+")}


def _fence(text: str, char: str, info: str = "") -> str:
    longest = max((len(m) for m in _RUNS[char].findall(text)), default=0) if char in text else 0
    marker = char * max(3, longest + 1)
    return f"{marker}{info}\n{text}\n{marker}"


def _body(text: str) -> str:
    return text if _safe_body(text) else _fence(text, "~", VERBATIM_INFO)


def _visible(value: str) -> str:
    """A one-line, trimmed rendering of any value (the exact one then goes in the comment);
    control characters show as `\\x1b` (core.visible), line breaks as spaces."""
    if (
        value.isascii()
        and value.isprintable()
        and "  " not in value
        and "**" not in value
        and value
        and value[0] != " "
        and value[-1] != " "
    ):
        # Printable ASCII has no control character and no whitespace but the space: a value
        # without a run of spaces, an end space or `**` is shown as it is (most titles).
        return value
    flat = " ".join(_STRUCTURE_CHARS.sub(" ", escape_controls(value)).split())
    return flat.replace("**", "*\u200b*") or "-"


# --- one issue ---------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN_JSON:
        return value  # the usual case: no branch below takes it
    if isinstance(value, Task):
        return {"text": value.text, "done": value.done}
    if isinstance(value, FileChange):
        return {"path": value.path, "note": value.note}
    if isinstance(value, ExtraSection):
        return {"name": value.name, "body": value.body}
    if isinstance(value, Link):
        return {"kind": value.kind.value, "target": value.target}
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


_PLAIN_JSON = frozenset({str, int, float, bool, type(None)})


# ASCII only, and no `--`, so no byte of it can close the comment or look like mojibake. One
# encoder for every comment: `json.dumps` with these options builds a new one on each call.
_META_JSON = json.JSONEncoder(ensure_ascii=True, sort_keys=True, separators=(",", ":"))


def meta_comment(meta: dict[str, Any]) -> str:
    if all(type(v) in _PLAIN_JSON for v in meta.values()):
        text = _META_JSON.encode(meta)  # the usual comment: number, source, original ID
    else:
        text = _META_JSON.encode(_jsonable(meta))
    safe = text.replace("--", "-\\u002d")
    return f"<!-- passmuster: {safe} -->"


class _FieldLines:
    """The `**Name**: value` lines of one issue, and what the comment must carry exactly."""

    def __init__(self, issue: Issue, meta: dict[str, Any]) -> None:
        self.issue = issue
        self.meta = meta
        self.out: list[str] = []
        # The original spellings the lines show; any other the comment carries.
        self.originals: dict[str, str] = {}

    def add(
        self, name: str, value: str, key: str | None = None, canonical: str | None = None
    ) -> None:
        self.out.append(f"**{name}**: {value}  ")
        if key is not None and value != canonical:
            self.originals[key] = value

    def choice(self, spec: IssueField) -> None:
        value = getattr(self.issue, spec.attr)
        if value is None:
            return
        original = self.issue.original_values.get(spec.attr)
        line, shown = _choice_line(spec.attr, type(value).__qualname__, value, original)
        self.out.append(line)
        if shown is not None:
            self.originals[spec.attr] = shown

    def line(self, spec: IssueField) -> None:
        value = getattr(self.issue, spec.attr)
        if value is None:
            return
        if _one_line(value):
            self.add(spec.label, value)
        else:
            self.add(spec.label, _visible(value))
            self.meta[spec.attr] = value

    def services(self, spec: IssueField) -> None:
        issue = self.issue
        if not issue.services:
            return
        line, shown, exact = _services_line(
            tuple(issue.services), issue.original_values.get("services")
        )
        self.out.append(line)
        if shown is not None:
            self.originals["services"] = shown
        if not exact:
            self.meta["services"] = issue.services

    def date(self, spec: IssueField) -> None:
        moment = getattr(self.issue, spec.attr)
        original = self.issue.original_values.get(spec.attr)
        if moment is None and original is None:
            return
        line, shown = _date_line(spec.attr, moment, original)
        if line is not None:
            self.out.append(line)
        if shown is not None:
            self.originals[spec.attr] = shown

    def close_reason(self, spec: IssueField) -> None:
        if self.issue.close_reason is not None:
            self.add(spec.label, CLOSE_DISPLAY[self.issue.close_reason])

    def labels(self, spec: IssueField) -> None:
        labels = self.issue.labels
        if not labels:
            return
        line, exact = _labels_line(tuple(labels))
        self.out.append(line)
        if not exact:
            self.meta["labels"] = labels

    def links(self, spec: IssueField) -> None:
        if self.issue.links:
            shown = ", ".join(f"{LINK_DISPLAY[k.kind]} #{k.target}" for k in self.issue.links)
            self.add(spec.label, shown)


# The lines of the fields whose values repeat from issue to issue (a status and its original
# spelling, a list of services, a date, labels) are worked out once per distinct value: the
# round-trip checks behind each were a third of rendering an issue. Each returns the line and
# the original spelling it shows, if any (the comment carries any other).

_LINE_SPECS = {spec.attr: spec for spec in LINE_FIELDS}


@functools.lru_cache(maxsize=4096)
def _choice_line(attr: str, kind: type, value: Any, original: str | None) -> tuple[str, str | None]:
    """`kind` is the value's type, only for the cache: a vocabulary member equals its plain
    string, and whether an original spelling reads back depends on which of them it is."""
    spec = _LINE_SPECS[attr]
    assert spec.choice is not None
    canonical = spec.choice.display[value]
    matches = spec.choice.reads_back(original or "", value)
    shown = original if original is not None and matches and _one_line(original) else canonical
    return f"**{spec.label}**: {shown}  ", (shown if shown != canonical else None)


@functools.lru_cache(maxsize=4096)
def _services_line(services: tuple[str, ...], original: str | None) -> tuple[str, str | None, bool]:
    """Also whether the line reads back as exactly these services."""
    label = _LINE_SPECS["services"].label
    names = list(services)
    joined = ", ".join(services)
    exact = _one_line(joined) and _service_names(joined) == names
    if original is not None and exact and _one_line(original) and _service_names(original) == names:
        return f"**{label}**: {original}  ", (original if original != joined else None), True
    return f"**{label}**: {_visible(joined)}  ", None, exact


@functools.lru_cache(maxsize=4096)
def _date_line(
    attr: str, moment: datetime | None, original: str | None
) -> tuple[str | None, str | None]:
    label = _LINE_SPECS[attr].label
    if moment is None:
        if original is not None and _one_line(original) and parse_date(original) is None:
            return f"**{label}**: {original}  ", original
        return None, None
    canonical = format_date(moment)
    if original is not None and _one_line(original) and parse_date(original) == moment:
        return f"**{label}**: {original}  ", (original if original != canonical else None)
    return f"**{label}**: {canonical}  ", None


@functools.lru_cache(maxsize=4096)
def _labels_line(labels: tuple[str, ...]) -> tuple[str, bool]:
    """Also whether the line reads back as exactly these labels."""
    label = _LINE_SPECS["labels"].label
    joined = ", ".join(labels)
    one_line = _one_line(joined)
    line = f"**{label}**: {joined if one_line else _visible(joined)}  "
    return line, split_names(joined) == list(labels) and one_line


LINE_WRITERS: dict[Kind, Callable[[_FieldLines, IssueField], None]] = {
    Kind.STATUS: _FieldLines.choice,
    Kind.CHOICE: _FieldLines.choice,
    Kind.LINE: _FieldLines.line,
    Kind.SERVICES: _FieldLines.services,
    Kind.DATE: _FieldLines.date,
    Kind.CLOSE_REASON: _FieldLines.close_reason,
    Kind.LABELS: _FieldLines.labels,
    Kind.LINKS: _FieldLines.links,
}


# Each line field with its writer, looked up once: a lookup by kind hashes an enum member in
# Python code, sixteen times an issue.
_LINE_PLAN = tuple((LINE_WRITERS[spec.kind], spec) for spec in LINE_FIELDS)


def _field_lines(issue: Issue, meta: dict[str, Any]) -> list[str]:
    lines = _FieldLines(issue, meta)
    for write, spec in _LINE_PLAN:
        write(lines, spec)
    if lines.originals != issue.original_values:
        meta["original_values"] = issue.original_values
    return lines.out


def _service_names(text: str) -> list[str]:
    return [item for item in split_names(" ".join(text.split("\n"))) if SERVICE_NAME.match(item)]


def _tasks_body(issue: Issue, meta: dict[str, Any]) -> str:
    lines = []
    for task in issue.tasks:
        mark = "x" if task.done else " "
        if _one_line(task.text) and task.text == task.text.rstrip():
            lines.append(f"- [{mark}] {task.text}")
        else:
            lines.append(f"- [{mark}] {_visible(task.text)}")
            meta["tasks"] = issue.tasks
    return "\n".join(lines)


def _files_body(issue: Issue, meta: dict[str, Any]) -> str:
    text, exact = _files_text(tuple(issue.files_changed))
    if not exact:
        meta["files_changed"] = issue.files_changed
    return text


@functools.lru_cache(maxsize=4096)
def _files_text(files: tuple[FileChange, ...]) -> tuple[str, bool]:
    """The list of changed files, and whether reading it back gives exactly these (worked out
    once per distinct list: issues of one change share theirs)."""
    lines = []
    for change in files:
        path_ok = _one_line(change.path) and "`" not in change.path
        note_ok = not change.note or _one_line(change.note)
        path = change.path if path_ok else _visible(change.path).replace("`", "'")
        note = change.note if note_ok else _visible(change.note)
        lines.append(f"- `{path}` - {note}" if note else f"- `{path}`")
    text = "\n".join(lines)
    return text, parse_files(text) == list(files)


def _errors_body(issue: Issue, meta: dict[str, Any]) -> str:
    blocks = []
    for item in issue.error_details:
        if repair_mojibake(item) != item or "\r" in item:
            meta["error_details"] = issue.error_details
        blocks.append(_fence(item, "`"))
    return "\n\n".join(blocks)


# The body of a `### Name` subsection, by the field's kind (TEXT is written by `_body`).
SECTION_WRITERS: dict[Kind, Callable[[Issue, dict[str, Any]], str]] = {
    Kind.TASKS: _tasks_body,
    Kind.FILES: _files_body,
    Kind.ERRORS: _errors_body,
}


# Each subsection field: its attribute, its heading and its writer (None: free text).
_SECTION_PLAN = tuple(
    (spec.attr, spec.label, None if spec.kind is Kind.TEXT else SECTION_WRITERS[spec.kind])
    for spec in SECTION_FIELDS
)


def _is_plain_section(heading: str) -> bool:
    """A `### heading` the reader takes as an extra section named exactly `heading`."""
    m = heading_parts(f"### {heading}")
    if m is None or m[1] != heading:
        return False
    parsed = parse_heading(heading)
    return (
        not parsed.is_issue
        and field_for(heading) is None
        and section_field(heading) is None
        and heading.replace("**", "").replace("__", "").strip().rstrip(":：").strip() == heading
        and strip_emoji(heading).strip() == heading
    )


def _extra_heading(name: str, index: int) -> tuple[str, bool]:
    """The heading for an extra section, and whether the reader gets `name` back from it."""
    if _one_line(name) and _is_plain_section(name):
        return name, True
    candidate = f"Section: {_visible(name).rstrip('#').strip()}"
    if _is_plain_section(candidate):
        return candidate, False
    return f"Section {index}", False


def render_issue(issue: Issue) -> str:
    """One issue as a Markdown section (no trailing newline)."""
    meta: dict[str, Any] = {
        "number": issue.number,
        "source": issue.source,
        "original_id": issue.original_id,
    }
    if issue.fingerprint is not None:
        meta["fingerprint"] = issue.fingerprint
    title = issue.title
    if not _safe_title(title):
        meta["title"] = title
        title = _visible(title).rstrip("#").rstrip() or "-"
        if TRAILING_EMOJI.search(title):
            title += " ."
    parts = [f"## Issue {format_number(issue.number)} - {title}", ""]
    parts.extend(_field_lines(issue, meta))
    for attr, name, write in _SECTION_PLAN:
        value = getattr(issue, attr)
        if not value:
            continue
        if write is not None:
            body = write(issue, meta)
        else:
            if repair_mojibake(value) != value:
                meta[attr] = value
            body = _body(value)
        parts.extend(["", f"### {name}", body])
    extras_exact = True
    for index, extra in enumerate(issue.extra_sections, start=1):
        heading, exact = _extra_heading(extra.name, index)
        if not exact or repair_mojibake(extra.body) != extra.body:
            extras_exact = False
        parts.extend(["", f"### {heading}", _body(extra.body) if extra.body else ""])
    if not extras_exact:
        meta["extra_sections"] = issue.extra_sections
    text = "\n".join(parts)
    if _unprintable(text) or repair_mojibake(text) != text:
        # Characters a Markdown file cannot carry as they are (or must not: an escape sequence
        # would act on the terminal of whoever reads the log): the comment carries every field
        # exactly, the text shows them visibly, as `\x1b`.
        meta.update({name: getattr(issue, name) for name in _EXACT_FIELDS})
        parts = [_UNWRITABLE.sub("\ufffd", escape_controls(part)) for part in parts]
    # The comment sits right under the field lines, where the reader looks for it.
    fields_end = parts.index("", 2) if "" in parts[2:] else len(parts)
    parts.insert(fields_end, meta_comment(meta))
    return "\n".join(parts)


def _unprintable(text: str) -> bool:
    """Whether `text` holds a character a Markdown file cannot carry (NUL, CR) or a control
    character. A NUL is a control character; a carriage return is one only alone (not in
    CRLF), so any is looked for with `in`, which costs next to nothing: one regular-expression
    search in all, cheaper than the two copies without line breaks and tabs `isprintable`
    needed."""
    return has_controls(text) or "\r" in text


# --- the whole log -----------------------------------------------------------------------------


def _hours(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 48:
        return f"{value:.1f} hours"
    return f"{value / 24:.1f} days"


def log_context(issues: Sequence[Issue], *, title: str) -> dict[str, Any]:
    """What the template sees: the issues, their rendered sections and the statistics."""
    ordered = sorted(issues, key=lambda i: i.number)
    stats = tally(ordered)
    return {
        "title": title,
        "issues": ordered,
        "sections": [render_issue(issue) for issue in ordered],
        "stats": stats,
        "severities": [(s.value, SEVERITY_DISPLAY[s]) for s in Severity],
        "statuses": [(s.value, STATUS_DISPLAY[s], STATUS_EMOJI[s]) for s in Status],
        "severity_rows": [(s.value, SEVERITY_DISPLAY[s], SEVERITY_EMOJI[s]) for s in Severity],
        "types": [(t.value, TYPE_DISPLAY[t]) for t in TYPE_DISPLAY],
        "priorities": [(p.value, PRIORITY_HEADINGS[p]) for p in Priority],
        "hours": _hours,
        "flat": _visible,
        "ref": format_number,
        "generated": meta_comment({"generated": True}),
    }


@functools.lru_cache(maxsize=8)
def _environment(folder: Path | None) -> Any:
    """One Jinja2 environment per template folder: compiled templates are reused.

    A template given with `--template` renders in a sandbox, as the webhook templates do: it is
    a file anyone may hand over, and an ordinary Jinja2 environment lets it reach Python's
    internals (`''.__class__.__mro__` and on to running commands). The sandbox refuses such
    access; the context is plain data anyway. The default template (`folder` None) ships with
    passmuster and is no such input: it renders without the sandbox's check of every attribute
    and call (40,000 of them for a 10,000-issue log), to the same text.
    """
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    environment: type[jinja2.Environment]
    loader: jinja2.BaseLoader
    if folder is None:
        environment = jinja2.Environment
        loader = jinja2.PackageLoader("passmuster.logs", "templates")
    else:
        environment = SandboxedEnvironment
        loader = jinja2.FileSystemLoader(str(folder))
    return environment(
        loader=loader,
        autoescape=False,  # Markdown out, not HTML: escaping is the writer's job above
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render_log(
    issues: Sequence[Issue],
    *,
    title: str = "Issue Log",
    template: Path | None = None,
    notes: Sequence[LogNote] = (),
) -> str:
    """The whole log, with the imported logs' `notes` at its end when given. `template` is a
    Jinja2 file given the context of `log_context`."""
    import jinja2

    from passmuster.errors import ParseError

    context = log_context(issues, title=title)
    try:
        if template is None:
            tmpl = _environment(None).get_template("log.md.jinja")
        else:
            tmpl = _environment(template.parent).get_template(template.name)
        text: str = tmpl.render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise ParseError(exc.filename or str(template), exc.lineno, exc.message or "") from None
    except jinja2.TemplateNotFound:
        raise ParseError(str(template), None, "template not found") from None
    except jinja2.UndefinedError as exc:
        raise ParseError(str(template), None, f"template error: {exc.message}") from None
    except jinja2.TemplateError as exc:  # the sandbox's SecurityError among them
        raise ParseError(str(template), None, f"template error: {exc}") from None
    if notes:
        text = text.rstrip("\n") + "\n\n" + render_notes(notes)
    if text.endswith("\n") and not text.endswith("\n\n"):
        return text  # already ends in one line break: no copy of the whole log to make it so
    return text.rstrip("\n") + "\n"


NOTES_HEADING = "## 📝 Log Notes"


def render_notes(notes: Sequence[LogNote]) -> str:
    """The imported logs' notes as a section of an exported log (no trailing newline).

    Each note carries its log and line in a comment, so importing the export gives every note
    back to the log it came from instead of making them notes of the export.
    """
    parts = [
        NOTES_HEADING,
        "",
        meta_comment({"log_notes": True}),
        "",
        "What the imported logs say besides their issues, kept by the desk.",
    ]
    for note in notes:
        title, exact = _extra_heading(note.title, 0)
        meta: dict[str, Any] = {"note_source": note.path, "note_line": note.line}
        if not exact:
            meta["note_title"] = note.title
        parts.extend(
            ["", f"### {title}", meta_comment(meta), _body(note.body) if note.body else ""]
        )
    return "\n".join(parts)


def issue_filename(issue: IssueDraft, number: int) -> str:
    """`001-database-driver-conflicts.md` for `--per-issue`."""
    slug = re.sub(r"[^a-z0-9]+", "-", issue.title.lower()).strip("-")[:60] or "issue"
    return f"{number:03d}-{slug}.md"


def render_single(issue: Issue) -> str:
    """One issue as a file of its own (`--per-issue`): a heading, its fields and sections."""
    return render_issue(issue) + "\n"
