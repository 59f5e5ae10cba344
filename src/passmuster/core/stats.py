"""Statistics over issues and their timelines: what the real logs tally by hand.

Pure domain. The month × severity table with average and median resolution time (the issue
statistics table of the coordination log), counts by status, severity and type and the priority
matrix (the known-issues summary), SLA attainment, mean time to acknowledge and to resolve, and the
services with the most open issues. An issue belongs to the month it was reported in; `since`
and `until` select issues by that same time.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from passmuster.core.issues import Event, Issue, IssueType, Priority, Severity, Status
from passmuster.core.sla import ClockName, SlaPolicy, SlaStatus, Timeline, clock_status

_SEVERITIES = [s.value for s in Severity]


@dataclass(slots=True)
class MonthRow:
    """One row of the month × severity table; `month` is `YYYY-MM` (or "total")."""

    month: str
    label: str
    by_severity: dict[str, int]
    total: int
    resolved: int
    avg_resolution_hours: float | None
    median_resolution_hours: float | None


@dataclass(slots=True)
class IssueRef:
    number: int
    title: str
    status: str
    severity: str


@dataclass(slots=True)
class SlaAttainment:
    """How often one clock was kept: met / (met + missed); pending ones are still running."""

    clock: str
    met: int
    missed: int
    pending: int
    percent: float | None


@dataclass(slots=True)
class ServiceCount:
    service: str
    open: int


@dataclass(slots=True)
class Stats:
    """Everything `passmuster stats` shows; `to_dict()` is ready for JSON."""

    since: datetime | None
    until: datetime | None
    generated_at: datetime
    total: int
    active: int
    months: list[MonthRow]
    totals: MonthRow
    by_status: dict[str, int]
    by_severity: dict[str, int]
    by_type: dict[str, int]
    priority_matrix: dict[str, list[IssueRef]]
    sla: list[SlaAttainment]
    mtta_hours: float | None
    mttr_hours: float | None
    top_services: list[ServiceCount] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self)  # type: ignore[no-any-return]

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)


def _jsonable(value: Any) -> Any:
    """`dataclasses.asdict` with times as ISO text and tuples as lists, in one pass: asdict
    deep-copies every value, which for the priority matrix of a desk with 60,000 active issues
    took a second. Plain values are passed over inline, without a call each."""
    names = _field_names(type(value))
    if names is not None:
        values = [getattr(value, name) for name in names]
        return {
            name: v if type(v) in _PLAIN else _jsonable(v)
            for name, v in zip(names, values, strict=True)
        }
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): v if type(v) in _PLAIN else _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) in _PLAIN else _jsonable(v) for v in value]
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names, None for any other type (remembered per type)."""
    try:
        return _FIELD_NAMES[kind]
    except KeyError:
        found = (
            tuple(f.name for f in dataclasses.fields(kind))
            if dataclasses.is_dataclass(kind)
            else None
        )
        _FIELD_NAMES[kind] = found
        return found


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _mean(values: Sequence[float]) -> float | None:
    return _round(statistics.fmean(values)) if values else None


def _median(values: Sequence[float]) -> float | None:
    return _round(statistics.median(values)) if values else None


def _opened(issue: Issue) -> datetime:
    when = issue.reported_at or issue.created_at
    assert when is not None, "a filed issue has a creation time"
    return when


def _resolution_hours(issue: Issue) -> float | None:
    if issue.resolved_at is None or (
        issue.status is not Status.RESOLVED and (issue.status is not Status.CLOSED)
    ):
        return None
    return max(0.0, _hours(issue.resolved_at - _opened(issue)))


def _month_row(month: str, label: str, issues: Sequence[Issue]) -> MonthRow:
    counts = Counter(i.severity.value for i in issues)
    hours = [_resolution_hours(i) for i in issues]
    times = [h for h in hours if h is not None]
    # Imported logs often say "Resolved" without a date: such issues count as resolved, but
    # only the ones with a resolution time count towards the average and median.
    finished = sum(
        1
        for i, h in zip(issues, hours, strict=True)
        if h is not None or i.status is Status.RESOLVED
    )
    return MonthRow(
        month=month,
        label=label,
        by_severity={s: counts.get(s, 0) for s in _SEVERITIES},
        total=len(issues),
        resolved=finished,
        avg_resolution_hours=_mean(times),
        median_resolution_hours=_median(times),
    )


def compute_stats(
    issues: Sequence[Issue],
    timelines: Mapping[int, Sequence[Event]],
    policy: SlaPolicy,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime,
) -> Stats:
    chosen = [
        i
        for i in issues
        if (since is None or _opened(i) >= since) and (until is None or _opened(i) < until)
    ]
    tallies = tally(chosen)

    ack_hours: list[float] = []
    attainment = {"respond": Counter[str](), "resolve": Counter[str]()}
    clocks: tuple[ClockName, ...] = ("respond", "resolve")
    for issue in chosen:
        timeline = Timeline(issue, timelines.get(issue.number, ()))
        if timeline.acknowledged_at is not None:
            ack_hours.append(max(0.0, _hours(timeline.acknowledged_at - timeline.start)))
        for clock in clocks:
            status = clock_status(issue, timeline, policy, clock, now=now)
            if status is None:
                continue
            if status.state == "met":
                attainment[clock]["met"] += 1
            elif status.state in ("missed", "breached"):
                attainment[clock]["missed"] += 1
            else:
                attainment[clock]["pending"] += 1
    sla = []
    for name, counts in attainment.items():
        decided = counts["met"] + counts["missed"]
        percent = _round(100.0 * counts["met"] / decided) if decided else None
        sla.append(SlaAttainment(name, counts["met"], counts["missed"], counts["pending"], percent))

    open_by_service = Counter(
        name for issue in chosen if issue.status.is_active for name in issue.services
    )
    resolution = [h for h in (_resolution_hours(i) for i in chosen) if h is not None]
    return Stats(
        since=since,
        until=until,
        generated_at=now,
        total=len(chosen),
        active=tallies.active,
        months=tallies.months,
        totals=tallies.totals,
        by_status=tallies.by_status,
        by_severity=tallies.by_severity,
        by_type=tallies.by_type,
        priority_matrix=tallies.priority_matrix,
        sla=sla,
        mtta_hours=_mean(ack_hours),
        mttr_hours=_mean(resolution),
        top_services=[
            ServiceCount(name, n)
            for name, n in sorted(open_by_service.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        ],
    )


@dataclass(slots=True)
class Tallies:
    """What can be counted from the issues alone, with no timeline: the logs' own tables."""

    active: int
    months: list[MonthRow]
    totals: MonthRow
    by_status: dict[str, int]
    by_severity: dict[str, int]
    by_type: dict[str, int]
    priority_matrix: dict[str, list[IssueRef]]


def _month_key(when: datetime) -> str:
    """`2025-06`, as `strftime("%Y-%m")` gives it, without its cost (10,000 issues a log)."""
    if when.year >= 1000:
        return f"{when.year}-{when.month:02d}"
    return when.strftime("%Y-%m")


# `Severity.rank` lists the enum on every call; the matrix sorts every issue by it.
_SEVERITY_RANK = {s: s.rank for s in Severity}


def tally(issues: Sequence[Issue]) -> Tallies:
    """Month × severity rows with totals, counts by status/severity/type, the priority matrix."""
    by_month: dict[str, list[Issue]] = {}
    for issue in sorted(issues, key=lambda i: (_opened(i), i.number)):
        by_month.setdefault(_month_key(_opened(issue)), []).append(issue)
    months = [
        _month_row(key, datetime.strptime(key, "%Y-%m").strftime("%b %Y"), group)
        for key, group in sorted(by_month.items())
    ]
    matrix: dict[str, list[IssueRef]] = {p.value: [] for p in Priority}
    matrix["unset"] = []
    for issue in sorted(issues, key=lambda i: (_SEVERITY_RANK[i.severity], i.number)):
        if issue.status.is_active:
            key = issue.priority.value if issue.priority else "unset"
            matrix[key].append(
                IssueRef(issue.number, issue.title, issue.status.value, issue.severity.value)
            )
    return Tallies(
        active=sum(1 for i in issues if i.status.is_active),
        months=months,
        totals=_month_row("total", "Total", issues),
        by_status=_counts(issues, "status", [s.value for s in Status]),
        by_severity=_counts(issues, "severity", _SEVERITIES),
        by_type=_counts(issues, "type", [t.value for t in IssueType]),
        priority_matrix=matrix,
    )


def month_axis(rows: Sequence[MonthRow]) -> list[MonthRow]:
    """`rows` (months with issues, oldest first) with a zero row for every month between them,
    so a chart's time axis is evenly spaced. The totals row, if any, is left out."""
    months = sorted((r for r in rows if r.month != "total"), key=lambda r: r.month)
    if not months:
        return []
    by_key = {r.month: r for r in months}
    year, month = map(int, months[0].month.split("-"))
    last = months[-1].month
    axis: list[MonthRow] = []
    while True:
        key = f"{year:04d}-{month:02d}"
        label = datetime(year, month, 1).strftime("%b %Y")
        axis.append(
            by_key.get(key) or MonthRow(key, label, dict.fromkeys(_SEVERITIES, 0), 0, 0, None, None)
        )
        if key >= last:
            return axis
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _counts(issues: Sequence[Issue], attribute: str, order: Sequence[str]) -> dict[str, int]:
    counts = Counter(getattr(i, attribute).value for i in issues)
    return {key: counts.get(key, 0) for key in order}


# --- statistics from a database's counts --------------------------------------------------------


@dataclass(slots=True)
class DeskCounts:
    """What a database counted for `stats_from_counts`, over the issues reported in the window.

    `counts`: (month, severity, status, type, has a resolution time, issues);
    `resolutions`: (month, microseconds from opening to resolution) of resolved and closed
    issues with a resolution time; `acknowledgements`: microseconds from each acknowledged
    issue's clock start to its acknowledgement; `attainment`: per clock, how many were met,
    missed and pending; `active`: (number, title, status, severity, priority) of the active
    issues, most severe first, then by number; `services`: (service, active issues).
    """

    counts: Sequence[tuple[str, str, str, str, bool, int]]
    resolutions: Sequence[tuple[str, int]]
    acknowledgements: Sequence[int]
    attainment: Mapping[str, Counter[str]]
    active: Sequence[tuple[int, str, str, str, str | None]]
    services: Sequence[tuple[str, int]]


def hours_of(micros: int) -> float:
    """A non-negative duration in microseconds as hours, the float `_hours` gives for it."""
    # timedelta.total_seconds() divides the microseconds by 10**6: the same float, the same mean.
    return max(0.0, micros / 10**6 / 3600)


def _counted_row(
    month: str,
    label: str,
    counts: Sequence[tuple[str, str, str, str, bool, int]],
    times: Sequence[float],
) -> MonthRow:
    by_severity = Counter[str]()
    for _, severity, _, _, _, n in counts:
        by_severity[severity] += n
    finished = sum(
        n
        for _, _, status, _, timed, n in counts
        if status == Status.RESOLVED.value or (status == Status.CLOSED.value and timed)
    )
    return MonthRow(
        month=month,
        label=label,
        by_severity={s: by_severity.get(s, 0) for s in _SEVERITIES},
        total=sum(n for *_, n in counts),
        resolved=finished,
        avg_resolution_hours=_mean(times),
        median_resolution_hours=_median(times),
    )


def stats_from_counts(
    counted: DeskCounts,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime,
) -> Stats:
    """The same `Stats` as `compute_stats`, from what a database counted (storage.report_store)."""
    months: dict[str, list[tuple[str, str, str, str, bool, int]]] = {}
    for row in counted.counts:
        months.setdefault(row[0], []).append(row)
    times: dict[str, list[float]] = {}
    for month, micros in counted.resolutions:
        times.setdefault(month, []).append(hours_of(micros))
    rows = [
        _counted_row(
            key,
            datetime.strptime(key, "%Y-%m").strftime("%b %Y"),
            months[key],
            times.get(key, []),
        )
        for key in sorted(months)
    ]
    every_time = [h for key in sorted(times) for h in times[key]]
    totals = _counted_row("total", "Total", counted.counts, every_time)

    def by(index: int, order: Sequence[str]) -> dict[str, int]:
        found = Counter[str]()
        for row in counted.counts:
            found[str(row[index])] += row[5]
        return {key: found.get(key, 0) for key in order}

    matrix: dict[str, list[IssueRef]] = {p.value: [] for p in Priority}
    matrix["unset"] = []
    for number, title, status, severity, priority in counted.active:
        matrix[priority or "unset"].append(IssueRef(number, title, status, severity))
    sla = []
    for name in ("respond", "resolve"):
        tally_ = counted.attainment.get(name, Counter[str]())
        decided = tally_["met"] + tally_["missed"]
        percent = _round(100.0 * tally_["met"] / decided) if decided else None
        sla.append(SlaAttainment(name, tally_["met"], tally_["missed"], tally_["pending"], percent))
    active_statuses = {s.value for s in Status if s.is_active}
    return Stats(
        since=since,
        until=until,
        generated_at=now,
        total=totals.total,
        active=sum(row[5] for row in counted.counts if row[2] in active_statuses),
        months=rows,
        totals=totals,
        by_status=by(2, [s.value for s in Status]),
        by_severity=by(1, _SEVERITIES),
        by_type=by(3, [t.value for t in IssueType]),
        priority_matrix=matrix,
        sla=sla,
        mtta_hours=_mean([hours_of(m) for m in counted.acknowledgements]),
        mttr_hours=totals.avg_resolution_hours,
        top_services=[
            ServiceCount(name, n)
            for name, n in sorted(counted.services, key=lambda kv: (-kv[1], kv[0]))[:10]
        ],
    )


def attainment_state(status: SlaStatus | None) -> str | None:
    """How a clock counts towards attainment: met, missed (breached counts as missed), pending."""
    if status is None:
        return None
    if status.state == "met":
        return "met"
    if status.state in ("missed", "breached"):
        return "missed"
    return "pending"
