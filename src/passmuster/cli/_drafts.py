"""Drafts typed by people: `passmuster new --from-file FILE` and the `$EDITOR` template.

A draft file is JSON or YAML (a mapping of issue fields) or Markdown written like one entry of a
coordination log, read by the same reader as `passmuster import` (`passmuster.logs.draft`):

    # Database driver conflicts

    **Severity**: Critical
    **Services**: identity-service, user-service

    ## Description
    Shared requirements pin both asyncpg and psycopg2-binary.

Field lines (`**Key**: value`, `- **Key**: value`, `Key: value`) and sections (`## Description`)
fill the fields, in any language the log vocabulary knows; a section no field fits is kept as a
named extra section. Every problem is reported with the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from passmuster.core.issues import (
    PERSON_FIELDS,
    IssueDraft,
    coerce_field,
)
from passmuster.errors import ParseError, PassmusterError

# Fields a draft may set. Status, times and numbers are the desk's business.
DRAFT_FIELDS = PERSON_FIELDS


def field_for(word: str) -> str | None:
    """The draft field a written key names (`Service(s) Affected` -> services), if any."""
    from passmuster.logs.vocab import field_for as log_field

    key = word.strip()
    name = key if key in DRAFT_FIELDS else log_field(key)
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
        return read_markdown_draft(text, path)
    else:
        raise ParseError(path, None, "expected a .md, .json, .yaml or .yml draft")
    if not isinstance(data, Mapping):
        raise ParseError(path, 1, "a draft must be a mapping of field names to values")
    return draft_from_mapping(data, source=path)


def read_markdown_draft(text: str, source: Path | str) -> IssueDraft:
    """A Markdown draft (a file, or the editor's text); the reader's warnings go to stderr."""
    from passmuster.cli._output import warn
    from passmuster.logs.draft import read_draft

    draft, warnings = read_draft(text, str(source))
    for warning in warnings:
        warn(str(warning))
    if not draft.title:
        raise ParseError(source, None, "a draft needs a title: start it with '# Title'")
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
