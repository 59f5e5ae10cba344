"""The Desk against real SQLite files and real PostgreSQL schemas (each test runs on both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from passmuster.core.catalog import Service
from passmuster.core.issues import (
    CloseReason,
    ExtraSection,
    FileChange,
    IssueDraft,
    IssueQuery,
    IssueType,
    Link,
    LinkKind,
    Priority,
    Severity,
    Status,
    Task,
)
from passmuster.errors import Conflict, InvalidTransition, InvalidValue, NotFound
from passmuster.usecases.desk import Desk


def _full_draft() -> IssueDraft:
    """Every field the real logs use, filled in."""
    return IssueDraft(
        title="Database Driver Conflicts",
        type=IssueType.COORDINATION,
        severity=Severity.CRITICAL,
        priority=Priority.IMMEDIATE,
        status=Status.WORKAROUND_APPLIED,
        services=["identity-service", "content-service"],
        component="requirements",
        reporter="Identity Service Agent (via REQUIREMENTS_UPGRADE_REPORT.md)",
        assignee="coordinator",
        reported_at=datetime(2025, 9, 9, 8, 30, tzinfo=UTC),
        description="Shared requirements included conflicting database drivers",
        impact="Blocks all service upgrades",
        error_details=['- psycopg2-binary fails with "pg_config executable not found"', "b\n c"],
        attempted_solutions="Pinned versions",
        root_cause="asyncpg and psycopg2 in one file",
        resolution="",
        workaround="Install drivers per service",
        prevention="A check for drivers in shared requirements",
        files_changed=[FileChange("requirements.shared.txt", "Removed drivers"), FileChange("x")],
        test_results="✅ Login: Get valid token",
        tasks=[Task("Create user", done=True), Task("Remove admin credentials")],
        labels=["deps", "security"],
        original_id="#002",
        source="logs/ISSUES.md",
        fingerprint="fp-1",
        extra_sections=[ExtraSection("Future Considerations", "- call tenant-service\n")],
        original_values={"status": "⚠️ Temporary Workaround Applied", "severity": "Critical"},
    )


def test_it_files_issues_with_sequential_numbers_and_keeps_every_field(desk: Desk) -> None:
    first = desk.file(IssueDraft(title="First"), actor="alice")
    second = desk.file(_full_draft(), actor="alice")
    assert (first.number, second.number) == (1, 2)

    stored = desk.get(2)
    draft = _full_draft()
    for name in draft.__dataclass_fields__:
        assert getattr(stored, name) == getattr(draft, name), name
    assert stored.version == 1
    assert stored.ref == "#002"


def test_times_come_back_aware_in_utc(desk: Desk) -> None:
    local = datetime(2025, 6, 2, 14, 0, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=2))
    )
    issue = desk.file(IssueDraft(title="t", reported_at=local), actor="a")
    stored = desk.get(issue.number)
    assert stored.reported_at == datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
    assert stored.reported_at is not None and stored.reported_at.utcoffset() == timedelta(0)
    assert stored.created_at is not None and stored.created_at.tzinfo is not None


def test_get_of_a_missing_issue_says_which(desk: Desk) -> None:
    with pytest.raises(NotFound, match="#042"):
        desk.get(42)


def test_it_finds_issues_by_source_original_id_and_fingerprint(desk: Desk) -> None:
    desk.file(IssueDraft(title="a", source="log.md", original_id="#001"), actor="a")
    desk.file(
        IssueDraft(title="b", source="log.md", original_id="#002", fingerprint="F"), actor="a"
    )
    found = desk.find(source="log.md", original_id="#002")
    assert found is not None and found.title == "b"
    assert desk.find(fingerprint="F") == found
    assert desk.find(source="other.md", original_id="#001") is None


def test_listing_filters_sorts_and_counts(desk: Desk) -> None:
    desk.file(IssueDraft(title="low one", severity=Severity.LOW, services=["api"]), actor="a")
    desk.file(
        IssueDraft(title="critical", severity=Severity.CRITICAL, labels=["db"], assignee="bo"),
        actor="a",
    )
    desk.file(IssueDraft(title="high", severity=Severity.HIGH, services=["api", "db"]), actor="a")
    desk.transition(1, Status.RESOLVED, actor="a")

    assert [i.number for i in desk.issues()] == [1, 2, 3]
    assert [i.number for i in desk.issues(IssueQuery(sort="urgency"))] == [2, 3, 1]
    assert [i.number for i in desk.issues(IssueQuery(services=["api"]))] == [1, 3]
    assert [i.number for i in desk.issues(IssueQuery(labels=["db"]))] == [2]
    assert [i.number for i in desk.issues(IssueQuery(assignee="bo"))] == [2]
    assert [i.number for i in desk.issues(IssueQuery(active_only=True))] == [2, 3]
    assert [i.number for i in desk.issues(IssueQuery(statuses=[Status.RESOLVED]))] == [1]
    assert [i.number for i in desk.issues(IssueQuery(sort="-number", limit=2))] == [3, 2]
    assert [i.number for i in desk.issues(IssueQuery(limit=1, offset=1))] == [2]
    assert desk.count(IssueQuery(severities=[Severity.HIGH, Severity.LOW])) == 2
    assert [i.number for i in desk.issues(IssueQuery(text="critical"))] == [2]


def test_update_records_one_event_per_changed_field(desk: Desk) -> None:
    desk.file(IssueDraft(title="t"), actor="alice")
    updated = desk.update(1, {"severity": "high", "assignee": "bob", "title": "t"}, actor="carol")
    assert updated.severity is Severity.HIGH and updated.version == 2
    changes = [(e.kind, e.field, e.old, e.new, e.actor) for e in desk.events(issue=1)[1:]]
    assert changes == [
        ("changed", "severity", "medium", "high", "carol"),
        ("assigned", "assignee", None, "bob", "carol"),
    ]


def test_update_rejects_fields_that_are_not_editable(desk: Desk) -> None:
    desk.file(IssueDraft(title="t"), actor="a")
    with pytest.raises(InvalidValue, match="field 'status'"):
        desk.update(1, {"status": "resolved"}, actor="a")
    with pytest.raises(InvalidValue, match="critical, high, medium, low, info"):
        desk.update(1, {"severity": "urgent"}, actor="a")


def test_the_loser_of_a_concurrent_edit_gets_a_conflict_and_nothing_is_overwritten(
    desk: Desk,
) -> None:
    issue = desk.file(IssueDraft(title="t"), actor="a")
    desk.update(1, {"assignee": "first"}, actor="a", expected_version=issue.version)
    with pytest.raises(Conflict, match="changed meanwhile"):
        desk.update(1, {"assignee": "second"}, actor="b", expected_version=issue.version)
    assert desk.get(1).assignee == "first"


def test_workflow_resolve_stamps_and_reopen_clears_the_resolution_time(desk: Desk) -> None:
    desk.file(IssueDraft(title="t"), actor="a")
    resolved = desk.transition(
        1, Status.RESOLVED, actor="a", fields={"resolution": "fixed", "root_cause": "typo"}
    )
    assert resolved.resolved_at is not None and resolved.resolution == "fixed"
    assert resolved.acknowledged_at is not None

    with pytest.raises(InvalidTransition, match="allowed: open, closed"):
        desk.transition(1, Status.IN_PROGRESS, actor="a")
    reopened = desk.transition(1, Status.OPEN, actor="a")
    assert reopened.resolved_at is None and reopened.status is Status.OPEN

    closed = desk.transition(1, Status.CLOSED, actor="a", reason=CloseReason.DUPLICATE)
    assert closed.close_reason is CloseReason.DUPLICATE
    statuses = [(e.old, e.new) for e in desk.events(issue=1, kinds=["status"])]
    assert statuses == [("open", "resolved"), ("resolved", "open"), ("open", "closed")]


def test_closing_without_a_reason_fails_and_changes_nothing(desk: Desk) -> None:
    desk.file(IssueDraft(title="t"), actor="a")
    with pytest.raises(InvalidTransition, match="reason"):
        desk.transition(1, Status.CLOSED, actor="a")
    assert desk.get(1).status is Status.OPEN and desk.get(1).version == 1


def test_acknowledge_is_recorded_once(desk: Desk) -> None:
    desk.file(IssueDraft(title="t"), actor="a")
    first = desk.acknowledge(1, actor="coordinator")
    again = desk.acknowledge(1, actor="coordinator")
    assert first.acknowledged_at is not None and again.acknowledged_at == first.acknowledged_at
    assert len(desk.events(issue=1, kinds=["acknowledged"])) == 1


def test_comments_and_links_append_events(desk: Desk) -> None:
    desk.file(IssueDraft(title="a"), actor="a")
    desk.file(IssueDraft(title="b"), actor="a")
    made = desk.comment(1, "looking into it", actor="bob")
    assert [c.body for c in desk.comments(1)] == ["looking into it"]
    assert made.created_at.tzinfo is not None
    linked = desk.link(1, LinkKind.BLOCKS, 2, actor="bob")
    desk.link(1, LinkKind.BLOCKS, 2, actor="bob")
    assert linked.links == [Link(LinkKind.BLOCKS, 2)]
    kinds = [e.kind for e in desk.events(issue=1)]
    assert kinds == ["created", "commented", "linked"]
    with pytest.raises(NotFound):
        desk.link(1, LinkKind.RELATES_TO, 99, actor="bob")
    with pytest.raises(NotFound):
        desk.comment(99, "x", actor="bob")


def test_events_page_by_cursor_and_filter_by_kind(desk: Desk) -> None:
    for n in range(5):
        desk.file(IssueDraft(title=f"i{n}"), actor="a")
    desk.record_event(3, "detected", actor="scanner", field="ENV003", new="seen")
    first = desk.events(limit=2)
    rest = desk.events(after=first[-1].id, limit=100)
    assert [e.issue for e in first + rest] == [1, 2, 3, 4, 5, 3]
    assert [e.actor for e in desk.events(kinds=["detected"])] == ["scanner"]
    with pytest.raises(InvalidValue, match="event kind"):
        desk.record_event(3, "exploded", actor="x")


def test_timelines_of_many_issues_are_each_issues_own_events_in_order(desk: Desk) -> None:
    for n in range(4):
        desk.file(IssueDraft(title=f"i{n}"), actor="a")
    desk.comment(3, "looking", actor="b")
    desk.transition(1, Status.IN_PROGRESS, actor="c")
    desk.record_event(3, "detected", actor="scanner", field="ENV003", new="seen")
    timelines = desk.timelines([3, 1, 4, 99])
    assert set(timelines) == {1, 3, 4}  # no events, no entry
    for number in (1, 3, 4):
        assert timelines[number] == desk.events(issue=number, limit=500)
    assert [e.kind for e in timelines[3]] == ["created", "commented", "detected"]


def test_a_transaction_commits_or_rolls_back_together(desk: Desk) -> None:
    with pytest.raises(RuntimeError), desk.transaction():
        desk.file(IssueDraft(title="a"), actor="a")
        desk.file(IssueDraft(title="b"), actor="a")
        raise RuntimeError("stop")
    assert desk.count() == 0
    with desk.transaction():
        desk.file(IssueDraft(title="a"), actor="a")
        desk.comment(1, "inside", actor="a")
    # The rolled-back numbers were given back: no gap.
    assert [i.number for i in desk.issues()] == [1]
    assert desk.file(IssueDraft(title="c"), actor="a").number == 2


def test_services_are_entities_shared_by_issues(desk: Desk) -> None:
    desk.ensure_service(Service(name="identity", owner="team-a", ports=["8001:8001"]))
    desk.file(IssueDraft(title="t", services=["identity", "billing"]), actor="a")
    updated = desk.ensure_service(Service(name="identity", owner="team-b"))
    assert updated.owner == "team-b"
    assert [s.name for s in desk.services()] == ["billing", "identity"]
    assert desk.get_service("identity").owner == "team-b"
    with pytest.raises(NotFound):
        desk.get_service("nope")
    with pytest.raises(InvalidValue):
        desk.file(IssueDraft(title="t", services=["bad name!"]), actor="a")


def test_search_finds_words_in_title_and_error_details(desk: Desk) -> None:
    desk.file(IssueDraft(title="HTTPStatus import fails", services=["api"]), actor="a")
    desk.file(
        IssueDraft(title="Driver conflict", error_details=["pg_config executable not found"]),
        actor="a",
    )
    desk.file(IssueDraft(title="Unrelated"), actor="a")
    assert [i.number for i in desk.search("httpstatus")] == [1]
    assert [i.number for i in desk.search("pg_config executable")] == [2]
    assert desk.search("nothing-like-this") == []
    assert desk.search('"); drop table issues; --') == []
    desk.update(3, {"description": "mentions HTTPStatus too"}, actor="a")
    assert [i.number for i in desk.search("HTTPStatus")] == [1, 3]


def test_known_fixes_are_resolved_look_alikes_with_resolutions(desk: Desk) -> None:
    desk.file(
        IssueDraft(
            title="psycopg2-binary build fails",
            error_details=['psycopg2-binary fails with "pg_config executable not found"'],
        ),
        actor="a",
    )
    desk.transition(1, Status.RESOLVED, actor="a", fields={"resolution": "Use asyncpg"})
    desk.file(IssueDraft(title="pg_config missing again"), actor="a")
    desk.file(IssueDraft(title="Port conflict"), actor="a")
    desk.transition(3, Status.RESOLVED, actor="a", fields={"resolution": "Ports"})

    fixes = desk.known_fixes(
        IssueDraft(title="Build breaks", error_details=["pg_config executable not found"])
    )
    assert [(i.number, i.resolution) for i in fixes] == [(1, "Use asyncpg")]


def test_ready_skips_blocked_work_and_puts_the_most_urgent_first(desk: Desk) -> None:
    desk.file(IssueDraft(title="low", severity=Severity.LOW), actor="a")
    desk.file(IssueDraft(title="blocker", severity=Severity.HIGH), actor="a")
    desk.file(IssueDraft(title="waits", severity=Severity.CRITICAL), actor="a")
    desk.file(IssueDraft(title="stuck", severity=Severity.CRITICAL), actor="a")
    desk.file(
        IssueDraft(title="high soon", severity=Severity.HIGH, priority=Priority.IMMEDIATE),
        actor="a",
    )
    desk.link(2, LinkKind.BLOCKS, 3, actor="a")
    desk.transition(4, Status.BLOCKED, actor="a")
    assert [i.number for i in desk.ready()] == [5, 2, 1]
    desk.transition(2, Status.RESOLVED, actor="a")
    assert [i.number for i in desk.ready()] == [3, 5, 1]


def test_claim_assigns_and_starts_the_next_ready_issue(desk: Desk) -> None:
    desk.file(IssueDraft(title="a", severity=Severity.LOW), actor="a")
    desk.file(IssueDraft(title="b", severity=Severity.HIGH), actor="a")
    got = desk.claim(actor="agent-1")
    assert got is not None and got.number == 2
    assert got.assignee == "agent-1" and got.status is Status.IN_PROGRESS
    assert got.acknowledged_at is not None
    assert [e.kind for e in desk.events(issue=2)] == [
        "created",
        "acknowledged",
        "assigned",
        "status",
    ]
    second = desk.claim(actor="agent-2")
    assert second is not None and second.number == 1
    assert desk.claim(actor="agent-3") is None


def test_file_many_numbers_consecutively(desk: Desk) -> None:
    filed = desk.file_many([IssueDraft(title=f"t{n}") for n in range(3)], actor="importer")
    assert [i.number for i in filed] == [1, 2, 3]
    assert desk.count() == 3
    assert len(desk.events(kinds=["created"])) == 3


def test_text_with_nul_characters_is_refused_on_every_database(desk: Desk) -> None:
    with pytest.raises(InvalidValue, match="error_details"):
        desk.file(IssueDraft(title="t", error_details=["a\x00b"]), actor="a")
    desk.file(IssueDraft(title="t"), actor="a")
    with pytest.raises(InvalidValue, match="description"):
        desk.update(1, {"description": "x\x00"}, actor="a")
    with pytest.raises(InvalidValue, match="comment"):
        desk.comment(1, "\x00", actor="a")
    assert desk.get(1).version == 1 and desk.count() == 1


def test_unlinking_removes_the_link_and_records_it(desk: Desk) -> None:
    desk.file(IssueDraft(title="a"), actor="a")
    desk.file(IssueDraft(title="b"), actor="a")
    desk.link(1, LinkKind.BLOCKS, 2, actor="bob")
    unlinked = desk.unlink(1, LinkKind.BLOCKS, 2, actor="bob")
    assert unlinked.links == [] and unlinked.version == 3
    again = desk.unlink(1, LinkKind.BLOCKS, 2, actor="bob")
    assert again.version == 3
    last = desk.events(issue=1)[-1]
    assert (last.kind, last.field, last.old) == ("unlinked", "blocks", "2")
    assert [i.number for i in desk.ready()] == [1, 2]


def test_a_python_draft_may_give_documented_texts_and_bad_ones_get_the_clis_message(
    desk: Desk,
) -> None:
    issue = desk.file(
        IssueDraft(title="Login fails", severity="high", type="security"),  # type: ignore[arg-type]
        actor="ana",
    )
    assert (issue.severity, issue.type) == (Severity.HIGH, IssueType.SECURITY)
    assert desk.get(issue.number).severity is Severity.HIGH
    with pytest.raises(InvalidValue) as refused:
        desk.file(IssueDraft(title="x", severity="urgent"), actor="ana")  # type: ignore[arg-type]
    assert str(refused.value) == (
        "invalid severity 'urgent': expected one of critical, high, medium, low, info"
    )
    with pytest.raises(InvalidValue, match="title is too long"):
        desk.file(IssueDraft(title="t" * 301), actor="ana")
    assert desk.count() == 1


def test_a_draft_checked_under_other_limits_is_checked_again_when_filed(desk: Desk) -> None:
    from passmuster.core.limits import STORED, checked
    from passmuster.errors import TooLong

    # An importer's draft passed the import's limits; the desk files by its own by default.
    with pytest.raises(TooLong):
        desk.file_many([checked(IssueDraft(title="t" * 301), STORED)], actor="ana")
    passed = checked(IssueDraft(title="t" * 301), STORED)
    (filed,) = desk.file_many([passed], actor="ana", limits=STORED)
    assert filed.title == "t" * 301 and desk.count() == 1
