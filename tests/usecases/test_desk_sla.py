"""SLAs, escalation and statistics through the Desk, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from passmuster.core.issues import Event, IssueDraft, Severity, Status
from passmuster.core.sla import SlaPolicy
from passmuster.errors import ConfigError
from passmuster.usecases.desk import Desk
from tests.usecases.helpers import HandClock

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> HandClock:
    return HandClock(T0)


@pytest.fixture
def desk(database_url: str, clock: HandClock) -> Iterator[Desk]:
    with Desk.connect(database_url, clock=clock) as opened:
        opened.sla_policy = SlaPolicy()
        yield opened


def test_sla_lists_breached_and_at_risk_issues(desk: Desk, clock: HandClock) -> None:
    desk.file(IssueDraft(title="down", severity=Severity.CRITICAL), actor="a")
    desk.file(IssueDraft(title="slow", severity=Severity.HIGH), actor="a")
    desk.file(IssueDraft(title="typo", severity=Severity.LOW), actor="a")
    clock.advance(hours=3.5)
    report = [(s.number, s.clock, s.state) for s in desk.sla()]
    assert report == [
        (1, "respond", "breached"),
        (1, "resolve", "at_risk"),
        (2, "respond", "at_risk"),
    ]
    desk.acknowledge(2, actor="coordinator")
    assert [(s.number, s.clock) for s in desk.sla()] == [(1, "respond"), (1, "resolve")]


def test_escalate_records_exactly_one_event_per_breach(desk: Desk, clock: HandClock) -> None:
    desk.file(IssueDraft(title="down", severity=Severity.CRITICAL), actor="a")
    desk.file(IssueDraft(title="fine", severity=Severity.MEDIUM), actor="a")
    clock.advance(hours=2)
    first = desk.escalate(actor="cron")
    assert [(e.issue, e.kind, e.field) for e in first] == [(1, "escalated", "respond")]
    assert desk.escalate(actor="cron") == []
    clock.advance(hours=3)
    assert [(e.issue, e.field) for e in desk.escalate(actor="cron")] == [(1, "resolve")]
    assert len(desk.events(kinds=["escalated"])) == 2


def test_concurrent_escalations_still_record_one_event_per_breach(
    desk: Desk, clock: HandClock
) -> None:
    for n in range(5):
        desk.file(IssueDraft(title=f"down {n}", severity=Severity.CRITICAL), actor="a")
    clock.advance(hours=2)
    results: list[list[Event]] = []
    threads = [
        threading.Thread(target=lambda: results.append(desk.escalate(actor="cron")))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(len(r) for r in results) == 5
    assert sorted(e.issue for e in desk.events(kinds=["escalated"])) == [1, 2, 3, 4, 5]


def test_blocked_time_pauses_the_clock(desk: Desk, clock: HandClock) -> None:
    desk.file(IssueDraft(title="down", severity=Severity.CRITICAL), actor="a")
    desk.acknowledge(1, actor="a")
    clock.advance(hours=1)
    desk.transition(1, Status.BLOCKED, actor="a")
    clock.advance(hours=10)
    assert desk.sla() == []
    desk.transition(1, Status.IN_PROGRESS, actor="a")
    clock.advance(hours=2.5)
    (status,) = desk.sla()
    assert (status.clock, status.state, status.elapsed) == (
        "resolve",
        "at_risk",
        timedelta(hours=3.5),
    )


def test_the_policy_comes_from_the_projects_passmuster_toml(
    tmp_path: Path, clock: HandClock
) -> None:
    (tmp_path / "passmuster.toml").write_text(
        '[sla]\npause_statuses = []\n[sla.respond]\ncritical = "2h"\n', encoding="utf-8"
    )
    with Desk.init(tmp_path, clock=clock) as desk:
        assert desk.sla_policy.respond.critical == timedelta(hours=2)
        assert desk.sla_policy.resolve.critical == timedelta(hours=4)
        assert desk.sla_policy.pause_statuses == []
        desk.file(IssueDraft(title="down", severity=Severity.CRITICAL), actor="a")
        clock.advance(hours=1.5)
        assert [(s.clock, s.state) for s in desk.sla()] == [("respond", "at_risk")]


def test_a_wrong_policy_names_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "passmuster.toml").write_text(
        '[sla.resolve]\nhigh = "tomorrow"\n', encoding="utf-8"
    )
    with Desk.init(tmp_path) as desk, pytest.raises(ConfigError) as caught:
        desk.sla()
    assert "passmuster.toml" in str(caught.value) and "sla.resolve.high" in str(caught.value)


def test_stats_through_the_desk(desk: Desk, clock: HandClock) -> None:
    desk.file(IssueDraft(title="a", severity=Severity.HIGH, services=["identity"]), actor="a")
    desk.file(IssueDraft(title="b", severity=Severity.CRITICAL, services=["identity"]), actor="a")
    clock.advance(hours=0.5)
    desk.acknowledge(1, actor="c")
    clock.advance(hours=1.5)
    desk.transition(1, Status.RESOLVED, actor="c", fields={"resolution": "done"})
    stats = desk.stats()
    assert stats.total == 2 and stats.active == 1
    assert stats.months[0].month == "2026-11" and stats.months[0].avg_resolution_hours == 2.0
    assert stats.mtta_hours == 0.5 and stats.mttr_hours == 2.0
    assert [(s.service, s.open) for s in stats.top_services] == [("identity", 1)]
    assert desk.stats(since=T0 + timedelta(days=1)).total == 0
