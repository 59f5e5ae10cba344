"""Claim leases on real SQLite files and PostgreSQL schemas, with a clock the tests move."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from passmuster.core.issues import IssueDraft, Severity, Status
from passmuster.core.leases import LeasePolicy
from passmuster.errors import Conflict, InvalidValue
from passmuster.usecases.desk import Desk
from tests.usecases.helpers import HandClock


@pytest.fixture
def clock() -> HandClock:
    return HandClock(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))


@pytest.fixture
def desk(database_url: str, clock: HandClock) -> Iterator[Desk]:
    with Desk.connect(database_url, clock=clock) as opened:
        opened.file(IssueDraft(title="low work", severity=Severity.LOW), actor="lead")
        opened.file(IssueDraft(title="urgent work", severity=Severity.CRITICAL), actor="lead")
        yield opened


def test_a_claim_takes_a_lease_of_the_default_length(desk: Desk, clock: HandClock) -> None:
    claimed = desk.claim(actor="agent-1")
    assert claimed is not None and claimed.number == 2
    assert claimed.lease is not None
    assert (claimed.lease.holder, claimed.lease.since) == ("agent-1", clock.now)
    assert claimed.lease.until == clock.now + timedelta(minutes=30)
    stored = desk.get(2)
    assert stored.lease == claimed.lease and stored.assignee == "agent-1"
    assert stored.status is Status.IN_PROGRESS


def test_ready_never_offers_an_issue_under_a_live_claim(desk: Desk, clock: HandClock) -> None:
    desk.claim(actor="agent-1", lease="10m")
    assert [i.number for i in desk.ready()] == [1]
    clock.advance(minutes=10)
    assert [i.number for i in desk.ready()] == [2, 1]  # the claim ran out: ready again


def test_a_lapsed_claim_goes_to_the_next_claimer_with_an_event_naming_the_first(
    desk: Desk, clock: HandClock
) -> None:
    desk.claim(actor="agent-1", lease="5m")
    clock.advance(minutes=6)
    again = desk.claim(actor="agent-2")
    assert again is not None and again.number == 2 and again.assignee == "agent-2"
    expired = [e for e in desk.events(issue=2) if e.kind == "lease_expired"]
    assert [(e.old, e.actor) for e in expired] == [("agent-1", "passmuster")]


def test_the_sweep_returns_lapsed_claims_to_the_queue_once(desk: Desk, clock: HandClock) -> None:
    desk.claim(actor="agent-1", lease="2m")
    desk.claim(actor="agent-2", lease="1h")
    assert desk.sweep_leases() == []
    clock.advance(minutes=3)
    returned = desk.sweep_leases()
    assert [i.number for i in returned] == [2]
    issue = desk.get(2)
    assert (issue.assignee, issue.status, issue.lease) == (None, Status.OPEN, None)
    assert desk.sweep_leases() == []
    kinds = [e.kind for e in desk.events(issue=2)]
    assert kinds[-3:] == ["lease_expired", "assigned", "status"]
    assert [i.number for i in desk.held()] == [1]


def test_sweeps_running_at_once_return_each_claim_once(desk: Desk, clock: HandClock) -> None:
    desk.file_many([IssueDraft(title=f"w{n}") for n in range(6)], actor="lead")
    for n in range(8):
        desk.claim(actor=f"agent-{n}", lease="1m")
    clock.advance(minutes=2)
    results: list[int] = []
    lock = threading.Lock()

    def sweep() -> None:
        found = desk.sweep_leases()
        with lock:
            results.extend(i.number for i in found)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == list(range(1, 9))
    assert len(desk.events(kinds=["lease_expired"], limit=100)) == 8


def test_renewing_extends_the_claim_without_a_new_version_or_event(
    desk: Desk, clock: HandClock
) -> None:
    claimed = desk.claim(actor="agent-1", lease="10m")
    assert claimed is not None
    events = len(desk.events(issue=2))
    clock.advance(minutes=8)
    renewed = desk.renew(2, actor="agent-1", lease="20m")
    assert renewed.lease is not None and renewed.lease.until == clock.now + timedelta(minutes=20)
    assert renewed.lease.since == claimed.lease.since if claimed.lease else False
    assert desk.get(2).version == claimed.version and len(desk.events(issue=2)) == events
    with pytest.raises(Conflict, match="claimed by agent-1, not by agent-2"):
        desk.renew(2, actor="agent-2")
    clock.advance(minutes=21)
    with pytest.raises(Conflict, match=r"ran out at .*claim it again"):
        desk.renew(2, actor="agent-1")
    with pytest.raises(Conflict, match="#001 is not claimed"):
        desk.renew(1, actor="agent-1")


def test_releasing_gives_the_issue_back(desk: Desk) -> None:
    desk.claim(actor="agent-1")
    with pytest.raises(Conflict, match="claimed by agent-1, not by agent-2"):
        desk.release(2, actor="agent-2")
    released = desk.release(2, actor="agent-1")
    assert (released.assignee, released.status, released.lease) == (None, Status.OPEN, None)
    last = [e for e in desk.events(issue=2) if e.kind == "released"]
    assert [(e.actor, e.old) for e in last] == [("agent-1", "agent-1")]
    assert [i.number for i in desk.ready()] == [2, 1]


def test_claiming_a_named_issue_checks_who_holds_it(desk: Desk, clock: HandClock) -> None:
    first = desk.claim(actor="agent-1", number=1, lease="5m")
    assert first is not None and first.number == 1
    with pytest.raises(Conflict, match="#001 is claimed by agent-1 until"):
        desk.claim(actor="agent-2", number=1)
    clock.advance(minutes=1)
    again = desk.claim(actor="agent-1", number=1, lease="5m")  # one's own claim: renewed
    assert again is not None and again.lease is not None
    assert again.lease.until == clock.now + timedelta(minutes=5)
    desk.update(2, {"assignee": "bob"}, actor="lead")
    with pytest.raises(Conflict, match="#002 is assigned to bob"):
        desk.claim(actor="agent-2", number=2)
    desk.transition(2, Status.BLOCKED, actor="lead")
    with pytest.raises(Conflict, match="#002 is blocked"):
        desk.claim(actor="bob", number=2)


def test_resolving_or_reassigning_ends_the_claim(desk: Desk) -> None:
    desk.claim(actor="agent-1")
    desk.claim(actor="agent-2")
    resolved = desk.transition(
        2, Status.RESOLVED, actor="agent-1", fields={"resolution": "Fixed the import"}
    )
    assert resolved.lease is None and desk.get(2).lease is None
    desk.update(1, {"assignee": "bob"}, actor="lead")
    assert desk.get(1).lease is None and desk.held() == []


def test_lease_lengths_are_checked_against_the_policy(desk: Desk) -> None:
    desk.lease_policy = LeasePolicy(default=timedelta(minutes=5), longest=timedelta(hours=1))
    claimed = desk.claim(actor="agent-1")
    assert claimed is not None and claimed.lease is not None
    assert claimed.lease.until - claimed.lease.since == timedelta(minutes=5)
    with pytest.raises(InvalidValue, match="at most 1h"):
        desk.renew(2, actor="agent-1", lease="2h")
    with pytest.raises(InvalidValue, match="invalid lease 'soon'"):
        desk.claim(actor="agent-2", lease="soon")
    assert desk.renew(2, actor="agent-1", lease="90s").lease is not None
