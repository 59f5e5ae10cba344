"""An older desk, whose scans appended a `detected` event each time they saw a finding, is
converted on opening: the repeated events become the occurrence count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from passmuster.storage.engine import create_desk_engine, write_transaction
from passmuster.storage.issue_tables import events, issues
from passmuster.storage.migrate import upgrade
from passmuster.usecases.desk import Desk

BEFORE_OCCURRENCES = "0009"
T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def _old_desk(url: str) -> None:
    """A desk at the revision before occurrences: a scan issue seen by four scans, resolved by
    the fourth's absence and reopened by a fifth; a typed issue; a deploy failure's repeats.

    Written with plain INSERTs: today's store functions also fill tables of later revisions.
    """
    engine = create_desk_engine(url)
    try:
        with write_transaction(engine) as c:
            upgrade(c, BEFORE_OCCURRENCES)
            c.execute(
                insert(issues),
                [
                    _issue(1, "ENV003 drift", source="scan", fingerprint="f1"),
                    _issue(2, "typed by hand"),
                    _issue(3, "deploy of billing failed", source="deploy"),
                ],
            )

            def event(n: int, minutes: int, kind: str, **values: str) -> dict[str, object]:
                at = T0 + timedelta(minutes=minutes)
                row = {"field": None, "old": None, "new": None, **values}
                return {
                    "issue_number": n,
                    "actor": "passmuster-scan",
                    "at": at,
                    "kind": kind,
                    **row,
                }

            c.execute(
                insert(events),
                [
                    event(1, 0, "created", new="open"),
                    event(2, 0, "created", new="open"),
                    event(3, 0, "created", new="open"),
                    event(1, 1, "detected", new="scan-1 at commit aaaa"),
                    event(1, 2, "detected", new="scan-2 at commit bbbb"),
                    event(2, 2, "commented", new="a note"),
                    event(1, 3, "detected", new="scan-3 at commit cccc"),
                    event(1, 4, "status", field="status", old="open", new="resolved"),
                    event(1, 5, "status", field="status", old="resolved", new="open"),
                    event(1, 5, "regressed", old="scan-4", new="scan-5 at commit eeee"),
                    event(3, 6, "detected", field="billing", new="deploy 1"),
                    event(3, 7, "detected", field="billing", new="deploy 2"),
                ],
            )
    finally:
        engine.dispose()


def _issue(number: int, title: str, **values: str) -> dict[str, object]:
    return {
        "number": number,
        "title": title,
        "type": "bug",
        "severity": "medium",
        "severity_rank": 2,
        "priority_rank": 4,
        "status": "open",
        "is_active": 1,
        "opened_at": T0,
        "created_at": T0,
        "updated_at": T0,
        "source": None,
        "fingerprint": None,
        **values,
    }


def test_an_old_desks_detected_events_become_the_occurrence_count(database_url: str) -> None:
    _old_desk(database_url)
    with Desk.connect(database_url) as desk:
        seen = desk.occurrences([1, 2, 3])
        assert list(seen) == [1]
        assert seen[1].count == 4  # three sightings while open, one that reopened it
        assert (seen[1].first_seen_at, seen[1].first_seen_in) == (
            T0 + timedelta(minutes=1),
            "scan-1 at commit aaaa",
        )
        assert (seen[1].last_seen_at, seen[1].last_seen_in) == (
            T0 + timedelta(minutes=5),
            "scan-5 at commit eeee",
        )
        # The opening detection, the resolution and the regression stay; "seen again" goes.
        assert [(e.kind, e.new) for e in desk.events(issue=1)] == [
            ("created", "open"),
            ("detected", "scan-1 at commit aaaa"),
            ("status", "resolved"),
            ("status", "open"),
            ("regressed", "scan-5 at commit eeee"),
        ]
        # Other issues' timelines are untouched, a deploy failure's detections included.
        assert [e.kind for e in desk.events(issue=2)] == ["created", "commented"]
        assert [e.new for e in desk.events(issue=3, kinds=["detected"])] == [
            "deploy 1",
            "deploy 2",
        ]
        # The next scan counts on from the converted figures.
        desk.record_occurrences([1], seen_in="scan-6")
        assert desk.occurrences([1])[1].count == 5
