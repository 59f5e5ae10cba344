"""An issue's timeline reduced to the numbers whole-desk reports add up in SQL.

Pure domain. `core.sla.Timeline` rebuilds an issue's status over time from its events; the SLA
report and the statistics evaluate it for every issue. A `TimelineSums` is the same timeline as
plain numbers (UTC microseconds since the epoch): where its clocks start and stop, when its last
status began, and how long it spent in each active status before that. Time spent per status,
rather than per clock, keeps the sums independent of the `[sla]` policy: the running time of a
clock under any set of pause statuses is the sum over the statuses that are not paused.

The sums are derived from the event log and the issue row (`summarise`), kept beside the issue
by the store in the same transaction as each change, and give the reports the same answer as the
timeline itself while its segments start in order and the report's moment is not before its last
one (`regular`, checked by the report). Anything else is evaluated from the timeline, which the
sums also carry whole (`segments`, see `restore`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from passmuster.core._dataclass import dataclass
from passmuster.core.issues import ACTIVE_STATUSES, Event, Issue, Severity, Status
from passmuster.core.sla import ClockName, SlaPolicy, SlaState, SlaStatus, Timeline

# Their values, read once: an enum's `value` is a Python-level property, and filing 10,000
# issues summarises 10,000 timelines.
ACTIVE_VALUES: tuple[str, ...] = tuple(s.value for s in ACTIVE_STATUSES)
# A severity's `rank` lists the enum on every call: read once for each.
_SEVERITY_RANK = {s: s.rank for s in Severity}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_STATUS = {s.value: s for s in Status}
_SEVERITY = {s.value: s for s in Severity}


def micros(moment: datetime) -> int:
    """UTC microseconds since the epoch: exact, so sums and comparisons match timedelta's."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def month_of(value: int) -> str:
    """The UTC month ("2026-03") of a time in microseconds since the epoch."""
    moment = from_micros(value)
    if moment.year >= 1000:
        # Formatted by hand: strftime cost more than the rest of summarising a filed issue.
        # Earlier years are written as the platform's strftime writes them (padded or not).
        return f"{moment.year}-{moment.month:02d}"
    return moment.strftime("%Y-%m")


# Not frozen: a frozen dataclass sets each of its twenty fields through object.__setattr__, which
# made building one cost more than the rest of summarising a filed issue. Nothing changes one.
@dataclass(slots=True)
class TimelineSums:
    """What the reports need of one issue: its timeline as numbers, and the issue fields they
    group and filter by.

    `in_status` is, per active status, the time spent in it before the last segment started;
    `to_ack` the time spent in it from the clock's start until the acknowledgement (zero
    without one). `regular` is true when the segments start in order. `segments` encodes the
    whole timeline (`restore` gives it back). The title, assignee and priority are what the
    SLA report and the priority matrix list: carried here, those reports read this row alone.
    """

    number: int
    title: str
    assignee: str | None
    priority: str | None
    status: str
    severity: str
    severity_rank: int
    type: str
    opened: int
    opened_month: str
    resolved: int | None
    start: int
    acknowledged: int | None
    finished: int | None
    last_start: int
    last_status: str
    regular: bool
    in_status: dict[str, int]
    to_ack: dict[str, int]
    segments: str


def summarise(issue: Issue, events: Sequence[Event]) -> TimelineSums:
    """The sums of `issue` with its events (at least its created, status and acknowledged ones,
    oldest first): what `core.sla.Timeline(issue, events)` says, as numbers."""
    timeline = Timeline(issue, events)
    starts = [micros(s.start) for s in timeline.segments]
    statuses = [s.status for s in timeline.segments]
    ack = micros(timeline.acknowledged_at) if timeline.acknowledged_at is not None else None
    in_status = dict.fromkeys(ACTIVE_VALUES, 0)
    to_ack = dict.fromkeys(ACTIVE_VALUES, 0)
    for i, status in enumerate(statuses):
        if not status.is_active:
            continue
        begin = starts[i]
        end = starts[i + 1] if i + 1 < len(starts) else None
        if end is not None:
            in_status[status.value] += max(0, end - begin)
        if ack is not None:
            stop = ack if end is None else min(end, ack)
            to_ack[status.value] += max(0, stop - begin)
    opened = issue.reported_at or issue.created_at
    assert opened is not None, "a filed issue has a creation time"
    return TimelineSums(
        number=issue.number,
        title=issue.title,
        assignee=issue.assignee,
        priority=issue.priority.value if issue.priority else None,
        status=issue.status.value,
        severity=issue.severity.value,
        severity_rank=_SEVERITY_RANK[issue.severity],
        type=issue.type.value,
        opened=micros(opened),
        opened_month=month_of(micros(opened)),
        resolved=micros(issue.resolved_at) if issue.resolved_at is not None else None,
        start=starts[0],
        acknowledged=ack,
        finished=micros(timeline.finished_at) if timeline.finished_at is not None else None,
        last_start=starts[-1],
        last_status=statuses[-1].value,
        regular=all(a <= b for a, b in pairwise(starts)),
        in_status=in_status,
        to_ack=to_ack,
        segments=" ".join(
            f"{at}:{status.value}" for at, status in zip(starts, statuses, strict=True)
        ),
    )


def summarise_filed(issue: Issue) -> TimelineSums:
    """The sums of an issue just filed, whose only event is its `created` one (at its
    `created_at`, with its status): what `summarise` gives for it, worked out directly from the
    issue. A bulk filing summarises every issue it files; building each one's timeline cost
    more than writing its row."""
    filed_at = issue.created_at
    assert filed_at is not None, "a filed issue has a creation time"
    # Timeline: the clock starts at the report time when it is earlier than the filing.
    start_at = min(issue.reported_at or filed_at, filed_at)
    start = micros(start_at)
    status = issue.status
    in_status = dict.fromkeys(ACTIVE_VALUES, 0)
    to_ack = dict.fromkeys(ACTIVE_VALUES, 0)
    # Acknowledged no earlier than the clock's start, so no span below is negative.
    ack = (
        micros(max(issue.acknowledged_at, start_at)) if issue.acknowledged_at is not None else None
    )
    finished: int | None = None
    last_start = start
    if status.is_active:
        segments = f"{start}:{status.value}"
        if ack is not None:
            to_ack[status.value] = ack - start
    elif issue.resolved_at is not None:
        # Filed finished with a time of resolution: open until then (as `Timeline` has it).
        finished = last_start = micros(max(issue.resolved_at, start_at))
        segments = f"{start}:{Status.OPEN.value} {finished}:{status.value}"
        in_status[Status.OPEN.value] = finished - start
        if ack is not None:
            to_ack[Status.OPEN.value] = min(finished, ack) - start
    else:
        segments = f"{start}:{status.value}"
    opened = micros(issue.reported_at or filed_at)
    return TimelineSums(
        number=issue.number,
        title=issue.title,
        assignee=issue.assignee,
        priority=issue.priority.value if issue.priority else None,
        status=status.value,
        severity=issue.severity.value,
        severity_rank=_SEVERITY_RANK[issue.severity],
        type=issue.type.value,
        opened=opened,
        opened_month=month_of(opened),
        resolved=micros(issue.resolved_at) if issue.resolved_at is not None else None,
        start=start,
        acknowledged=ack,
        finished=finished,
        last_start=last_start,
        last_status=status.value,
        regular=True,  # one segment, or a second that starts no earlier than the first
        in_status=in_status,
        to_ack=to_ack,
        segments=segments,
    )


def restore(
    segments: str, *, start: int, finished: int | None, acknowledged: int | None
) -> Timeline:
    """The `Timeline` the sums were made from, for what the sums alone cannot answer."""
    parts = (part.split(":", 1) for part in segments.split())
    return Timeline.from_parts(
        from_micros(start),
        [(from_micros(int(at)), _STATUS[status]) for at, status in parts],
        finished_at=from_micros(finished) if finished is not None else None,
        acknowledged_at=from_micros(acknowledged) if acknowledged is not None else None,
    )


@dataclass(frozen=True, slots=True)
class ClockTerms:
    """One clock of an `[sla]` policy as the numbers a query needs: per severity (name, limit,
    remaining time at or under which it is at risk), in microseconds, for the severities that
    have a limit; and the statuses in which the clock runs. Hashable, so queries built for it
    can be reused."""

    clock: ClockName
    limits: tuple[tuple[str, int, int], ...]
    running: tuple[str, ...]


def clock_terms(policy: SlaPolicy, clock: ClockName) -> ClockTerms:
    limits = policy.respond if clock == "respond" else policy.resolve
    pauses = set(policy.pause_statuses)
    found: list[tuple[str, int, int]] = []
    for severity in Severity:
        limit = limits.for_severity(severity)
        if limit is None:
            continue
        # The same timedelta arithmetic as clock_status, so the threshold rounds the same way.
        risk = (limit * policy.at_risk) // _MICROSECOND
        found.append((severity.value, limit // _MICROSECOND, risk))
    running = tuple(s.value for s in ACTIVE_STATUSES if s not in pauses)
    return ClockTerms(clock, tuple(found), running)


# One clock a query found at risk or breached, in this order: the clock's index in the report's
# ClockTerms, number, title, severity rank, status, assignee, clock start, time left (negative
# once breached; microseconds), the encoded segments where the limit was reached before the last
# segment began (None elsewhere), finished and acknowledged times.
ListedRow = tuple[
    int, int, str, int, str, "str | None", int, int, "str | None", "int | None", "int | None"
]
_BY_RANK = {s.rank: s for s in Severity}


def listed_clocks(
    rows: Iterable[ListedRow], clocks: Sequence[ClockTerms], policy: SlaPolicy, *, now: datetime
) -> list[SlaStatus]:
    """The `SlaStatus` of each clock a query found at risk or breached at `now` from the sums:
    what `clock_status` gives for it. Written for speed: the worst case lists every active
    issue of a large desk, so each clock costs two timedeltas, three sums of times, one lookup
    and the record."""
    pauses = frozenset(policy.pause_statuses)
    now_utc = _EPOCH + timedelta(0, 0, micros(now))
    # Per clock and severity rank: the clock, the Severity and the limit (one timedelta shared
    # by every record of that clock and severity).
    kinds: dict[tuple[int, int], tuple[ClockName, Severity, timedelta]] = {
        (order, _SEVERITY[name].rank): (c.clock, _SEVERITY[name], timedelta(0, 0, limit))
        for order, c in enumerate(clocks)
        for name, limit, _ in c.limits
    }
    status_of = _STATUS
    out: list[SlaStatus] = []
    append = out.append
    for row in rows:
        order, number, title, rank, status, assignee, start, left, segments, finished, ack = row
        clock, severity, allowed = kinds[order, rank]
        remaining = _MICROSECOND * left
        due_at: datetime | None
        if left >= 0:
            state: SlaState = "at_risk"
            due_at = now + remaining
        elif segments is None:
            # Reached in the last segment, which runs: as long ago as it is overdue.
            state = "breached"
            due_at = now_utc + remaining
        else:
            state = "breached"
            timeline = restore(segments, start=start, finished=finished, acknowledged=ack)
            due_at = timeline.reached(allowed, now, pauses)
        append(
            SlaStatus(
                number,
                title,
                severity,
                status_of[status],
                assignee,
                clock,
                state,
                _EPOCH + _MICROSECOND * start,
                allowed,
                allowed - remaining,
                remaining,
                due_at,
            )
        )
    return out
