"""Re-importing a log is a three-way merge: the log as it was at the last import, the desk now,
and the log now.

For each field, with B the log's value at the last import, D the desk's and L the log's now:

- L equals B: the log did not change it; the desk keeps its value, edited or not;
- L differs from B and D equals B: only the log changed it; the log's value is taken;
- both changed it to the same value: nothing to do;
- both changed it differently: a conflict. The desk's value is kept unless the import prefers
  the log's; either way the conflict is reported.

An issue imported before the desk remembered logs has no B: the desk's values stand in for it,
so the log's changes are taken (what every import did before). B is kept as digests, not
values: equality is all the merge asks of it.
"""

from __future__ import annotations

import enum
import json
import operator
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any

from passmuster.core.issues import (
    EDITABLE_FIELDS,
    ExtraSection,
    FileChange,
    Issue,
    IssueDraft,
    Link,
    Status,
    Task,
    value_text,
)

# What a re-import compares: what a person may edit, the spellings a log kept, and the state.
MERGED_FIELDS: tuple[str, ...] = (*sorted(EDITABLE_FIELDS), "status", "close_reason")


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """What a log said about one issue at its last import."""

    number: int
    source: str
    key: str  # the log's match key for the issue (its ID, else its title)
    line: int
    digests: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class FieldConflict:
    """A field both the log and the desk changed since the last import, differently."""

    field: str
    desk: str | None
    log: str | None
    taken: str  # "desk" or "log"


@dataclass(slots=True)
class Merge:
    """What a re-import does to one issue: the edits to make, and what it kept and why."""

    changes: dict[str, Any] = field(default_factory=dict)
    status: Status | None = None  # a status the workflow moves to
    kept: list[str] = field(default_factory=list)  # fields only the desk changed
    conflicts: list[FieldConflict] = field(default_factory=list)


def _plain(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def digest(value: object) -> str:
    """A short, stable fingerprint of a field's value (the same value, the same digest).

    CRC-32 and the length of a canonical text: cheap enough to run over every field of a
    10,000-issue log, and a false "unchanged" needs two different values of one field, on one
    issue, between two imports, to share both.
    """
    if value is None:
        return "n"
    if isinstance(value, str):
        text = "s" + value
    elif isinstance(value, enum.Enum):
        text = "e" + str(value.value)
    elif isinstance(value, list | tuple | dict) and not value:
        return "0"
    elif isinstance(value, list | tuple):
        # Items are texts or frozen records (Task, FileChange …) whose repr is their value.
        text = "l" + repr(list(value))
    elif isinstance(value, dict):
        text = "d" + repr(sorted(value.items()))
    else:
        text = "j" + json.dumps(
            _plain(value), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
    data = text.encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}{len(data):x}"


def field_digests(item: IssueDraft) -> dict[str, str]:
    """The digest of every merged field of a draft or an issue (`digest` of each, with the
    common cases inlined: an import computes this for every issue of the log, and a re-import
    of an unchanged log does little else)."""
    crc32 = zlib.crc32
    out: dict[str, str] = {}
    for name, value in zip(MERGED_FIELDS, _merged_values(item), strict=True):
        kind = type(value)
        if kind is str:
            if value:
                # crc32("s" + text) continued from the prefix's: no copy of the text to join.
                data = value.encode("utf-8", "surrogatepass")
                out[name] = f"{crc32(data, _TEXT_CRC):08x}{len(data) + 1:x}"
            else:
                out[name] = _EMPTY_TEXT
        elif value is None:
            out[name] = "n"
        elif (found := _ENUM_DIGESTS.get(id(value))) is not None:
            out[name] = found
        elif kind is list:
            if not value:
                out[name] = "0"
                continue
            if type(value[0]) is str:
                text = "l" + repr(value)
            else:
                text = "l[" + ", ".join([_repr(entry) for entry in value]) + "]"
            data = text.encode("utf-8", "surrogatepass")
            out[name] = f"{crc32(data):08x}{len(data):x}"
        elif kind is dict:
            if not value:
                out[name] = "0"
                continue
            data = ("d" + repr(sorted(value.items()))).encode("utf-8", "surrogatepass")
            out[name] = f"{crc32(data):08x}{len(data):x}"
        elif kind is datetime:
            # What `digest` makes of it: the ISO text as JSON, which escapes none of its
            # characters.
            data = f'j"{value.isoformat()}"'.encode()
            out[name] = f"{crc32(data):08x}{len(data):x}"
        else:
            out[name] = digest(value)
            if isinstance(value, enum.Enum):
                # A vocabulary value's digest never changes, and the member lives as long as
                # its class: remembered by identity, which needs no call of Enum's __hash__.
                _ENUM_DIGESTS[id(value)] = out[name]
    return out


_merged_values = operator.attrgetter(*MERGED_FIELDS)
_EMPTY_TEXT = digest("")
_TEXT_CRC = zlib.crc32(b"s")
_ENUM_DIGESTS: dict[int, str] = {}
# Each flat record's dataclass `repr` as a format and a getter of the values it shows: the same
# text without the recursion guard every dataclass `__repr__` runs through (most of a list
# field's digest).
_SHOWN: dict[type, tuple[str, Callable[[object], tuple[object, ...]]]] = {}


def _record_form(kind: type) -> tuple[str, Callable[[object], tuple[object, ...]]]:
    names = [f.name for f in fields(kind) if f.repr]
    form = kind.__qualname__ + "(" + ", ".join(f"{name}=%r" for name in names) + ")"
    if len(names) > 1:
        return form, operator.attrgetter(*names)
    return form, lambda item: tuple(getattr(item, name) for name in names)


for _kind in (Task, FileChange, ExtraSection, Link):
    _SHOWN[_kind] = _record_form(_kind)


def _repr(item: object) -> str:
    """`repr(item)`: the same text, faster for the flat records of an issue's lists."""
    shown = _SHOWN.get(type(item))
    if shown is None:
        return repr(item)
    form, values = shown
    return form % values(item)


def merge(
    baseline: Mapping[str, str] | None,
    desk: Issue,
    log: IssueDraft,
    *,
    prefer_log: bool = False,
    log_digests: Mapping[str, str] | None = None,
) -> Merge:
    """The three-way merge of one issue (see the module's description)."""
    now = log_digests if log_digests is not None else field_digests(log)
    found = Merge()
    for name in MERGED_FIELDS:
        theirs = now[name]
        before = baseline.get(name) if baseline is not None else None
        if before is not None and theirs == before:
            if digest(getattr(desk, name)) != before:
                found.kept.append(name)
            continue
        ours = digest(getattr(desk, name))
        if ours == theirs:
            continue
        if before is None or ours == before:
            _take(found, name, getattr(log, name))
            continue
        taken = "log" if prefer_log else "desk"
        found.conflicts.append(
            FieldConflict(
                name, value_text(getattr(desk, name)), value_text(getattr(log, name)), taken
            )
        )
        if prefer_log:
            _take(found, name, getattr(log, name))
    return found


def _take(found: Merge, name: str, value: Any) -> None:
    if name == "status":
        found.status = value
    elif name != "close_reason":  # travels with the status it closes with
        found.changes[name] = value
