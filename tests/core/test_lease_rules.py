"""Lease rules and the `[leases]` policy (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from passmuster.core.issues import Issue, Lease, Status
from passmuster.core.leases import (
    LeasePolicy,
    check_claimable,
    ends_lease,
    parse_lease,
    status_after_release,
)
from passmuster.errors import Conflict

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_lease_lengths_read_seconds_minutes_and_hours() -> None:
    assert parse_lease("90s") == timedelta(seconds=90)
    assert parse_lease("2 sec") == timedelta(seconds=2)
    assert parse_lease("45m") == timedelta(minutes=45)
    assert parse_lease("1d") == timedelta(days=1)
    for bad in ("none", "0m", "-5m", "tomorrow"):
        with pytest.raises(ValueError):
            parse_lease(bad)


def test_the_policy_refuses_a_default_longer_than_the_longest() -> None:
    policy = LeasePolicy.model_validate({"default": "2h", "sweep_interval": "5s"})
    assert policy.sweep_interval == timedelta(seconds=5)
    with pytest.raises(ValidationError, match="longer than longest"):
        LeasePolicy.model_validate({"default": "2d", "longest": "1d"})
    with pytest.raises(ValidationError):
        LeasePolicy.model_validate({"defualt": "2h"})


def test_a_claim_ends_unfinished_work_back_in_open() -> None:
    assert status_after_release(Status.IN_PROGRESS) is Status.OPEN
    assert status_after_release(Status.BLOCKED) is Status.BLOCKED


def test_finishing_or_reassigning_ends_a_lease_and_other_edits_do_not() -> None:
    lease = Lease("agent-1", NOW, NOW + timedelta(minutes=5))
    assert ends_lease({"status": Status.RESOLVED}, lease)
    assert ends_lease({"assignee": "bob"}, lease)
    assert not ends_lease({"assignee": "agent-1", "status": Status.BLOCKED}, lease)
    assert not ends_lease({"assignee": "bob"}, None)


def test_a_lapsed_claim_of_another_agent_does_not_stop_a_claim() -> None:
    issue = Issue(title="t", number=3, assignee="agent-1")
    lapsed = Lease("agent-1", NOW - timedelta(hours=1), NOW - timedelta(seconds=1))
    check_claimable(issue, lapsed, actor="agent-2", now=NOW)
    live = Lease("agent-1", NOW, NOW + timedelta(minutes=1))
    with pytest.raises(Conflict, match="#003 is claimed by agent-1 until 2026-12-05 09:01:00"):
        check_claimable(issue, live, actor="agent-2", now=NOW)
