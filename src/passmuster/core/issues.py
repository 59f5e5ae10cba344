"""The issue: its fields, its vocabularies and the workflow it moves through.

Pure domain: no storage, no I/O. Everything the real Markdown logs record about an issue has a
field here, and `extra_sections` keeps whatever no field fits so an import never drops a word.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import field
from datetime import datetime, timedelta
from typing import Self

from passmuster.core._dataclass import dataclass
from passmuster.errors import InvalidTransition, InvalidValue


class _Vocabulary(enum.StrEnum):
    """A closed set of values whose parse error lists the valid ones."""

    @classmethod
    def parse(cls, value: str | Self, *, field_name: str | None = None) -> Self:
        if isinstance(value, cls):
            return value
        key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        for member in cls:
            if member.value == key:
                return member
        raise InvalidValue(field_name or cls._field_name(), value, [m.value for m in cls])

    @classmethod
    def _field_name(cls) -> str:
        return cls.__name__.lower()


class IssueType(_Vocabulary):
    BUG = "bug"
    INCIDENT = "incident"
    FINDING = "finding"
    COORDINATION = "coordination"
    DEPLOYMENT = "deployment"
    SECURITY = "security"
    PERFORMANCE = "performance"
    TECH_DEBT = "tech_debt"
    ENHANCEMENT = "enhancement"

    @classmethod
    def _field_name(cls) -> str:
        return "type"


class Severity(_Vocabulary):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 is the most urgent; used to sort."""
        return list(Severity).index(self)


class Priority(_Vocabulary):
    """The priority matrix rows of the real logs (Immediate, Short Term, ...)."""

    IMMEDIATE = "immediate"
    SHORT_TERM = "short_term"
    MEDIUM_TERM = "medium_term"
    LONG_TERM = "long_term"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


class Status(_Vocabulary):
    OPEN = "open"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    WORKAROUND_APPLIED = "workaround_applied"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        """Active issues still need work; resolved and closed ones do not."""
        return self not in (Status.RESOLVED, Status.CLOSED)


class CloseReason(_Vocabulary):
    WONT_FIX = "wont_fix"
    DUPLICATE = "duplicate"
    INVALID = "invalid"

    @classmethod
    def _field_name(cls) -> str:
        return "close reason"


class LinkKind(_Vocabulary):
    DUPLICATE_OF = "duplicate_of"
    BLOCKS = "blocks"
    RELATES_TO = "relates_to"
    REGRESSION_OF = "regression_of"
    CAUSED_BY = "caused_by"

    @classmethod
    def _field_name(cls) -> str:
        return "link kind"


# The statuses still needing work, in workflow order.
ACTIVE_STATUSES: tuple[Status, ...] = tuple(s for s in Status if s.is_active)
_ACTIVE = frozenset(ACTIVE_STATUSES)

# Work states may move freely among themselves; a finished issue can only be closed or reopened.
ALLOWED_TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    **{s: (_ACTIVE | {Status.RESOLVED, Status.CLOSED}) - {s} for s in _ACTIVE},
    Status.RESOLVED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.CLOSED: frozenset({Status.OPEN}),
}


def check_transition(current: Status, target: Status, *, reason: CloseReason | None = None) -> None:
    """Raise InvalidTransition naming the allowed targets when `current → target` is not allowed."""
    allowed = ALLOWED_TRANSITIONS[current]
    if target not in allowed:
        names = ", ".join(s.value for s in Status if s in allowed)
        raise InvalidTransition(
            f"cannot move from {current.value} to {target.value}; allowed: {names}", field="status"
        )
    if target is Status.CLOSED and reason is None:
        valid = ", ".join(r.value for r in CloseReason)
        raise InvalidTransition(f"closing needs a reason: one of {valid}", field="close_reason")


# The label a scan puts on a resolved issue whose rule still fires ("claimed resolved, still
# detected"); listings show it as a state of its own.
STILL_DETECTED = "still-detected"


def format_number(number: int) -> str:
    """Issue numbers are shown the way the logs write them: #001."""
    return f"#{number:03d}"


@dataclass(frozen=True, slots=True)
class Task:
    text: str
    done: bool = False


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class ExtraSection:
    """A named section no field fits, kept verbatim (Markdown body)."""

    name: str
    body: str


@dataclass(frozen=True, slots=True)
class Link:
    kind: LinkKind
    target: int


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds a claimed issue, since when and until when (the rules: core.leases)."""

    holder: str
    since: datetime
    until: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.until

    def remaining(self, now: datetime) -> timedelta:
        return max(self.until - now, timedelta(0))


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    issue: int
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Event:
    """One immutable line of an issue's timeline; the source for SLAs and statistics.

    `kind` is one of EVENT_KINDS. For `changed`, `field` names the field and `old`/`new` carry the
    values as text; for `status`, old and new are Status values.
    """

    id: int
    issue: int
    actor: str
    at: datetime
    kind: str
    field: str | None = None
    old: str | None = None
    new: str | None = None


EVENT_KINDS = (
    "created",
    "changed",
    "status",
    "acknowledged",
    "assigned",
    "commented",
    "linked",
    "unlinked",
    "escalated",
    "imported",
    "detected",
    "regressed",
    # Claim leases (core.leases): given back by the holder, or run out.
    "released",
    "lease_expired",
)


@dataclass(slots=True)
class IssueDraft:
    """What someone files: every field optional but the title.

    Importers, the scanner, the monitor, the CLI and the API all build drafts; the desk turns
    them into numbered issues. `original_values` keeps the text a log used for a normalised
    field (`{"status": "✅ **RESOLVED**"}`) so nothing written by a person is lost.
    """

    title: str
    type: IssueType = IssueType.BUG
    severity: Severity = Severity.MEDIUM
    priority: Priority | None = None
    status: Status = Status.OPEN
    close_reason: CloseReason | None = None
    services: list[str] = field(default_factory=list)
    component: str | None = None
    reporter: str | None = None
    assignee: str | None = None
    reported_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    description: str = ""
    impact: str = ""
    error_details: list[str] = field(default_factory=list)
    attempted_solutions: str = ""
    root_cause: str = ""
    resolution: str = ""
    workaround: str = ""
    prevention: str = ""
    files_changed: list[FileChange] = field(default_factory=list)
    test_results: str = ""
    tasks: list[Task] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    original_id: str | None = None
    source: str | None = None
    fingerprint: str | None = None
    links: list[Link] = field(default_factory=list)
    extra_sections: list[ExtraSection] = field(default_factory=list)
    original_values: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Issue(IssueDraft):
    """A filed issue: a draft with a number, its times and a version for compare-and-set."""

    number: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1
    # The claim on it, while an agent holds one; changed only by claiming, renewing, releasing
    # and by the lease running out, never by an edit.
    lease: Lease | None = None

    @property
    def ref(self) -> str:
        return format_number(self.number)


def is_still_detected(issue: Issue) -> bool:
    """True when the last scan flagged this resolved issue as "claimed resolved, still detected"."""
    return STILL_DETECTED in issue.labels and not issue.status.is_active


# Fields a person may set when filing or editing, in the order forms and templates show them.
# Status, times and number move only through the workflow.
PERSON_FIELDS = (
    "title",
    "type",
    "severity",
    "priority",
    "services",
    "component",
    "reporter",
    "assignee",
    "description",
    "impact",
    "error_details",
    "attempted_solutions",
    "root_cause",
    "resolution",
    "workaround",
    "prevention",
    "files_changed",
    "test_results",
    "tasks",
    "labels",
    "original_id",
    "extra_sections",
)

# The long Markdown fields of an issue, in the order logs and pages show them.
TEXT_FIELDS = (
    "description",
    "impact",
    "attempted_solutions",
    "root_cause",
    "resolution",
    "workaround",
    "prevention",
    "test_results",
)

# Fields a plain edit may change: what people set, plus the original spellings an import keeps.
EDITABLE_FIELDS = frozenset({*PERSON_FIELDS, "original_values"})


SORT_KEYS = ("urgency", "number", "-number", "updated", "-updated", "severity", "reported")


@dataclass(slots=True)
class IssueQuery:
    """Filters for listing issues; empty collections mean "any"."""

    statuses: list[Status] = field(default_factory=list)
    severities: list[Severity] = field(default_factory=list)
    types: list[IssueType] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    # Issues with a label that starts so (`rule:` finds those linked to a scanner rule).
    label_prefix: str | None = None
    assignee: str | None = None
    text: str | None = None
    source: str | None = None
    active_only: bool = False
    sort: str = "number"
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        if self.sort not in SORT_KEYS:
            raise InvalidValue("sort", self.sort, SORT_KEYS)


_VOCABULARY_FIELDS: Mapping[str, type[_Vocabulary]] = {
    "type": IssueType,
    "severity": Severity,
    "priority": Priority,
    "status": Status,
    "close_reason": CloseReason,
}
_TEXT_LIST_FIELDS = frozenset({"services", "labels", "error_details"})
_OPTIONAL_TEXT_FIELDS = frozenset({"component", "reporter", "assignee", "original_id"})


def _as_task(item: object) -> Task:
    if isinstance(item, Task):
        return item
    if isinstance(item, str):
        return Task(item)
    if isinstance(item, Mapping):
        return Task(str(item.get("text", "")), bool(item.get("done", False)))
    raise InvalidValue("tasks", item, ["a text", "{text, done}"])


def _as_file_change(item: object) -> FileChange:
    if isinstance(item, FileChange):
        return item
    if isinstance(item, str):
        return FileChange(item)
    if isinstance(item, Mapping):
        return FileChange(str(item.get("path", "")), str(item.get("note", "") or ""))
    raise InvalidValue("files_changed", item, ["a path", "{path, note}"])


def _as_extra_section(item: object) -> ExtraSection:
    if isinstance(item, ExtraSection):
        return item
    if isinstance(item, Mapping):
        return ExtraSection(str(item.get("name", "")), str(item.get("body", "")))
    raise InvalidValue("extra_sections", item, ["{name, body}"])


def _as_link(item: object) -> Link:
    if isinstance(item, Link):
        return item
    if isinstance(item, Mapping):
        return Link(LinkKind.parse(str(item.get("kind", ""))), int(str(item.get("target", ""))))
    raise InvalidValue("links", item, ["{kind, target}"])


def coerce_field(name: str, value: object) -> object:
    """`value` in the type `Issue.<name>` holds, from what a CLI flag, JSON body or log gave.

    Raises InvalidValue naming the field for anything that does not fit.
    """
    if name in _VOCABULARY_FIELDS:
        if value is None or value == "":
            if name in ("priority", "close_reason"):
                return None
            raise InvalidValue(name, value, [m.value for m in _VOCABULARY_FIELDS[name]])
        return _VOCABULARY_FIELDS[name].parse(str(value), field_name=name)
    if name in _TEXT_LIST_FIELDS:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise InvalidValue(name, value, ["a list of texts"])
        items = [str(v) for v in value]
        # Services and labels are sets that keep their written order; error blocks may repeat.
        return list(dict.fromkeys(items)) if name != "error_details" else items
    if name == "tasks":
        return [_as_task(v) for v in _as_list(name, value)]
    if name == "files_changed":
        return [_as_file_change(v) for v in _as_list(name, value)]
    if name == "extra_sections":
        return [_as_extra_section(v) for v in _as_list(name, value)]
    if name == "original_values":
        if not isinstance(value, Mapping):
            raise InvalidValue(name, value, ["a mapping of field to text"])
        return {str(k): str(v) for k, v in value.items()}
    if name == "links":
        return [_as_link(v) for v in _as_list(name, value)]
    if name in _OPTIONAL_TEXT_FIELDS:
        if value is None:
            return None
        text = str(value).strip()
        return text or None
    if name == "title":
        text = str(value or "").strip()
        if not text:
            raise InvalidValue("title", value, ["a non-empty text"])
        return text
    return "" if value is None else str(value)


def _as_list(name: str, value: object) -> list[object]:
    if not isinstance(value, list | tuple):
        raise InvalidValue(name, value, ["a list"])
    return list(value)


def coerce_changes(changes: Mapping[str, object]) -> dict[str, object]:
    """Validate an edit: only EDITABLE_FIELDS, each value coerced to its field's type."""
    out: dict[str, object] = {}
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            raise InvalidValue("field", name, sorted(EDITABLE_FIELDS))
        out[name] = coerce_field(name, value)
    return out


def value_text(value: object) -> str | None:
    """A field value as the text an event records (lists and records as JSON-like text)."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | dict):
        return _compact(value)
    return str(value)


def _compact(value: object) -> str:
    # Dataclass items render as dicts so an event's old/new can be read back by a person.
    def plain(item: object) -> object:
        if isinstance(item, Task | FileChange | ExtraSection | Link):
            return {k: plain(getattr(item, k)) for k in item.__slots__}
        if isinstance(item, enum.Enum):
            return item.value
        if isinstance(item, list | tuple):
            return [plain(i) for i in item]
        if isinstance(item, dict):
            return {str(k): plain(v) for k, v in item.items()}
        return item

    return json.dumps(plain(value), ensure_ascii=False)
