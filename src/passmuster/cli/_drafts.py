"""Drafts typed by people: `passmuster new --from-file FILE` and the `$EDITOR` template.

A draft file is JSON or YAML (a mapping of issue fields) or Markdown written like one entry of a
coordination log (read by the Markdown log reader, `passmuster.logs`, when it is installed):

    # Database driver conflicts

    **Severity**: Critical
    **Services**: identity-service, user-service

    ## Description
    Shared requirements pin both asyncpg and psycopg2-binary.

    ## Error Details
    ```
    psycopg2-binary fails with "pg_config executable not found"
    ```

Header lines (`Key: value`, `**Key**: value`, `- **Key**: value`) fill the short fields; `##`
sections fill the long ones, and a section no field fits is kept as a named extra section. Every
problem is reported with the file and line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from passmuster.core.issues import (
    PERSON_FIELDS,
    ExtraSection,
    FileChange,
    IssueDraft,
    Task,
    coerce_field,
)
from passmuster.errors import ParseError, PassmusterError

# Fields a draft may set. Status, times and numbers are the desk's business.
DRAFT_FIELDS = PERSON_FIELDS

# Words people write for a field (lower case, spaces) -> the field.
_ALIASES = {
    "service": "services",
    "services": "services",
    "service(s) affected": "services",
    "services affected": "services",
    "affected services": "services",
    "label": "labels",
    "tags": "labels",
    "owner": "assignee",
    "id": "original_id",
    "issue id": "original_id",
    "error": "error_details",
    "errors": "error_details",
    "files": "files_changed",
    "files modified": "files_changed",
    "files updated": "files_changed",
    "remaining tasks": "tasks",
    "solution": "resolution",
    "fix": "resolution",
    "root cause analysis": "root_cause",
}

_HEADER = re.compile(
    r"^\s*(?:[-*]\s+)?(?:\*\*)?([A-Za-z][A-Za-z ()/_-]{0,40}?)(?:\*\*)?\s*:(?:\*\*)?\s*(.*)$"
)
_CHECKBOX = re.compile(r"^\s*[-*]\s+\[([ xX])\]\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_FILE_NOTE = re.compile(r"^`?([^`]+?)`?\s+(?:-|—|:)\s+(.*)$")


def field_for(word: str) -> str | None:
    """The draft field a written key names (`Service(s) Affected` -> services), if any."""
    key = re.sub(r"\s+", " ", word.strip().lower().replace("_", " ").replace("-", " "))
    if key in _ALIASES:
        return _ALIASES[key]
    name = key.replace(" ", "_")
    return name if name in DRAFT_FIELDS else None


def draft_from_mapping(data: Mapping[str, Any], *, source: Path | str) -> IssueDraft:
    """An IssueDraft from a JSON/YAML mapping; unknown keys and bad values name `source`."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = field_for(str(key))
        if name is None:
            valid = ", ".join(DRAFT_FIELDS)
            raise ParseError(source, None, f"unknown field {key!r}; fields are: {valid}")
        values[name] = _coerce(name, value, source=source, line=None)
    if not values.get("title"):
        raise ParseError(source, None, "a draft needs a title")
    return IssueDraft(**values)


def _coerce(name: str, value: Any, *, source: Path | str, line: int | None) -> Any:
    try:
        return coerce_field(name, value)
    except PassmusterError as exc:
        raise ParseError(source, line, exc.message) from None


def read_draft_file(path: Path) -> IssueDraft:
    """Read a draft from a .json, .yaml/.yml or .md file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParseError(path, None, "no such file") from None
    except UnicodeDecodeError:
        raise ParseError(path, None, "not UTF-8 text") from None
    except OSError as exc:
        raise ParseError(path, None, f"cannot read: {exc.strerror}") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(path, exc.lineno, exc.msg) from None
    elif suffix in (".yaml", ".yml"):
        data = _load_yaml(text, path)
    elif suffix in (".md", ".markdown", ".txt", ""):
        return _markdown_file(path, text)
    else:
        raise ParseError(path, None, "expected a .md, .json, .yaml or .yml draft")
    if not isinstance(data, Mapping):
        raise ParseError(path, 1, "a draft must be a mapping of field names to values")
    return draft_from_mapping(data, source=path)


def _markdown_file(path: Path, text: str) -> IssueDraft:
    """One issue written like a log entry, read by the Markdown log reader when it is present."""
    try:
        from passmuster.logs.reader import read_text
    except ImportError:  # a build without the log reader
        return parse_markdown_draft(text, source=path)
    log = read_text(text, str(path))
    if not log.issues:  # one entry without the marks of a log: read the file as that entry
        log = read_text(text, str(path), family="single")
    if len(log.issues) > 1:
        raise ParseError(
            path,
            log.issues[1].line,
            f"holds {len(log.issues)} issues; `passmuster import {path}` files a whole log",
        )
    if not log.issues:
        return parse_markdown_draft(text, source=path)
    from passmuster.cli._output import warn

    for warning in log.warnings:
        warn(f"{warning.path}:{warning.line}: {warning.message}")
    draft = log.issues[0].draft
    draft.source = None  # filed by hand from a draft, not imported: re-imports must not match it
    return draft


def _load_yaml(text: str, path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ParseError(path, line, str(exc.problem or exc.context or "invalid YAML")) from None
    except YAMLError as exc:
        raise ParseError(path, None, str(exc)) from None


@dataclass
class _Section:
    name: str
    line: int
    lines: list[str] = field(default_factory=list)


def parse_markdown_draft(text: str, *, source: Path | str) -> IssueDraft:
    """A draft from a Markdown entry (the editor template, or a hand-written file)."""
    title: str | None = None
    headers: list[tuple[str, str, int]] = []
    sections: list[_Section] = []
    in_fence = False
    for number, raw in enumerate(_strip_comments(text).splitlines(), start=1):
        line = raw.rstrip()
        if _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and line.startswith("## "):
            sections.append(_Section(line[3:].strip().strip("*").strip(), number))
            continue
        if not in_fence and line.startswith("# ") and title is None and not sections:
            title = _clean_title(line[2:])
            continue
        if sections:
            sections[-1].lines.append(raw)
            continue
        match = _HEADER.match(line) if not in_fence else None
        if match and field_for(match.group(1)) is not None:
            headers.append((match.group(1), match.group(2).strip(), number))
        elif line.strip() and title is None:
            raise ParseError(source, number, "start the draft with a '# Title' line")
    values: dict[str, Any] = {}
    for key, value, number in headers:
        name = field_for(key)
        assert name is not None
        if not value:
            continue
        if name in ("services", "labels"):
            values[name] = _coerce(name, _split_list(value), source=source, line=number)
        elif name == "title":
            title = value
        else:
            values[name] = _coerce(name, value, source=source, line=number)
    extras: list[ExtraSection] = []
    for section in sections:
        body = "\n".join(section.lines).strip("\n")
        if not body.strip():
            continue
        name = field_for(section.name)
        if name is None or name == "title":
            extras.append(ExtraSection(section.name, body.strip()))
        elif name == "error_details":
            if blocks := _fenced_blocks(body):
                values[name] = blocks
        elif name == "tasks":
            values[name] = _tasks(body)
        elif name == "files_changed":
            values[name] = _files(body)
        elif name in ("services", "labels"):
            items = [_BULLET.sub(r"\1", ln).strip() for ln in body.splitlines() if ln.strip()]
            values[name] = _coerce(name, items, source=source, line=section.line)
        else:
            values[name] = _coerce(name, body.strip(), source=source, line=section.line)
    if extras:
        values["extra_sections"] = extras
    if not title:
        raise ParseError(source, None, "a draft needs a title: start it with '# Title'")
    values["title"] = _coerce("title", title, source=source, line=None)
    return IssueDraft(**values)


def _strip_comments(text: str) -> str:
    return re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)


def _clean_title(text: str) -> str:
    # "Issue #002 - Database Driver Conflicts" keeps only the words after the number.
    text = text.strip()
    match = re.match(r"^(?:issue\s+)?#?\d+\s*[-:—]\s*(.+)$", text, flags=re.IGNORECASE)
    return match.group(1).strip() if match else text


def _split_list(value: str) -> list[str]:
    return [part.strip().strip("`") for part in re.split(r"[,;]", value) if part.strip()]


def _fenced_blocks(body: str) -> list[str]:
    """Each fenced block verbatim; a section without fences is one block."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in body.splitlines():
        if _FENCE.match(line):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current))
                current = None
            continue
        if current is not None:
            current.append(line)
    if current is not None:  # an unclosed fence still keeps its text
        blocks.append("\n".join(current))
    if not any(_FENCE.match(line) for line in body.splitlines()):
        return [body.strip()]
    return [block for block in blocks if block.strip()]  # the template's empty fence is no error


def _tasks(body: str) -> list[Task]:
    tasks: list[Task] = []
    for line in body.splitlines():
        box = _CHECKBOX.match(line)
        if box:
            tasks.append(Task(box.group(2).strip(), done=box.group(1).lower() == "x"))
        elif bullet := _BULLET.match(line):
            tasks.append(Task(bullet.group(1).strip()))
    return tasks


def _files(body: str) -> list[FileChange]:
    files: list[FileChange] = []
    for line in body.splitlines():
        bullet = _BULLET.match(line)
        if not bullet:
            continue
        item = bullet.group(1).strip()
        note = _FILE_NOTE.match(item)
        if note:
            files.append(FileChange(note.group(1).strip(), note.group(2).strip()))
        else:
            files.append(FileChange(item.strip("`")))
    return files


EDITOR_TEMPLATE = """\
# {title}

**Type**: {type}
**Severity**: {severity}
**Priority**: {priority}
**Services**: {services}
**Component**: {component}
**Assignee**: {assignee}
**Labels**: {labels}

## Description
{description}

## Impact
{impact}

## Error Details
```
```

## Attempted Solutions

<!--
Write the title on the first line after '# '. Leave a section empty to skip it; a section with
another name is kept as it is. Types: {types}. Severities: {severities}.
Priorities: {priorities}. Save and close the editor to file the issue; an empty title cancels.
-->
"""


def editor_template(draft: IssueDraft | None = None) -> str:
    """The Markdown the editor opens with, pre-filled from whatever flags were given."""
    from passmuster.core.issues import IssueType, Priority, Severity

    d = draft or IssueDraft(title="")
    return EDITOR_TEMPLATE.format(
        title=d.title,
        type=d.type.value,
        severity=d.severity.value,
        priority=d.priority.value if d.priority else "",
        services=", ".join(d.services),
        component=d.component or "",
        assignee=d.assignee or "",
        labels=", ".join(d.labels),
        description=d.description,
        impact=d.impact,
        types=", ".join(t.value for t in IssueType),
        severities=", ".join(s.value for s in Severity),
        priorities=", ".join(p.value for p in Priority),
    )
