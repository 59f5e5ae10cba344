"""`stats` and `sla` come from SQL over the timeline sums: they must equal the Python evaluation of
every issue's events (core.stats.compute_stats, core.sla.sla_report), on both databases.

Desks are generated from seeded random timelines: issues filed open or already finished (as an
imported log files them), reported before their filing, moved through random allowed transitions
at random times (sometimes earlier than the previous change, as a replica with a slow clock
would record them), acknowledged, re-graded, with random policies, and reports asked at random
moments before, during and after the timelines.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

import pytest

from passmuster.core.issues import (
    ALLOWED_TRANSITIONS,
    CloseReason,
    IssueDraft,
    IssueQuery,
    IssueType,
    Priority,
    Severity,
    Status,
)
from passmuster.core.sla import SlaPolicy, sla_report
from passmuster.core.stats import Stats, compute_stats
from passmuster.core.timeline_sums import summarise
from passmuster.storage import issue_store
from passmuster.storage.migrate import upgrade
from passmuster.storage.timeline_sums import refresh
from passmuster.usecases.desk import Desk
from tests.usecases.helpers import HandClock

T0 = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
SERVICES = ["api", "web", "db", "queue"]


def _policy(rng: random.Random) -> SlaPolicy:
    if rng.random() < 0.3:
        return SlaPolicy()
    durations = ["10m", "1h", "4h", "1d", "1w", "none"]
    severities = [s.value for s in Severity]
    return SlaPolicy.model_validate(
        {
            "respond": {s: rng.choice(durations) for s in rng.sample(severities, 3)},
            "resolve": {s: rng.choice(durations) for s in rng.sample(severities, 3)},
            "pause_statuses": rng.sample(
                ["blocked", "planned", "workaround_applied", "in_progress"], rng.randint(0, 2)
            ),
            "at_risk": rng.choice([0.0, 0.25, 0.5, 1.0]),
        }
    )


def _random_desk(desk: Desk, clock: HandClock, rng: random.Random, issues: int) -> None:
    for n in range(issues):
        clock.now = T0 + timedelta(minutes=rng.randint(0, 60 * 24 * 70))
        finished = rng.random() < 0.15
        status = rng.choice([Status.RESOLVED, Status.CLOSED]) if finished else None
        reported = clock.now - timedelta(hours=rng.randint(0, 300)) if rng.random() < 0.4 else None
        draft = IssueDraft(
            title=f"issue {n}",
            type=rng.choice(list(IssueType)),
            severity=rng.choice(list(Severity)),
            priority=rng.choice([None, *Priority]),
            assignee=rng.choice([None, "ana", "bo"]),
            services=rng.sample(SERVICES, rng.randint(0, 2)),
            reported_at=reported,
            acknowledged_at=clock.now if rng.random() < 0.1 else None,
            resolved_at=clock.now - timedelta(hours=rng.randint(0, 50))
            if finished and rng.random() < 0.7
            else None,
            close_reason=CloseReason.DUPLICATE if status is Status.CLOSED else None,
            **({"status": status} if status else {}),
        )
        desk.file(draft, actor="filer")
        if rng.random() < 0.2:
            clock.now = T0 + timedelta(minutes=rng.randint(0, 60 * 24 * 70))
            desk.file(
                IssueDraft(title=f"quick {n}", severity=rng.choice(list(Severity))), actor="q"
            )
    numbers = [i.number for i in desk.issues()]
    base = clock.now
    for _ in range(len(numbers) * 3):
        number = rng.choice(numbers)
        # Mostly forward in time, sometimes back: a change recorded with an earlier clock.
        step = timedelta(minutes=rng.randint(-600, 3000))
        base += step if rng.random() < 0.9 else -abs(step) * 3
        clock.now = base
        current = desk.get(number)
        roll = rng.random()
        if roll < 0.7:
            target = rng.choice(sorted(ALLOWED_TRANSITIONS[current.status], key=lambda s: s.value))
            reason = CloseReason.WONT_FIX if target is Status.CLOSED else None
            desk.transition(number, target, actor="worker", reason=reason)
        elif roll < 0.85:
            desk.acknowledge(number, actor="lead")
        else:
            # The reports list titles, assignees and priorities: changed ones must show.
            change = rng.choice(
                [
                    {"severity": rng.choice(list(Severity))},
                    {"title": f"renamed {number} {rng.randint(0, 99)}"},
                    {"assignee": rng.choice([None, "ana", "bo"])},
                    {"priority": rng.choice([None, *Priority])},
                    {"services": rng.sample(SERVICES, rng.randint(0, 3))},
                ]
            )
            desk.update(number, change, actor="lead")


def _expected_stats(
    desk: Desk, now: datetime, since: datetime | None, until: datetime | None
) -> Stats:
    with desk.engine.connect() as c:
        query = IssueQuery()
        found = issue_store.issue_summaries(c, query, since=since, until=until, with_services=True)
        kinds = ("created", "status", "acknowledged")
        timelines = issue_store.timelines(c, query, kinds=kinds, since=since, until=until)
    return compute_stats(found, timelines, desk.sla_policy, since=since, until=until, now=now)


def _expected_sla(desk: Desk, now: datetime) -> list[object]:
    with desk.engine.connect() as c:
        query = IssueQuery(active_only=True)
        found = issue_store.issue_summaries(c, query)
        timelines = issue_store.timelines(c, query, kinds=("created", "status", "acknowledged"))
    return list(sla_report(found, timelines, desk.sla_policy, now=now))


def _compare(desk: Desk, clock: HandClock, rng: random.Random, end: datetime) -> int:
    """Compare both reports at moments around the timelines; returns how many clocks listed."""
    listed = 0
    for hours in [-200, 0, 30, 24 * 40, rng.uniform(-500, 500)]:
        moment = end + timedelta(hours=hours)
        report = desk.sla(now=moment)
        assert report == _expected_sla(desk, moment), f"sla at {moment}"
        listed += len(report)
        clock.now = moment
        windows = [(None, None), (T0 + timedelta(days=rng.randint(0, 40)), None)]
        windows.append((None, T0 + timedelta(days=rng.randint(10, 60))))
        for since, until in windows:
            got = desk.stats(since=since, until=until)
            assert got == _expected_stats(desk, moment, since, until), f"stats at {moment}"
        # The statistics page reads both from one query of the statistics.
        stats, hours = desk.stats_and_resolution_hours()
        assert stats == desk.stats()
        assert hours and sorted(hours) == sorted(desk.resolution_hours())
        # The page's read leaves the matrix out, and only the matrix.
        page, page_hours = desk.stats_and_resolution_hours(priority_matrix=False)
        assert all(refs == [] for refs in page.priority_matrix.values())
        assert any(stats.priority_matrix.values())
        assert dataclasses.replace(page, priority_matrix=stats.priority_matrix) == stats
        assert page_hours == hours
    return listed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reports_equal_the_python_evaluation_on_random_desks(database_url: str, seed: int) -> None:
    rng = random.Random(seed)
    clock = HandClock(T0)
    with Desk.connect(database_url, clock=clock) as desk:
        desk.sla_policy = _policy(rng)
        _random_desk(desk, clock, rng, issues=30)
        end = clock.now
        listed = _compare(desk, clock, rng, end)
        for _ in range(2):
            desk.sla_policy = _policy(rng)
            listed += _compare(desk, clock, rng, end)
    assert listed > 0


def test_the_sums_equal_a_fresh_derivation_from_the_event_log(database_url: str) -> None:
    """What the write path keeps is what the migration's backfill (and `summarise`) derives."""
    rng = random.Random(11)
    clock = HandClock(T0)
    with Desk.connect(database_url, clock=clock) as desk:
        _random_desk(desk, clock, rng, issues=25)
        with desk.engine.begin() as c:
            kept = _sums(c)
            refresh(c, [i.number for i in desk.issues()])
            assert _sums(c) == kept
            found = issue_store.issue_summaries(c, IssueQuery(), with_services=True)
            timelines = issue_store.timelines(c, IssueQuery(), kinds=("created", "status"))
            assert {s.number for s in (summarise(i, timelines[i.number]) for i in found)} == {
                n for n in kept if isinstance(n, int)
            }
            active_services = {
                (name, i.number) for i in found if i.status.is_active for name in i.services
            }
            assert len(active_services) == len(kept) - len(found)


def _sums(c: object) -> dict[object, tuple[object, ...]]:
    """The timeline sums and the active issues' services, by issue."""
    from sqlalchemy import select

    from passmuster.storage.issue_tables import active_issue_services, issue_timelines

    rows = c.execute(select(issue_timelines))  # type: ignore[attr-defined]
    found: dict[object, tuple[object, ...]] = {r.issue_number: tuple(r) for r in rows}
    for r in c.execute(select(active_issue_services)):  # type: ignore[attr-defined]
        found[("service", r.service_id, r.issue_number)] = tuple(r)
    return found


def test_upgrading_an_older_desk_fills_the_sums_from_its_events(sqlite_url: str) -> None:
    rng = random.Random(5)
    clock = HandClock(T0)
    with Desk.connect(sqlite_url, clock=clock) as desk:
        _random_desk(desk, clock, rng, issues=20)
        end = clock.now
        with desk.engine.begin() as c:
            kept = _sums(c)
            # A desk at 0010 has neither the sums nor what later migrations add.
            c.exec_driver_sql("DROP TABLE active_issue_services")
            c.exec_driver_sql("DROP TABLE issue_timelines")
            c.exec_driver_sql("DROP TABLE monitor_uptime_days")
            c.exec_driver_sql("UPDATE alembic_version SET version_num = '0010'")
        with desk.engine.begin() as c:
            upgrade(c)
            assert _sums(c) == kept
        assert desk.sla(now=end) == _expected_sla(desk, end)


def test_events_recorded_in_bulk_keep_the_sums_too(database_url: str) -> None:
    clock = HandClock(T0)
    with Desk.connect(database_url, clock=clock) as desk:
        filed = desk.file_many([IssueDraft(title="a"), IssueDraft(title="b")], actor="x")
        clock.now += timedelta(hours=3)
        desk.record_events(
            [{"issue": issue.number, "kind": "acknowledged"} for issue in filed], actor="x"
        )
        with desk.engine.begin() as c:
            kept = _sums(c)
            refresh(c, [issue.number for issue in filed])
            assert _sums(c) == kept
