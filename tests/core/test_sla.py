"""SLA clocks computed from an issue's timeline (pure: no desk needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from passmuster.core.issues import Event, Issue, Severity, Status
from passmuster.core.sla import (
    SlaPolicy,
    SlaStatus,
    escalations_due,
    format_duration,
    issue_clocks,
    parse_duration,
    sla_report,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _issue(number: int = 1, severity: Severity = Severity.CRITICAL, **kw: object) -> Issue:
    issue = Issue(title=f"issue {number}", number=number, severity=severity, created_at=T0)
    for key, value in kw.items():
        setattr(issue, key, value)
    return issue


def _events(*steps: tuple[float, str, str | None, str | None]) -> list[Event]:
    """(hours after T0, kind, old, new) → events."""
    out = [Event(id=0, issue=1, actor="a", at=T0, kind="created", new="open")]
    for n, (hours, kind, old, new) in enumerate(steps, start=1):
        out.append(
            Event(
                id=n,
                issue=1,
                actor="a",
                at=T0 + timedelta(hours=hours),
                kind=kind,
                field="status" if kind == "status" else None,
                old=old,
                new=new,
            )
        )
    return out


def _clock(
    issue: Issue, events: list[Event], name: str, hours: float, policy: SlaPolicy | None = None
) -> SlaStatus:
    clocks = issue_clocks(issue, events, policy or SlaPolicy(), now=T0 + timedelta(hours=hours))
    return next(c for c in clocks if c.clock == name)


def test_the_default_policy_is_the_coordination_logs_promise() -> None:
    policy = SlaPolicy()
    assert policy.respond.for_severity(Severity.CRITICAL) == timedelta(hours=1)
    assert policy.respond.for_severity(Severity.HIGH) == timedelta(hours=4)
    assert policy.respond.for_severity(Severity.MEDIUM) == timedelta(hours=24)
    assert policy.respond.for_severity(Severity.LOW) == timedelta(weeks=1)
    assert policy.resolve.for_severity(Severity.CRITICAL) == timedelta(hours=4)
    assert policy.resolve.for_severity(Severity.HIGH) == timedelta(hours=24)
    assert policy.resolve.for_severity(Severity.MEDIUM) == timedelta(weeks=1)
    assert policy.resolve.for_severity(Severity.LOW) is None
    assert policy.pause_statuses == [Status.BLOCKED]


def test_durations_read_the_way_people_write_them() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("4 hours") == timedelta(hours=4)
    assert parse_duration("2d") == timedelta(days=2)
    assert parse_duration("1w") == timedelta(weeks=1)
    assert parse_duration(1.5) == timedelta(hours=1.5)
    assert parse_duration("none") is None
    with pytest.raises(ValueError, match="30m, 4h, 2d, 1w, or none"):
        parse_duration("soon")
    assert format_duration(timedelta(days=2, hours=3)) == "2d 3h"
    assert format_duration(timedelta(minutes=-45)) == "-45m"


def test_a_bad_policy_value_names_the_field() -> None:
    with pytest.raises(ValidationError, match="critical"):
        SlaPolicy.model_validate({"respond": {"critical": "soon"}})
    with pytest.raises(ValidationError, match="urgent"):
        SlaPolicy.model_validate({"respond": {"urgent": "1h"}})


def test_an_unanswered_critical_issue_is_at_risk_then_breached() -> None:
    issue = _issue()
    assert _clock(issue, _events(), "respond", 0.5).state == "ok"
    at_risk = _clock(issue, _events(), "respond", 0.8)
    assert at_risk.state == "at_risk"
    assert at_risk.due_at == T0 + timedelta(hours=1)
    breached = _clock(issue, _events(), "respond", 1.5)
    assert breached.state == "breached"
    assert breached.remaining == timedelta(minutes=-30)
    assert breached.due_at == T0 + timedelta(hours=1)


def test_acknowledging_in_time_meets_the_respond_clock() -> None:
    issue = _issue()
    events = _events((0.5, "acknowledged", None, None))
    clock = _clock(issue, events, "respond", 10)
    assert clock.state == "met" and clock.elapsed == timedelta(minutes=30)
    late = _clock(issue, _events((2, "acknowledged", None, None)), "respond", 10)
    assert late.state == "missed"


def test_time_in_a_pause_status_does_not_count() -> None:
    issue = _issue(status=Status.BLOCKED)
    events = _events(
        (0.5, "acknowledged", None, None),
        (1, "status", "open", "blocked"),
    )
    paused = _clock(issue, events, "resolve", 20)
    assert paused.state == "paused" and paused.elapsed == timedelta(hours=1)
    assert paused.due_at is None

    issue.status = Status.IN_PROGRESS
    events.append(
        Event(9, 1, "a", T0 + timedelta(hours=21), "status", "status", "blocked", "in_progress")
    )
    running = _clock(issue, events, "resolve", 22)
    assert running.elapsed == timedelta(hours=2)
    assert running.due_at == T0 + timedelta(hours=24)


def test_a_pause_status_can_be_configured() -> None:
    policy = SlaPolicy(pause_statuses=[])
    issue = _issue(status=Status.BLOCKED)
    events = _events((0.2, "acknowledged", None, None), (1, "status", "open", "blocked"))
    assert _clock(issue, events, "resolve", 5, policy).state == "breached"


def test_resolving_stops_the_clock_and_reopening_continues_it() -> None:
    issue = _issue(status=Status.RESOLVED)
    events = _events((0.1, "acknowledged", None, None), (3, "status", "open", "resolved"))
    assert _clock(issue, events, "resolve", 100).state == "met"

    issue.status = Status.OPEN
    events.append(
        Event(9, 1, "a", T0 + timedelta(hours=50), "status", "status", "resolved", "open")
    )
    again = _clock(issue, events, "resolve", 51.5)
    assert again.state == "breached" and again.elapsed == timedelta(hours=4.5)


def test_an_imported_resolved_issue_is_measured_from_report_to_resolution() -> None:
    issue = _issue(
        severity=Severity.HIGH,
        status=Status.RESOLVED,
        reported_at=T0 - timedelta(days=30),
        resolved_at=T0 - timedelta(days=30) + timedelta(hours=2),
    )
    events = [Event(1, 1, "importer", T0, "created", new="resolved")]
    resolve = _clock(issue, events, "resolve", 0)
    assert resolve.state == "met" and resolve.elapsed == timedelta(hours=2)


def test_severities_without_a_limit_have_no_clock() -> None:
    issue = _issue(severity=Severity.LOW)
    assert [c.clock for c in issue_clocks(issue, _events(), SlaPolicy(), now=T0)] == ["respond"]


def test_the_report_lists_at_risk_and_breached_most_overdue_first() -> None:
    a = _issue(1, Severity.CRITICAL)
    b = _issue(2, Severity.HIGH)
    c = _issue(3, Severity.MEDIUM)
    timelines = {1: _events(), 2: _events(), 3: _events()}
    report = sla_report([a, b, c], timelines, SlaPolicy(), now=T0 + timedelta(hours=3.5))
    assert [(s.number, s.clock, s.state) for s in report] == [
        (1, "respond", "breached"),
        (1, "resolve", "at_risk"),
        (2, "respond", "at_risk"),
    ]


def test_each_breach_escalates_once() -> None:
    issue = _issue()
    events = _events()
    now = T0 + timedelta(hours=2)
    due = escalations_due([issue], {1: events}, SlaPolicy(), now=now)
    assert [(s.number, s.clock) for s in due] == [(1, "respond")]
    events.append(Event(5, 1, "bot", now, "escalated", field="respond"))
    assert escalations_due([issue], {1: events}, SlaPolicy(), now=now) == []
    later = escalations_due([issue], {1: events}, SlaPolicy(), now=T0 + timedelta(hours=5))
    assert [(s.number, s.clock) for s in later] == [(1, "resolve")]


def test_a_partial_policy_keeps_the_other_defaults() -> None:
    policy = SlaPolicy.model_validate({"respond": {"critical": "30m"}, "resolve": {"low": "2w"}})
    assert policy.respond.critical == timedelta(minutes=30)
    assert policy.respond.high == timedelta(hours=4)
    assert policy.resolve.low == timedelta(weeks=2)
    assert policy.resolve.critical == timedelta(hours=4)
    assert SlaPolicy.model_validate({"resolve": {"medium": "none"}}).resolve.medium is None


def _status(number: int, clock: str, state: str, remaining_h: float) -> SlaStatus:
    from typing import Any, cast

    start = datetime(2025, 1, 1, tzinfo=UTC)
    return SlaStatus(
        number=number,
        title="t",
        severity=Severity.HIGH,
        status=Status.OPEN,
        assignee=None,
        clock=cast(Any, clock),
        state=cast(Any, state),
        started_at=start,
        limit=timedelta(hours=8),
        elapsed=timedelta(hours=8 - remaining_h),
        remaining=timedelta(hours=remaining_h),
        due_at=start + timedelta(hours=8),
    )


def test_the_worst_clock_is_breached_before_at_risk_then_the_least_time_left() -> None:
    from passmuster.core.sla import worst_clocks

    worst = worst_clocks(
        [
            _status(1, "respond", "at_risk", 0.5),
            _status(1, "resolve", "breached", -0.1),
            _status(2, "respond", "at_risk", 1.0),
            _status(2, "resolve", "at_risk", 0.2),
            _status(3, "respond", "ok", 5.0),
        ]
    )
    assert {n: (c.clock, c.state) for n, c in worst.items()} == {
        1: ("resolve", "breached"),
        2: ("resolve", "at_risk"),
    }
