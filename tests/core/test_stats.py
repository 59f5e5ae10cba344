"""Statistics over issues and timelines (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from passmuster.core.issues import Event, Issue, IssueType, Priority, Severity, Status
from passmuster.core.sla import SlaPolicy
from passmuster.core.stats import compute_stats, month_axis

NOW = datetime(2025, 11, 1, tzinfo=UTC)


def _issue(number: int, reported: datetime, **kw: object) -> Issue:
    issue = Issue(title=f"i{number}", number=number, reported_at=reported, created_at=reported)
    for key, value in kw.items():
        setattr(issue, key, value)
    return issue


def _created(issue: Issue) -> list[Event]:
    assert issue.created_at is not None
    at = issue.created_at
    return [Event(issue.number, issue.number, "a", at, "created", new=issue.status.value)]


def _sample() -> tuple[list[Issue], dict[int, list[Event]]]:
    sep = datetime(2025, 9, 9, 8, tzinfo=UTC)
    oct_ = datetime(2025, 10, 2, 8, tzinfo=UTC)
    issues = [
        _issue(
            1,
            sep,
            severity=Severity.HIGH,
            status=Status.RESOLVED,
            resolved_at=sep + timedelta(hours=2),
            acknowledged_at=sep + timedelta(minutes=30),
            services=["identity"],
        ),
        _issue(
            2,
            sep,
            severity=Severity.CRITICAL,
            status=Status.RESOLVED,
            resolved_at=sep + timedelta(hours=6),
            acknowledged_at=sep + timedelta(hours=2),
        ),
        _issue(
            3,
            oct_,
            severity=Severity.MEDIUM,
            services=["identity", "billing"],
            priority=Priority.IMMEDIATE,
            type=IssueType.TECH_DEBT,
        ),
        _issue(4, oct_, severity=Severity.LOW, services=["billing"], status=Status.BLOCKED),
        _issue(5, oct_, severity=Severity.CRITICAL, services=["identity"], status=Status.CLOSED),
    ]
    return issues, {i.number: _created(i) for i in issues}


def test_the_month_by_severity_table_has_totals_and_resolution_times() -> None:
    issues, timelines = _sample()
    stats = compute_stats(issues, timelines, SlaPolicy(), now=NOW)
    sep, oct_ = stats.months
    assert (sep.label, sep.by_severity["high"], sep.by_severity["critical"], sep.total) == (
        "Sep 2025",
        1,
        1,
        2,
    )
    assert sep.avg_resolution_hours == 4.0 and sep.median_resolution_hours == 4.0
    assert (oct_.month, oct_.total, oct_.resolved, oct_.avg_resolution_hours) == (
        "2025-10",
        3,
        0,
        None,
    )
    assert stats.totals.total == 5 and stats.totals.by_severity["critical"] == 2


def test_counts_matrix_and_services() -> None:
    issues, timelines = _sample()
    stats = compute_stats(issues, timelines, SlaPolicy(), now=NOW)
    assert stats.by_status["resolved"] == 2 and stats.by_status["blocked"] == 1
    assert stats.by_status["open"] == 1 and stats.by_status["closed"] == 1
    assert stats.by_severity == {"critical": 2, "high": 1, "medium": 1, "low": 1, "info": 0}
    assert stats.by_type["tech_debt"] == 1 and stats.by_type["bug"] == 4
    assert [r.number for r in stats.priority_matrix["immediate"]] == [3]
    assert [r.number for r in stats.priority_matrix["unset"]] == [4]
    assert [(s.service, s.open) for s in stats.top_services] == [("billing", 2), ("identity", 1)]
    assert stats.active == 2


def test_mtta_mttr_and_sla_attainment() -> None:
    issues, timelines = _sample()
    stats = compute_stats(issues, timelines, SlaPolicy(), now=NOW)
    assert stats.mtta_hours == 1.25
    assert stats.mttr_hours == 4.0
    respond = next(s for s in stats.sla if s.clock == "respond")
    # #1 answered in 30 min (high: 4h): met; #2 in 2h (critical: 1h): missed; #3 never
    # answered and long past 24h: missed; #4 was filed blocked, so its clock is paused; #5 was
    # filed closed with no times, so there is nothing to measure.
    assert (respond.met, respond.missed, respond.pending) == (1, 2, 1)
    resolve = next(s for s in stats.sla if s.clock == "resolve")
    assert (resolve.met, resolve.missed) == (1, 2)


def test_since_and_until_select_by_report_time() -> None:
    issues, timelines = _sample()
    stats = compute_stats(
        issues, timelines, SlaPolicy(), since=datetime(2025, 10, 1, tzinfo=UTC), now=NOW
    )
    assert stats.total == 3 and [m.month for m in stats.months] == ["2025-10"]
    until = compute_stats(
        issues, timelines, SlaPolicy(), until=datetime(2025, 10, 1, tzinfo=UTC), now=NOW
    )
    assert until.total == 2


def test_stats_serialise_to_json() -> None:
    issues, timelines = _sample()
    data = json.loads(compute_stats(issues, timelines, SlaPolicy(), now=NOW).to_json())
    assert data["months"][0]["label"] == "Sep 2025"
    assert data["generated_at"].startswith("2025-11-01")
    assert data["priority_matrix"]["immediate"][0]["number"] == 3


def test_an_empty_desk_has_empty_stats() -> None:
    stats = compute_stats([], {}, SlaPolicy(), now=NOW)
    assert stats.total == 0 and stats.months == [] and stats.mttr_hours is None
    assert all(s.percent is None for s in stats.sla)


def test_resolved_issues_without_a_resolution_time_still_count_as_resolved() -> None:
    from datetime import UTC, datetime

    from passmuster.core.issues import Issue, Status
    from passmuster.core.stats import tally

    opened = datetime(2025, 9, 9, tzinfo=UTC)
    undated = Issue(title="imported", number=1, status=Status.RESOLVED, created_at=opened)
    dated = Issue(
        title="timed",
        number=2,
        status=Status.RESOLVED,
        created_at=opened,
        resolved_at=datetime(2025, 9, 9, 2, tzinfo=UTC),
    )
    row = tally([undated, dated]).months[0]
    assert row.resolved == 2
    assert row.avg_resolution_hours == 2.0


def test_the_month_axis_shows_months_without_issues_as_zero() -> None:
    issues = [
        _issue(1, datetime(2025, 11, 20, tzinfo=UTC), severity=Severity.HIGH),
        _issue(2, datetime(2026, 2, 3, tzinfo=UTC), severity=Severity.LOW),
    ]
    stats = compute_stats(issues, {i.number: _created(i) for i in issues}, SlaPolicy(), now=NOW)
    assert [m.month for m in stats.months] == ["2025-11", "2026-02"]  # the logs' own table
    axis = month_axis(stats.months)
    assert [m.label for m in axis] == ["Nov 2025", "Dec 2025", "Jan 2026", "Feb 2026"]
    assert [m.total for m in axis] == [1, 0, 0, 1]
    assert axis[1].by_severity == {s.value: 0 for s in Severity}
    assert month_axis([]) == []


def test_the_matrix_from_counted_rows_is_the_one_tally_builds() -> None:
    """What a database counted gives the priority matrix the evaluation of the issues gives:
    each priority's active issues most severe first, then by number."""
    from collections import Counter

    from passmuster.core.stats import DeskCounts, stats_from_counts

    active = [
        (2, "b", "open", "critical", "immediate"),
        (4, "d", "open", "critical", "immediate"),
        (5, "e", "open", "high", None),
        (1, "a", "open", "low", "immediate"),
        (3, "c", "blocked", "low", None),
        (6, "f", "planned", "low", "immediate"),
    ]
    counted = DeskCounts(
        counts=[],
        resolutions=[],
        acknowledgements=[],
        attainment={"respond": Counter(), "resolve": Counter()},
        active=active,
        services=[],
    )
    found = stats_from_counts(counted, now=NOW).priority_matrix
    assert {k: [r.number for r in v] for k, v in found.items() if v} == {
        "immediate": [2, 4, 1, 6],
        "unset": [5, 3],
    }
    issues = [
        _issue(
            n, NOW, title=t, status=Status(st), severity=Severity(sev), priority=p and Priority(p)
        )
        for n, t, st, sev, p in sorted(active)
    ]
    tallied = compute_stats(issues, {i.number: _created(i) for i in issues}, SlaPolicy(), now=NOW)
    assert tallied.priority_matrix == found
