"""What the scanner reports: findings, the places they point at, and the fixes they offer.

Pure domain: no files are read here. A finding's `fingerprint` identifies "the same problem" across
scans so the tracker can count occurrences, auto-resolve and reopen: it hashes the rule, the
service, the file and a rule-chosen `key` (by default the message), never the line number, so it
stays stable when lines move.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

# The label a scan puts on a resolved issue whose rule still fires lives with the issue, since
# every listing reads it; the scanner's modules name it here.
from passmuster.core.issues import STILL_DETECTED as STILL_DETECTED
from passmuster.core.issues import Severity
from passmuster.core.issues import is_still_detected as is_still_detected


class Fix(enum.StrEnum):
    """Whether a rule can fix what it finds, and how safely."""

    NONE = "none"
    SAFE = "safe"  # keeps behaviour the same; applied by `scan --fix`
    UNSAFE = "unsafe"  # may change behaviour; applied only with `--unsafe-fixes`


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a scanned file; paths are relative to the platform root, with `/`."""

    path: str
    line: int | None = None
    column: int | None = None
    message: str = ""
    service: str | None = None


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace lines `start..end` (1-based, inclusive) of `path` with `text`.

    `expected` is what those lines held when the rule looked; an edit whose lines changed meanwhile
    is skipped rather than applied blind. `end == start - 1` inserts before `start`.
    """

    path: str
    start: int
    end: int
    text: str
    expected: str | None = None

    @property
    def is_insertion(self) -> bool:
        return self.end == self.start - 1


@dataclass(frozen=True, slots=True)
class Fixit:
    """A fix a rule proposes: a description and the edits that make it."""

    message: str
    edits: tuple[Edit, ...]
    applicability: Fix = Fix.SAFE


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str
    path: str
    line: int | None = None
    severity: Severity = Severity.MEDIUM
    service: str | None = None
    fix: Fixit | None = None
    related: tuple[Location, ...] = ()
    column: int | None = None
    key: str | None = None  # what makes this problem itself; defaults to the message

    @property
    def fingerprint(self) -> str:
        """Stable identity across scans: rule, service, file and key, never the line."""
        return fingerprint(self.code, self.service, self.path, self.key or self.message)

    @property
    def location(self) -> Location:
        return Location(self.path, self.line, self.column, self.message, self.service)

    def sort_key(self) -> tuple[str, str, int, int, str]:
        return (self.service or "", self.path, self.line or 0, self.column or 0, self.code)


def fingerprint(code: str, service: str | None, path: str, key: str) -> str:
    raw = "\x1f".join((code, service or "", path, key))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class Occurrences:
    """How often scans have seen the finding behind an issue: `count` scans, the first and the
    last of them (when, and the scan's stamp: its id and git commit).

    A count rather than one timeline event per scan: the timeline keeps what changed (opened,
    resolved, reopened), and a scan that only sees the finding again changes nothing but this.
    """

    count: int
    first_seen_at: datetime
    first_seen_in: str
    last_seen_at: datetime
    last_seen_in: str


SEVERITY_ORDER: tuple[Severity, ...] = tuple(Severity)


def at_least(severity: Severity, threshold: Severity) -> bool:
    """True when `severity` is as urgent as `threshold` or more (critical is the most urgent)."""
    return severity.rank <= threshold.rank


@dataclass(slots=True)
class Suppression:
    """An inline `# passmuster: ignore[CODE,…] reason` comment, and what it silenced."""

    path: str
    line: int  # the comment's own line
    applies_to: tuple[int, ...]  # the lines it covers
    codes: tuple[str, ...]
    reason: str = ""
    used: set[str] = field(default_factory=set)

    def covers(self, finding: Finding) -> bool:
        if finding.path != self.path or finding.line not in self.applies_to:
            return False
        return any(finding.code == c or finding.code.startswith(c) for c in self.codes)
