"""The sums of a just-filed issue, worked out directly, equal those its timeline gives (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from passmuster.core.issues import Event, Issue, IssueType, Priority, Severity, Status
from passmuster.core.timeline_sums import summarise, summarise_filed

FILED = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def _moment(rng: random.Random) -> datetime | None:
    """None, or a time before, at or after the filing (logs give all three)."""
    roll = rng.random()
    if roll < 0.35:
        return None
    if roll < 0.45:
        return FILED
    return FILED + timedelta(minutes=rng.randint(-60 * 24 * 400, 60 * 24 * 30))


def _random_issue(rng: random.Random, number: int) -> Issue:
    return Issue(
        title=f"issue {number}",
        number=number,
        status=rng.choice(list(Status)),
        severity=rng.choice(list(Severity)),
        priority=rng.choice([None, *Priority]),
        type=rng.choice(list(IssueType)),
        assignee=rng.choice([None, "ana"]),
        reported_at=_moment(rng),
        acknowledged_at=_moment(rng),
        resolved_at=_moment(rng),
        created_at=FILED,
    )


@pytest.mark.parametrize("seed", range(4))
def test_a_filed_issue_sums_as_its_created_event_says(seed: int) -> None:
    rng = random.Random(seed)
    for number in range(1, 500):
        issue = _random_issue(rng, number)
        created = Event(0, number, "ana", FILED, "created", new=issue.status.value)
        assert summarise_filed(issue) == summarise(issue, [created]), issue


def test_an_issue_filed_resolved_was_open_until_its_resolution() -> None:
    reported = FILED - timedelta(days=3)
    issue = Issue(
        title="filed resolved",
        number=1,
        status=Status.RESOLVED,
        reported_at=reported,
        resolved_at=FILED - timedelta(days=1),
        created_at=FILED,
    )
    sums = summarise_filed(issue)
    assert sums.in_status["open"] == timedelta(days=2) // timedelta(microseconds=1)
    assert sums.segments.split()[0].endswith(":open")
    assert sums.last_status == "resolved"
    assert sums.finished == sums.last_start
