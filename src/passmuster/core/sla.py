"""Service levels: how fast an issue must be answered and resolved, computed from its timeline.

Pure domain. The policy comes from `[sla]` in passmuster.toml (or `[tool.passmuster.sla]` in
pyproject.toml); its defaults are the coordinator response times the real logs promise:

    [sla]
    pause_statuses = ["blocked"]     # the clocks stop while an issue waits in these
    at_risk = 0.25                   # "at risk" once less than this share of the time is left
    [sla.respond]                    # until acknowledged
    critical = "1h"
    high = "4h"
    medium = "24h"
    low = "1w"
    [sla.resolve]                    # until resolved
    critical = "4h"
    high = "24h"
    medium = "1w"
    low = "none"

Durations read `30m`, `4h`, `2d`, `1w` (or a number of hours); `none` means no limit.
Both clocks start when the issue was reported (or filed), and count only time spent in an active
status that is not a pause status. Reopening an issue restarts the resolve clock where it stopped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from datetime import datetime, timedelta
from typing import Literal

from passmuster.core._dataclass import dataclass
from passmuster.core.issues import Event, Issue, Severity, Status

_DURATION = re.compile(
    r"^(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)$"
)
_UNIT_HOURS = {"m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}


def parse_duration(value: object) -> timedelta | None:
    """`4h` → 4 hours; `none` → no limit. Raises ValueError with the accepted forms."""
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30m, 4h, 2d, 1w, or none")
    if isinstance(value, int | float):
        return timedelta(hours=float(value))
    text = str(value).strip().lower()
    if text in {"none", "never", "no", "off", "-"}:
        return None
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{value!r} is not a duration: write 30m, 4h, 2d, 1w, or none")
    amount, unit = float(match.group(1)), match.group(2)
    return timedelta(hours=amount * _UNIT_HOURS[unit[0]])


def format_duration(value: timedelta | None) -> str:
    """The shortest honest text for a duration: 45m, 4h, 2d 3h, 1w."""
    if value is None:
        return "none"
    minutes = int(abs(value).total_seconds() // 60)
    sign = "-" if value < timedelta(0) else ""
    weeks, rest = divmod(minutes, 7 * 24 * 60)
    days, rest = divmod(rest, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((weeks, "w"), (days, "d"), (hours, "h"), (mins, "m")) if n]
    return sign + (" ".join(parts[:2]) if parts else "0m")


@dataclass
class Limits:
    """One limit per severity; None means no limit."""

    critical: timedelta | None = None
    high: timedelta | None = None
    medium: timedelta | None = None
    low: timedelta | None = None
    info: timedelta | None = None

    def for_severity(self, severity: Severity) -> timedelta | None:
        limit: timedelta | None = getattr(self, severity.value)
        return limit

    @classmethod
    def model_validate(cls, data: object) -> Limits:
        """Limits from configuration (durations as text); pydantic's ValidationError if wrong."""
        from passmuster.core.policy_config import LimitsConfig

        return LimitsConfig.model_validate(data).policy()


def _default_respond() -> Limits:
    return Limits(
        critical=timedelta(hours=1),
        high=timedelta(hours=4),
        medium=timedelta(hours=24),
        low=timedelta(weeks=1),
    )


def _default_resolve() -> Limits:
    return Limits(critical=timedelta(hours=4), high=timedelta(hours=24), medium=timedelta(weeks=1))


@dataclass
class SlaPolicy:
    """The `[sla]` section. A severity left out of `[sla.respond]` or `[sla.resolve]` keeps its
    default limit; write `"none"` to remove one.

    A plain dataclass: the defaults need no validation, and pydantic (which reads the section,
    in core/policy_config.py) is loaded only when there is a section to read.
    """

    respond: Limits = field(default_factory=_default_respond)
    resolve: Limits = field(default_factory=_default_resolve)
    pause_statuses: list[Status] = field(default_factory=lambda: [Status.BLOCKED])
    at_risk: float = 0.25

    @classmethod
    def model_validate(cls, data: object) -> SlaPolicy:
        """The policy a `[sla]` section describes; pydantic's ValidationError names a wrong
        field."""
        if data == {}:
            return cls()
        from passmuster.core.policy_config import SlaPolicyConfig

        return SlaPolicyConfig.model_validate(data).policy()


ClockName = Literal["respond", "resolve"]
SlaState = Literal["ok", "at_risk", "breached", "paused", "met", "missed"]


# Not frozen: a frozen dataclass sets each of its twelve fields through object.__setattr__, a
# microsecond per record, and the SLA report of a large desk returns tens of thousands of them.
@dataclass(slots=True)
class SlaStatus:
    """Where one clock of one issue stands at `now`.

    `due_at` is when the limit is (or was) reached; None while paused or without a limit.
    `remaining` is negative once breached. `met` and `missed` are final.
    """

    number: int
    title: str
    severity: Severity
    status: Status
    assignee: str | None
    clock: ClockName
    state: SlaState
    started_at: datetime
    limit: timedelta
    elapsed: timedelta
    remaining: timedelta
    due_at: datetime | None

    @property
    def breached(self) -> bool:
        return self.state in ("breached", "missed")


# Plain lookups: SLA reports walk every active issue's timeline, and enum parsing and
# properties show up in their profile.
_FINISHED = frozenset(s for s in Status if not s.is_active)
_BY_VALUE = {s.value: s for s in Status}


def _status(value: str) -> Status:
    return _BY_VALUE.get(value) or Status.parse(value)


@dataclass(frozen=True, slots=True)
class _Segment:
    start: datetime
    status: Status


class Timeline:
    """An issue's status over time, rebuilt from its events."""

    def __init__(self, issue: Issue, events: Sequence[Event]) -> None:
        created = next((e for e in events if e.kind == "created"), None)
        filed_at = created.at if created else (issue.created_at or issue.reported_at)
        assert filed_at is not None, "a filed issue has a creation time"
        self.start = min(issue.reported_at or filed_at, filed_at)
        changes = [e for e in events if e.kind == "status" and e.new]
        if changes:
            first = _status(changes[0].old) if changes[0].old else issue.status
        elif created and created.new:
            first = _status(created.new)
        else:
            first = issue.status
        segments = [_Segment(self.start, first)]
        # An issue filed already finished (an imported log) was open until its resolved time.
        if first in _FINISHED and issue.resolved_at and not changes:
            segments = [
                _Segment(self.start, Status.OPEN),
                _Segment(max(issue.resolved_at, self.start), first),
            ]
        for event in changes:
            segments.append(_Segment(max(event.at, self.start), _status(event.new or "")))
        self.segments = segments
        # When the issue last became resolved or closed; None while active, or when it was filed
        # finished with no time of resolution (nothing to measure then).
        self.finished_at: datetime | None = None
        if segments[-1].status in _FINISHED and len(segments) > 1:
            self.finished_at = segments[-1].start
        acknowledged = [e.at for e in events if e.kind == "acknowledged"]
        if issue.acknowledged_at is not None:
            acknowledged.append(issue.acknowledged_at)
        self.acknowledged_at = max(min(acknowledged), self.start) if acknowledged else None

    @classmethod
    def from_parts(
        cls,
        start: datetime,
        segments: Sequence[tuple[datetime, Status]],
        *,
        finished_at: datetime | None,
        acknowledged_at: datetime | None,
    ) -> Timeline:
        """A timeline rebuilt from what an earlier one computed (see core.timeline_sums)."""
        timeline = cls.__new__(cls)
        timeline.start = start
        timeline.segments = [_Segment(at, status) for at, status in segments]
        timeline.finished_at = finished_at
        timeline.acknowledged_at = acknowledged_at
        return timeline

    def status_at(self, moment: datetime) -> Status:
        current = self.segments[0].status
        for segment in self.segments:
            if segment.start > moment:
                break
            current = segment.status
        return current

    def _running(self, pauses: frozenset[Status]) -> list[tuple[datetime, datetime | None]]:
        """Intervals in which the clock runs; the last may be open-ended (None)."""
        spans: list[tuple[datetime, datetime | None]] = []
        for i, segment in enumerate(self.segments):
            end = self.segments[i + 1].start if i + 1 < len(self.segments) else None
            if segment.status not in _FINISHED and segment.status not in pauses:
                spans.append((segment.start, end))
        return spans

    def elapsed(self, until: datetime, pauses: frozenset[Status]) -> timedelta:
        total = timedelta(0)
        for start, end in self._running(pauses):
            stop = until if end is None else min(end, until)
            if stop > start:
                total += stop - start
        return total

    def reached(
        self, limit: timedelta, until: datetime, pauses: frozenset[Status]
    ) -> datetime | None:
        """The moment the running time reached `limit`, if it did by `until`."""
        left = limit
        for start, end in self._running(pauses):
            stop = until if end is None else min(end, until)
            if stop <= start:
                continue
            if stop - start >= left:
                return start + left
            left -= stop - start
        return None

    def running_at(self, moment: datetime, pauses: frozenset[Status]) -> bool:
        status = self.status_at(moment)
        return status not in _FINISHED and status not in pauses


def clock_status(
    issue: Issue,
    timeline: Timeline,
    policy: SlaPolicy,
    clock: ClockName,
    *,
    now: datetime,
) -> SlaStatus | None:
    """One clock of one issue at `now`, or None when its severity has no limit."""
    limits = policy.respond if clock == "respond" else policy.resolve
    limit = limits.for_severity(issue.severity)
    if limit is None:
        return None
    pauses = frozenset(policy.pause_statuses)
    finished = timeline.segments[-1].status in _FINISHED
    if clock == "respond":
        # An issue finished without an explicit acknowledgement was answered when it finished.
        stopped_at = timeline.acknowledged_at or timeline.finished_at
    else:
        stopped_at = timeline.finished_at
    if finished and stopped_at is None:
        return None
    until = min(stopped_at, now) if stopped_at else now
    elapsed = timeline.elapsed(until, pauses)
    remaining = limit - elapsed
    reached = timeline.reached(limit, until, pauses)
    state: SlaState
    if stopped_at is not None and stopped_at <= now:
        state = "met" if elapsed <= limit else "missed"
        due_at = reached
    else:
        running = timeline.running_at(now, pauses)
        if elapsed > limit:
            state = "breached"
            due_at = reached
        elif not running:
            state = "paused"
            due_at = None
        else:
            state = "at_risk" if remaining <= limit * policy.at_risk else "ok"
            due_at = now + remaining
    return SlaStatus(
        number=issue.number,
        title=issue.title,
        severity=issue.severity,
        status=issue.status,
        assignee=issue.assignee,
        clock=clock,
        state=state,
        started_at=timeline.start,
        limit=limit,
        elapsed=elapsed,
        remaining=remaining,
        due_at=due_at,
    )


def issue_clocks(
    issue: Issue, events: Sequence[Event], policy: SlaPolicy, *, now: datetime
) -> list[SlaStatus]:
    timeline = Timeline(issue, events)
    found = (clock_status(issue, timeline, policy, c, now=now) for c in ("respond", "resolve"))
    return [s for s in found if s is not None]


def sla_report(
    issues: Sequence[Issue],
    timelines: Mapping[int, Sequence[Event]],
    policy: SlaPolicy,
    *,
    now: datetime,
) -> list[SlaStatus]:
    """Clocks of active issues that are at risk or breached, most overdue first."""
    out = [
        status
        for issue in issues
        if issue.status.is_active
        for status in issue_clocks(issue, timelines.get(issue.number, ()), policy, now=now)
        if status.state in ("at_risk", "breached")
    ]
    return sorted(out, key=lambda s: (s.remaining, s.severity.rank, s.number))


def worst_clocks(statuses: Iterable[SlaStatus]) -> dict[int, SlaStatus]:
    """Per issue, the one clock a list shows beside it: breached before at risk, then the least
    time left. Issues with no clock at risk or breached are left out."""
    worst: dict[int, SlaStatus] = {}
    for clock in statuses:
        if clock.state not in ("breached", "at_risk"):
            continue
        current = worst.get(clock.number)
        if current is None or (clock.state != "breached", clock.remaining) < (
            current.state != "breached",
            current.remaining,
        ):
            worst[clock.number] = clock
    return worst


def sla_horizon(policy: SlaPolicy, *, now: datetime) -> dict[Severity, datetime | None]:
    """Per severity, the latest clock start at which an issue can show in `sla_report` at `now`.

    A clock only runs after its start and never past `now`, so its elapsed time is at most
    `now - start`; it is at risk once elapsed reaches `limit - limit * at_risk` and breached past
    `limit`. An issue that started later than this cannot be at risk or breached, whatever its
    timeline holds, so reports may leave it out without reading its events. Severities without
    any limit are absent: they have no clock at all; None means any start may be at risk.
    """
    horizon: dict[Severity, datetime | None] = {}
    for severity in Severity:
        needed = [
            limit - limit * policy.at_risk
            for limit in (
                policy.respond.for_severity(severity),
                policy.resolve.for_severity(severity),
            )
            if limit is not None
        ]
        if not needed:
            continue
        if min(needed) <= timedelta(0):
            # With `at_risk = 1` every running clock is at risk, even one not started yet.
            horizon[severity] = None
        else:
            # A second of slack keeps the cut clear of rounding in the stored times.
            horizon[severity] = now - min(needed) + timedelta(seconds=1)
    return horizon


def escalations_due(
    issues: Sequence[Issue],
    timelines: Mapping[int, Sequence[Event]],
    policy: SlaPolicy,
    *,
    now: datetime,
) -> list[SlaStatus]:
    """Breached clocks not escalated yet: each clock of an issue escalates once."""
    due: list[SlaStatus] = []
    for status in sla_report(issues, timelines, policy, now=now):
        if status.state != "breached":
            continue
        earlier = timelines.get(status.number, ())
        if any(e.kind == "escalated" and e.field == status.clock for e in earlier):
            continue
        due.append(status)
    return sorted(due, key=lambda s: (s.number, s.clock))
