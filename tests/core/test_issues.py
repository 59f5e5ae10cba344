from __future__ import annotations

import pytest

from passmuster.core.issues import (
    ALLOWED_TRANSITIONS,
    CloseReason,
    IssueType,
    Severity,
    Status,
    check_transition,
    format_number,
)
from passmuster.errors import InvalidTransition, InvalidValue


def test_unknown_severity_error_lists_the_valid_values() -> None:
    with pytest.raises(InvalidValue) as caught:
        Severity.parse("urgent")
    assert "critical, high, medium, low, info" in str(caught.value)
    assert caught.value.field == "severity"


def test_vocabularies_accept_the_spellings_people_type() -> None:
    assert IssueType.parse("tech-debt") is IssueType.TECH_DEBT
    assert Status.parse("In Progress") is Status.IN_PROGRESS
    assert Severity.parse(" HIGH ") is Severity.HIGH


def test_a_resolved_issue_can_only_be_closed_or_reopened() -> None:
    assert ALLOWED_TRANSITIONS[Status.RESOLVED] == {Status.CLOSED, Status.OPEN}
    with pytest.raises(InvalidTransition) as caught:
        check_transition(Status.RESOLVED, Status.IN_PROGRESS)
    assert "allowed: open, closed" in str(caught.value)


def test_closing_needs_a_reason() -> None:
    with pytest.raises(InvalidTransition, match="wont_fix, duplicate, invalid"):
        check_transition(Status.OPEN, Status.CLOSED)
    check_transition(Status.OPEN, Status.CLOSED, reason=CloseReason.DUPLICATE)


def test_no_status_transitions_to_itself() -> None:
    for status, targets in ALLOWED_TRANSITIONS.items():
        assert status not in targets


def test_numbers_are_shown_as_the_logs_write_them() -> None:
    assert format_number(1) == "#001"
    assert format_number(1234) == "#1234"
