"""What the desk accepts: storable text and field limits, one set of checks for every entry point.

The desk runs these checks on every draft, edit and comment, whoever sends them: the CLI, the
REST API, the web forms, the Markdown importer, the scanner, the monitor and Python callers.
Two sets of limits:

- `TYPED`, the default: what a person or an agent writes by hand (a 300-character title,
  100,000 characters per text field …). The API declares the same numbers in its schema.
- `STORED`, for the importer: real logs hold long headings and pasted logs that no form would
  take, and an import keeps them as written, up to what the desk stores (a 2,000-character title,
  a million characters per text field …). Beyond that an import is refused, naming the file,
  the line and the field, before anything is written.

Text in any field must be storable on every database: no NUL characters (PostgreSQL cannot store
them) and no lone surrogates (not Unicode; they arrive from undecodable command-line bytes).
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections.abc import Iterable, Mapping
from typing import Any

from passmuster.core._dataclass import dataclass
from passmuster.core.catalog import check_service_name
from passmuster.core.issues import (
    TEXT_FIELDS,
    CloseReason,
    ExtraSection,
    FileChange,
    IssueDraft,
    IssueType,
    Link,
    Priority,
    Severity,
    Status,
    Task,
    coerce_changes,
    coerce_field,
)
from passmuster.errors import InvalidValue, TooLong


@dataclass(frozen=True, slots=True)
class Limits:
    """Characters (or entries) the desk takes per field."""

    title: int
    text: int  # a Markdown field, an error block, an extra section's body, a comment
    line: int  # a one-line field: component, reporter, assignee, original ID, label, section name
    item: int  # a task's text, a changed file's path or note
    items: int  # entries in one list: services, labels, error blocks, tasks, files, links, sections


TYPED = Limits(title=300, text=100_000, line=200, item=2_000, items=500)
STORED = Limits(title=2_000, text=1_000_000, line=2_000, item=20_000, items=10_000)

_LINE_TEXT = ("component", "reporter", "assignee", "original_id")
# Set by the desk's own writers (the importer, the scanner, the monitor), never typed.
_MACHINE_TEXT = ("source", "fingerprint")
_LISTS = ("services", "labels", "error_details", "files_changed", "tasks", "links")
_VOCABULARIES: dict[str, type] = {
    "type": IssueType,
    "severity": Severity,
    "priority": Priority,
    "status": Status,
    "close_reason": CloseReason,
}
_OPTIONAL = frozenset({"priority", "close_reason"})
_ITEM_TYPES: dict[str, type] = {
    "services": str,
    "labels": str,
    "error_details": str,
    "files_changed": FileChange,
    "tasks": Task,
    "links": Link,
    "extra_sections": ExtraSection,
}
_DRAFT_FIELDS = tuple(f.name for f in dataclasses.fields(IssueDraft))
_draft_values = operator.attrgetter(*_DRAFT_FIELDS)
_vocabulary_values = operator.attrgetter(*_VOCABULARIES)
_ITEM_KINDS = {name: frozenset({kind}) for name, kind in _ITEM_TYPES.items()}
_item_values = operator.attrgetter(*_ITEM_KINDS)
_STR = frozenset({str})


def check_storable(name: str, value: str) -> str:
    """`value` unchanged, or InvalidValue when no database can store it exactly."""
    if value.isascii() and "\x00" not in value:
        return value
    if "\x00" in value:
        raise InvalidValue(name, _shown(value), ["text without NUL characters"])
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidValue(name, _shown(value), ["valid Unicode text"]) from None
    return value


def check_text(name: str, value: str, limit: int) -> str:
    """A storable text of at most `limit` characters."""
    if len(value) > limit:
        raise TooLong(name, len(value), limit)
    return check_storable(name, value)


def check_comment(body: str, limits: Limits = TYPED) -> str:
    if not body.strip():
        raise InvalidValue("comment", body, ["a non-empty text"])
    return check_text("comment", body, limits.text)


def check_draft(draft: IssueDraft, limits: Limits = TYPED) -> IssueDraft:
    """Refuse what the desk must not take, naming the field (InvalidValue).

    Returns the draft with values given in another form made the field's type: a severity
    written `"high"`, a single service given as text, tasks given as plain texts.
    """
    # Every issue of a bulk import passes here: the fields are read with one getter each, and
    # a list or mapping is tested for its item types in C rather than item by item.
    for (name, vocabulary), value in zip(
        _VOCABULARIES.items(), _vocabulary_values(draft), strict=True
    ):
        if not isinstance(value, vocabulary) and not (value is None and name in _OPTIONAL):
            setattr(draft, name, coerce_field(name, value))
    for (name, kinds), value in zip(_ITEM_KINDS.items(), _item_values(draft), strict=True):
        if type(value) is not list or (value and not set(map(type, value)) <= kinds):
            setattr(draft, name, coerce_field(name, value))
    originals = draft.original_values
    if not isinstance(originals, dict) or (
        originals
        and not (set(map(type, originals)) <= _STR and set(map(type, originals.values())) <= _STR)
    ):
        draft.original_values = coerce_field("original_values", draft.original_values)  # type: ignore[assignment]
    if not isinstance(draft.title, str) or not draft.title.strip():
        raise InvalidValue("title", draft.title, ["a non-empty text"])
    # Services and labels are sets that keep their written order.
    draft.services = list(dict.fromkeys(draft.services))
    draft.labels = list(dict.fromkeys(draft.labels))
    _check_fields(draft, limits)
    if draft.status is Status.CLOSED and draft.close_reason is None:
        raise InvalidValue("close_reason", None, [", ".join(r.value for r in CloseReason)])
    for link in draft.links:
        if link.target < 1:
            raise InvalidValue("links", link.target, ["another issue's number"])
    return draft


@dataclass(frozen=True, slots=True)
class Checked:
    """A draft as `check_draft` returned it under `limits`: the desk files it without checking
    it again. An importer checks every draft first, to name the file and line of the one the
    desk would refuse; a second pass over 10,000 drafts would find nothing new."""

    draft: IssueDraft
    limits: Limits


def checked(draft: IssueDraft, limits: Limits = TYPED) -> Checked:
    """`check_draft`, remembered: raises as it does."""
    return Checked(check_draft(draft, limits), limits)


def check_changes(changes: Mapping[str, object], limits: Limits = TYPED) -> dict[str, object]:
    """An edit's fields coerced to their types (core.issues.coerce_changes) and within limits."""
    values = coerce_changes(changes)
    scratch = IssueDraft(title="-")
    for name, value in values.items():
        setattr(scratch, name, value)
    _check_fields(scratch, limits, names=tuple(values))
    return values


def _check_fields(
    draft: IssueDraft, limits: Limits, names: tuple[str, ...] = _DRAFT_FIELDS
) -> None:
    # Run on every issue of a bulk import: plain ASCII text within its limit is passed over
    # without a call, and the rest goes through check_text for its message.
    text_limits = _text_limits(limits)
    if names is _DRAFT_FIELDS:
        values: Iterable[Any] = _draft_values(draft)
    else:
        values = [getattr(draft, name) for name in names]
    for name, value in zip(names, values, strict=True):
        if not value:  # None, "", [] and {} need no check
            continue
        limit = text_limits.get(name)
        if limit is not None:
            if len(value) > limit or not value.isascii() or "\x00" in value:
                check_text(name, value, limit)
        elif name == "original_values":
            for key, text in value.items():
                _check_short(name, key, limits.line)
                _check_short(name, text, limits.text)
        elif name in _LIST_FIELDS:
            _check_list(name, value, limits)


def _check_short(name: str, value: str, limit: int) -> None:
    """`check_text` for a value that is mostly plain ASCII within its limit."""
    if len(value) > limit or not value.isascii() or "\x00" in value:
        check_text(name, value, limit)


@functools.lru_cache(maxsize=8)
def _text_limits(limits: Limits) -> dict[str, int]:
    """The length limit of each text field under `limits`."""
    found = {name: _text_limit(name, limits) for name in _TEXT_KIND}
    return {name: limit for name, limit in found.items() if limit is not None}


def _text_limit(name: str, limits: Limits) -> int | None:
    """The length limit of a text field, or None for a field that is not text."""
    kind = _TEXT_KIND.get(name)
    if kind is None:
        return None
    if kind == "title":
        return limits.title
    if kind == "text":
        return limits.text
    return limits.line if kind == "line" else STORED.line


_TEXT_KIND = {
    "title": "title",
    **dict.fromkeys(TEXT_FIELDS, "text"),
    **dict.fromkeys(_LINE_TEXT, "line"),
    **dict.fromkeys(_MACHINE_TEXT, "machine"),
}
_LIST_FIELDS = frozenset({*_LISTS, "extra_sections"})


def _check_list(name: str, items: list[object], limits: Limits) -> None:
    if len(items) > limits.items:
        raise TooLong(name, len(items), limits.items, "entries")
    for item in items:
        if isinstance(item, str):
            if name == "services":
                check_service_name(item)
            _check_short(name, item, limits.text if name == "error_details" else limits.line)
        elif isinstance(item, Task):
            _check_short(name, item.text, limits.item)
        elif isinstance(item, FileChange):
            _check_short(name, item.path, limits.item)
            _check_short(name, item.note, limits.item)
        elif isinstance(item, ExtraSection):
            _check_short(name, item.name, limits.line)
            _check_short(name, item.body, limits.text)


def _shown(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")[:60]
