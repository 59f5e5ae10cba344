"""The SLA report reads only issues old enough to be at risk: it must equal the full evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from passmuster.core.issues import IssueDraft, IssueQuery, Severity, Status
from passmuster.core.sla import SlaPolicy, escalations_due, sla_report
from passmuster.storage import issue_store
from passmuster.usecases.desk import Desk
from tests.usecases.helpers import HandClock

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _full(desk: Desk, now: datetime) -> list[tuple[object, ...]]:
    with desk.engine.connect() as c:
        query = IssueQuery(active_only=True)
        found = issue_store.issue_summaries(c, query)
        kinds = ("created", "status", "acknowledged", "escalated")
        timelines = issue_store.timelines(c, query, kinds=kinds)
    report = sla_report(found, timelines, desk.sla_policy, now=now)
    due = escalations_due(found, timelines, desk.sla_policy, now=now)
    return [*report, "due", *[(s.number, s.clock) for s in due]]


def _varied_desk(desk: Desk, clock: HandClock) -> None:
    severities = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]
    for n in range(30):
        clock.now = T0 + timedelta(hours=n * 1.5)
        reported = T0 - timedelta(days=n % 4) if n % 3 == 0 else None
        status = Status.RESOLVED if n % 7 == 0 else None
        draft = IssueDraft(
            title=f"issue {n}",
            severity=severities[n % 5],
            reported_at=reported,
            resolved_at=clock.now if status else None,
            **({"status": status} if status else {}),
        )
        desk.file(draft, actor="a")
    for number in range(1, 31):
        clock.now += timedelta(minutes=17)
        if (number - 1) % 7 == 0:
            continue  # filed resolved, as an imported log would be
        if number % 4 == 0:
            desk.transition(number, Status.BLOCKED, actor="b")
        if number % 5 == 0:
            desk.acknowledge(number, actor="c")
        if number % 6 == 0:
            desk.transition(number, Status.RESOLVED, actor="d")
            clock.now += timedelta(hours=2)
            desk.transition(number, Status.OPEN, actor="d")
        if number % 8 == 0 and number % 6:
            desk.transition(number, Status.IN_PROGRESS, actor="b")


def test_sla_and_escalations_equal_the_full_evaluation(database_url: str) -> None:
    clock = HandClock(T0)
    with Desk.connect(database_url, clock=clock) as desk:
        desk.sla_policy = SlaPolicy()
        _varied_desk(desk, clock)
        end = clock.now
        seen_any = False
        for hours in (-60, -20, -5, 0, 0.5, 1, 3, 8, 30, 100, 200, 2000):
            moment = end + timedelta(hours=hours)
            expected = _full(desk, moment)
            report = desk.sla(now=moment)
            assert report == expected[: expected.index("due")]
            seen_any = seen_any or bool(report)
            if hours == 30:
                escalated = desk.escalate(actor="cron", now=moment)
                assert [(e.issue, e.field) for e in escalated] == expected[
                    expected.index("due") + 1 :
                ]
        assert seen_any


def test_a_tight_policy_still_equals_the_full_evaluation(database_url: str) -> None:
    clock = HandClock(T0)
    with Desk.connect(database_url, clock=clock) as desk:
        desk.sla_policy = SlaPolicy.model_validate(
            {"respond": {"info": "10m"}, "resolve": {"low": "2h"}, "at_risk": 1.0}
        )
        _varied_desk(desk, clock)
        for hours in (-30, 0, 2, 50):
            moment = clock.now + timedelta(hours=hours)
            expected = _full(desk, moment)
            assert desk.sla(now=moment) == expected[: expected.index("due")]
