"""Maintenance windows: times when a service's failures are expected and nobody is paged.

A window has a start, an end, the services it covers and a message for the status page. A
recurring window repeats by an iCalendar recurrence rule (RFC 5545 `RRULE`, e.g.
`FREQ=WEEKLY;BYDAY=SU`), each occurrence lasting as long as the first. The rules are read by
python-dateutil's `rrule`, the reference implementation most calendar tools in Python use.

Pure domain: the store keeps windows, the monitor asks `covering(...)` before it opens an
incident, the status page lists `occurrences(...)`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dateutil.rrule import rrule, rrulestr

from passmuster.errors import InvalidValue

MESSAGE_MAX = 2000
RECURRENCE_MAX = 500
SERVICES_MAX = 500
# A window longer than this is a mistake (a year typed for a day), not a maintenance.
LONGEST = timedelta(days=31)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A scheduled maintenance. `starts_at`/`ends_at` bound the first occurrence (UTC)."""

    id: int
    message: str
    services: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    recurrence: str | None = None
    created_by: str = ""
    created_at: datetime | None = None
    cancelled_at: datetime | None = None

    @property
    def length(self) -> timedelta:
        return self.ends_at - self.starts_at

    def _rule(self) -> rrule:
        assert self.recurrence is not None
        return _parse_rule(self.recurrence, self.starts_at)

    def active_at(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence under way at `at` (start inclusive, end exclusive), else None."""
        if self.recurrence is None:
            return (self.starts_at, self.ends_at) if self.starts_at <= at < self.ends_at else None
        start = self._rule().before(at, inc=True)
        if start is None:
            return None
        start = _utc(start)
        end = start + self.length
        return (start, end) if at < end else None

    def occurrences(self, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """Occurrences that overlap [since, until), in order."""
        if self.recurrence is None:
            if self.starts_at < until and self.ends_at > since:
                return [(self.starts_at, self.ends_at)]
            return []
        starts = self._rule().between(since - self.length, until, inc=True)
        found = []
        for start in starts:
            start = _utc(start)
            end = start + self.length
            if end > since and start < until:
                found.append((start, end))
        return found

    def next_after(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence under way at `at`, else the next one to start, else None."""
        current = self.active_at(at)
        if current is not None:
            return current
        if self.recurrence is None:
            return (self.starts_at, self.ends_at) if self.starts_at > at else None
        start = self._rule().after(at)
        return None if start is None else (_utc(start), _utc(start) + self.length)

    def is_over(self, at: datetime) -> bool:
        return self.next_after(at) is None

    def touches(self, service: str) -> bool:
        return service in self.services


def covering(
    windows: Iterable[MaintenanceWindow], services: Iterable[str], at: datetime
) -> MaintenanceWindow | None:
    """The first window under way at `at` that covers any of `services`, else None."""
    names = set(services)
    for window in windows:
        if names.intersection(window.services) and window.active_at(at) is not None:
            return window
    return None


def check_window(
    *,
    message: str,
    services: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    recurrence: str | None,
    known_services: Iterable[str] | None = None,
) -> None:
    """Refuse a window that cannot be meant: raises InvalidValue naming the field."""
    if not message.strip():
        raise InvalidValue("message", message, ["a non-empty text"])
    if len(message) > MESSAGE_MAX:
        raise InvalidValue("message", f"{len(message)} characters", [f"at most {MESSAGE_MAX}"])
    if not services:
        raise InvalidValue("services", [], ["at least one service"])
    if len(services) > SERVICES_MAX:
        raise InvalidValue("services", f"{len(services)} services", [f"at most {SERVICES_MAX}"])
    if known_services is not None:
        known = set(known_services)
        unknown = [s for s in services if s not in known]
        if unknown:
            raise InvalidValue(
                "services", unknown[0], sorted(known) or ["a service of the catalog"]
            )
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidValue("starts_at", starts_at.isoformat(), ["a time with a time zone"])
    if ends_at <= starts_at:
        raise InvalidValue(
            "ends_at", ends_at.isoformat(), [f"a time after the start ({starts_at.isoformat()})"]
        )
    if ends_at - starts_at > LONGEST:
        raise InvalidValue(
            "ends_at", ends_at.isoformat(), [f"at most {LONGEST.days} days after the start"]
        )
    if recurrence is not None:
        if len(recurrence) > RECURRENCE_MAX:
            raise InvalidValue("recurrence", recurrence[:40] + "…", [f"at most {RECURRENCE_MAX}"])
        rule = _parse_rule(recurrence, starts_at)
        second = rule.after(starts_at)
        if second is not None and _utc(second) < ends_at:
            raise InvalidValue(
                "recurrence", recurrence, ["a rule whose occurrences do not overlap"]
            )


@functools.lru_cache(maxsize=256)
def _parse_rule(text: str, start: datetime) -> rrule:
    """The rule, checked: daily or rarer (the monitor asks it on every failed probe, and a
    rule that fires every minute would make each answer walk years of occurrences), and
    occurring at least once in its first two years (an impossible rule, say 31 February,
    would make every question search to the year 9999)."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body or "\n" in body or "DTSTART" in body.upper():
        raise InvalidValue("recurrence", text, ["an RRULE such as FREQ=WEEKLY;BYDAY=SU"])
    parts = dict(p.partition("=")[::2] for p in body.upper().split(";"))
    if parts.get("FREQ") not in _FREQUENCIES:
        raise InvalidValue("recurrence", text, [f"a FREQ of {', '.join(_FREQUENCIES)}"])
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or not 1 <= int(interval) <= 1000:
        raise InvalidValue("recurrence", text, ["an INTERVAL from 1 to 1000"])
    try:
        rule = rrulestr(body, dtstart=start)
    except (ValueError, TypeError, OverflowError):
        raise InvalidValue("recurrence", text, ["an RRULE such as FREQ=WEEKLY;BYDAY=SU"]) from None
    if not isinstance(rule, rrule):
        raise InvalidValue("recurrence", text, ["a single RRULE"])
    if not rule.between(start - timedelta(seconds=1), start + timedelta(days=731), inc=True):
        raise InvalidValue("recurrence", text, ["a rule that occurs within two years"])
    return rule


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_time(text: str, *, field: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (`2026-12-06T02:00Z`, `2026-12-06 02:00` taken as UTC) or `now`."""
    value = text.strip()
    if value.lower() == "now":
        return (now or datetime.now(UTC)).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(field, text, ["an ISO 8601 time such as 2026-12-06T02:00Z"]) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_duration(text: str, *, field: str) -> timedelta:
    """`90m`, `2h`, `1.5h`, `1d`: a positive duration."""
    match = _DURATION.match(text)
    if match is None or float(match[1]) <= 0:
        raise InvalidValue(field, text, ["a duration such as 30m, 2h or 1d"])
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])
