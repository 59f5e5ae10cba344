"""What each step of an issue's life changes besides itself (core.transitions, pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from passmuster.core.issues import CloseReason, Issue, Lease, Status
from passmuster.core.transitions import (
    acknowledged,
    changed_fields,
    claimed,
    given_back,
    moved,
    timeline_rows,
)
from passmuster.errors import InvalidTransition

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=3)


def test_resolving_stamps_the_time_and_a_first_response_acknowledges() -> None:
    step = moved(Issue(title="t", number=1), Status.RESOLVED, now=NOW)
    assert step.fields == {
        "status": Status.RESOLVED,
        "resolved_at": NOW,
        "close_reason": None,
        "acknowledged_at": NOW,
    }
    assert [e["kind"] for e in step.events] == ["acknowledged"]


def test_reopening_clears_the_resolution_and_keeps_the_acknowledgement() -> None:
    issue = Issue(
        title="t",
        number=1,
        status=Status.CLOSED,
        close_reason=CloseReason.DUPLICATE,
        resolved_at=EARLIER,
        acknowledged_at=EARLIER,
    )
    step = moved(issue, Status.OPEN, now=NOW)
    assert step.fields == {"status": Status.OPEN, "resolved_at": None, "close_reason": None}
    assert step.events == []


def test_closing_needs_a_reason_and_the_workflow_decides_the_moves() -> None:
    with pytest.raises(InvalidTransition, match="closing needs a reason"):
        moved(Issue(title="t"), Status.CLOSED, now=NOW)
    closed = Issue(title="t", status=Status.CLOSED, close_reason=CloseReason.INVALID)
    with pytest.raises(InvalidTransition, match="allowed: open"):
        moved(closed, Status.IN_PROGRESS, now=NOW)


def test_planning_is_no_response_and_a_second_acknowledgement_is_nothing() -> None:
    assert moved(Issue(title="t"), Status.PLANNED, now=NOW).events == []
    assert acknowledged(Issue(title="t", acknowledged_at=EARLIER), now=NOW).fields == {}
    assert acknowledged(Issue(title="t"), now=NOW).fields == {"acknowledged_at": NOW}


def test_a_claim_starts_an_open_issue_and_leaves_a_blocked_one_blocked() -> None:
    assert claimed(Issue(title="t"), actor="a", now=NOW).fields["status"] is Status.IN_PROGRESS
    blocked = Issue(title="t", status=Status.BLOCKED, acknowledged_at=EARLIER)
    assert claimed(blocked, actor="a", now=NOW).fields == {"assignee": "a"}


def test_giving_a_claim_back_returns_work_in_progress_to_open_naming_the_holder() -> None:
    lease = Lease(holder="agent-1", since=EARLIER, until=NOW)
    issue = Issue(title="t", number=4, status=Status.IN_PROGRESS, assignee="agent-1", lease=lease)
    step = given_back(issue, "released")
    assert step.fields == {"assignee": None, "status": Status.OPEN}
    assert step.events[0]["kind"] == "released" and step.events[0]["old"] == "agent-1"


def test_the_timeline_puts_implied_events_first_and_keeps_the_times_silent() -> None:
    issue = Issue(title="t", number=7)
    step = moved(issue, Status.RESOLVED, now=NOW)
    rows = timeline_rows(issue, changed_fields(issue, step), step, actor="ann", now=NOW)
    assert [(r["kind"], r.get("field")) for r in rows] == [
        ("acknowledged", None),
        ("status", "status"),
    ]
    assert rows[1]["old"] == "open" and rows[1]["new"] == "resolved"
    assert all(r["issue"] == 7 and r["actor"] == "ann" for r in rows)
