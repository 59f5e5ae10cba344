"""The issue fields a Markdown log carries: one table that both directions follow.

The reader's field setter (`builder.DraftBuilder.set_field`, `KIND_READERS`) and the writer's
field lines and subsections (`writer.render_issue`, `LINE_WRITERS` and `SECTION_WRITERS`) both
walk `FIELDS`, dispatching on each field's kind; the section reader asks `anchor` whether a
field makes a section without an issue ID an issue. A new field is one line here, plus the
words logs use for it in `vocabulary.toml`; a new kind of value is a reader and a writer for
that kind.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from passmuster.core.issues import CloseReason, IssueType, LinkKind, Priority, Severity, Status
from passmuster.logs import vocab


class Kind(enum.Enum):
    """How a field's value is read from a log and written back."""

    TITLE = "title"  # the heading's words
    STATUS = "status"  # a workflow state: also read from the heading, walked on import
    CHOICE = "choice"  # one value of a closed vocabulary (severity, priority, type)
    CLOSE_REASON = "close_reason"
    DATE = "date"
    LINE = "line"  # one line of free text
    SERVICES = "services"  # service names, the text as written kept when it holds more
    LABELS = "labels"
    LINKS = "links"  # `blocks #3, relates to #7`
    TEXT = "text"  # free Markdown
    ERRORS = "errors"  # verbatim blocks, one per fence
    FILES = "files"  # `- \`path\` - note` items
    TASKS = "tasks"  # `- [x] text` items


class Place(enum.Enum):
    """Where the writer puts a field."""

    HEADING = "heading"  # in `## Issue #NNN - Title`
    LINE = "line"  # a `**Name**: value` line under the heading
    SECTION = "section"  # a `### Name` subsection
    META = "meta"  # only in the `<!-- passmuster: {...} -->` comment


@dataclass(frozen=True, slots=True)
class Choice:
    """A closed vocabulary: how log text maps onto it and how the writer spells each value."""

    normalise: Callable[[str], enum.Enum | None]
    display: Mapping[Any, str]
    # Whether writing `original` back gives this value and nothing else (a spelling that also
    # sets another field on reading, like `Critical (Security Issue)`, is not faithful).
    faithful: Callable[[str, enum.Enum], bool] | None = None

    def reads_back(self, original: str, value: enum.Enum) -> bool:
        if self.faithful is not None:
            return self.faithful(original, value)
        return self.normalise(original) is value


@dataclass(frozen=True, slots=True)
class IssueField:
    attr: str  # the IssueDraft attribute
    label: str  # how the writer names it (the reader also knows it, see vocabulary.toml)
    kind: Kind
    place: Place
    choice: Choice | None = None
    # Whether the field, written in a section whose heading has no issue ID, makes it an issue.
    anchor: bool = False


def _display(values: type[enum.Enum], spell: Callable[[str], str]) -> dict[Any, str]:
    return {v: spell(str(v.value)) for v in values}


STATUS_DISPLAY = {
    Status.OPEN: "Open",
    Status.PLANNED: "Planned",
    Status.IN_PROGRESS: "In Progress",
    Status.BLOCKED: "Blocked",
    Status.WORKAROUND_APPLIED: "Workaround Applied",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
}
SEVERITY_DISPLAY: dict[Severity, str] = _display(Severity, str.capitalize)
PRIORITY_DISPLAY: dict[Priority, str] = _display(Priority, lambda v: v.replace("_", " ").title())
TYPE_DISPLAY: dict[IssueType, str] = _display(IssueType, lambda v: v.replace("_", " ").title())
CLOSE_DISPLAY = {
    CloseReason.WONT_FIX: "Won't Fix",
    CloseReason.DUPLICATE: "Duplicate",
    CloseReason.INVALID: "Invalid",
}
LINK_DISPLAY: dict[LinkKind, str] = _display(LinkKind, lambda v: v.replace("_", " "))


def _priority_faithful(original: str, value: enum.Enum) -> bool:
    # `Critical (Security Issue)` would also make the issue a security issue on reading.
    return vocab.normalise_priority(original) is value and "security" not in original.lower()


_C = {
    "status": Choice(vocab.normalise_status, STATUS_DISPLAY),
    "severity": Choice(vocab.normalise_severity, SEVERITY_DISPLAY),
    "priority": Choice(vocab.normalise_priority, PRIORITY_DISPLAY, _priority_faithful),
    "type": Choice(vocab.normalise_type, TYPE_DISPLAY),
}

# In the order the writer puts them. The reader takes any order.
FIELDS: tuple[IssueField, ...] = (
    IssueField("title", "Title", Kind.TITLE, Place.HEADING),
    IssueField("original_id", "Issue ID", Kind.LINE, Place.HEADING),
    IssueField("status", "Status", Kind.STATUS, Place.LINE, _C["status"], anchor=True),
    IssueField("severity", "Severity", Kind.CHOICE, Place.LINE, _C["severity"], anchor=True),
    IssueField("priority", "Priority", Kind.CHOICE, Place.LINE, _C["priority"], anchor=True),
    IssueField("type", "Type", Kind.CHOICE, Place.LINE, _C["type"]),
    IssueField("component", "Component", Kind.LINE, Place.LINE),
    IssueField("reporter", "Reporter", Kind.LINE, Place.LINE),
    IssueField("assignee", "Assignee", Kind.LINE, Place.LINE),
    IssueField("services", "Service(s) Affected", Kind.SERVICES, Place.LINE),
    IssueField("reported_at", "Date", Kind.DATE, Place.LINE),
    IssueField("acknowledged_at", "Acknowledged", Kind.DATE, Place.LINE),
    IssueField("resolved_at", "Resolved", Kind.DATE, Place.LINE),
    IssueField("close_reason", "Close Reason", Kind.CLOSE_REASON, Place.LINE),
    IssueField("labels", "Labels", Kind.LABELS, Place.LINE),
    IssueField("links", "Links", Kind.LINKS, Place.LINE),
    IssueField("description", "Description", Kind.TEXT, Place.SECTION, anchor=True),
    IssueField("impact", "Impact", Kind.TEXT, Place.SECTION, anchor=True),
    IssueField("error_details", "Error Details", Kind.ERRORS, Place.SECTION),
    IssueField("attempted_solutions", "Attempted Solutions", Kind.TEXT, Place.SECTION),
    IssueField("root_cause", "Root Cause", Kind.TEXT, Place.SECTION, anchor=True),
    IssueField("resolution", "Resolution", Kind.TEXT, Place.SECTION, anchor=True),
    IssueField("workaround", "Workaround", Kind.TEXT, Place.SECTION),
    IssueField("prevention", "Prevention", Kind.TEXT, Place.SECTION),
    IssueField("files_changed", "Files Changed", Kind.FILES, Place.SECTION),
    IssueField("test_results", "Test Results", Kind.TEXT, Place.SECTION),
    IssueField("tasks", "Tasks", Kind.TASKS, Place.SECTION),
    IssueField("source", "Source", Kind.LINE, Place.META),
    IssueField("fingerprint", "Fingerprint", Kind.LINE, Place.META),
)
BY_ATTR: Mapping[str, IssueField] = {f.attr: f for f in FIELDS}


def normaliser(attr: str) -> Callable[[str], enum.Enum | None] | None:
    """How text becomes a value of a closed-vocabulary field (status, severity …), if it is one."""
    spec = BY_ATTR.get(attr)
    return spec.choice.normalise if spec is not None and spec.choice is not None else None


LINE_FIELDS = tuple(f for f in FIELDS if f.place is Place.LINE)
SECTION_FIELDS = tuple(f for f in FIELDS if f.place is Place.SECTION)
TEXT_FIELDS = tuple(f.attr for f in FIELDS if f.kind is Kind.TEXT)
DATE_FIELDS = tuple(f.attr for f in FIELDS if f.kind is Kind.DATE)
ANCHOR_FIELDS = frozenset(f.attr for f in FIELDS if f.anchor)
