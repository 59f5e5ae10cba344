"""What reading a log produces: issues with where they came from, log notes, warnings, a report."""

from __future__ import annotations

from dataclasses import dataclass, field

from passmuster.core.issues import IssueDraft
from passmuster.core.notes import LogNote as LogNote  # a core concept the readers make


@dataclass(frozen=True, slots=True)
class LogWarning:
    """Something the reader could not take at face value, at `path:line`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class StatedTotal:
    """A count the log states about itself ("Open: 17 issues") against what was found."""

    path: str
    line: int
    label: str
    stated: int
    found: int

    @property
    def matches(self) -> bool:
        return self.stated == self.found


@dataclass(slots=True)
class ParsedIssue:
    """One issue read from a log: the draft, its line, and the fields the log filled."""

    draft: IssueDraft
    line: int
    filled: list[str] = field(default_factory=list)
    # (source, key): what a later import of the same log matches this issue by.
    key: str = ""
    origin: str = "section"  # or "table": a table row; "list": an item of a list of issues
    number: int | None = None  # the desk number, in a log that passmuster exported


@dataclass(slots=True)
class ParsedLog:
    path: str
    family: str
    source: str | None = None
    issues: list[ParsedIssue] = field(default_factory=list)
    notes: list[LogNote] = field(default_factory=list)
    warnings: list[LogWarning] = field(default_factory=list)
    totals: list[StatedTotal] = field(default_factory=list)
    # Notes of other logs that an exported log carries back (`export --notes`), by their log.
    carried_notes: list[LogNote] = field(default_factory=list)
    # Lines that quote other logs (the carried notes): their stated totals are not this log's.
    quoted: list[range] = field(default_factory=list)

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(LogWarning(self.path, line, message))


@dataclass(slots=True)
class ReportEntry:
    """One issue in the report: what happened to it on the desk."""

    path: str
    line: int
    title: str
    original_id: str | None
    action: str  # "created", "updated", "unchanged", or "would create" … on a dry run
    number: int | None
    filled: list[str]
    changed: list[str] = field(default_factory=list)
    status: str = ""  # the status the log gives the issue (or the default, open)
    # Fields changed only on the desk since the last import of this log: the desk's are kept.
    kept: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportConflict:
    """A field the log and the desk both changed since the last import, differently."""

    path: str
    line: int
    number: int
    title: str
    field: str
    desk: str | None
    log: str | None
    taken: str  # "desk" (the default) or "log" (`--prefer log`)

    def __str__(self) -> str:
        kept = "the desk's kept" if self.taken == "desk" else "the log's taken"
        return (
            f"{self.path}:{self.line}: #{self.number:03d} {self.field} changed on the desk "
            f"({self.desk!r}) and in the log ({self.log!r}); {kept}"
        )


@dataclass(frozen=True, slots=True)
class RemovedIssue:
    """An issue a log gave at its last import and no longer does: kept on the desk."""

    path: str
    number: int
    title: str
    original_id: str | None


@dataclass(slots=True)
class ImportReport:
    """Everything an import did and noticed; `passmuster import --json` prints this."""

    dry_run: bool
    files: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    issues: list[ReportEntry] = field(default_factory=list)
    notes: list[LogNote] = field(default_factory=list)
    warnings: list[LogWarning] = field(default_factory=list)
    totals: list[StatedTotal] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    conflicts: list[ImportConflict] = field(default_factory=list)
    removed: list[RemovedIssue] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for entry in self.issues if entry.action == action)
