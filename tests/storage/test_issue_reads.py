"""Reading issues back: the JSON and time columns are converted by the store itself (not by
SQLAlchemy's per-value result conversion), and a long listing reads the services, labels and
links of a whole number range at once. Both must give exactly what was stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from passmuster.core.issues import (
    ExtraSection,
    FileChange,
    IssueDraft,
    IssueQuery,
    LinkKind,
    Severity,
    Status,
    Task,
)
from passmuster.storage.issue_tables import issues
from passmuster.usecases.desk import Desk

TIME_FIELDS = ("reported_at", "acknowledged_at", "resolved_at", "created_at", "updated_at")
JSON_FIELDS = ("error_details", "files_changed", "tasks", "extra_sections", "original_values")


def _as_json(value: Any) -> Any:
    """An issue's list field as the JSON the row holds."""
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, FileChange):
        return {"path": value.path, "note": value.note}
    if isinstance(value, Task):
        return {"text": value.text, "done": value.done}
    if isinstance(value, ExtraSection):
        return {"name": value.name, "body": value.body}
    return value


def test_issues_read_back_the_values_sqlalchemy_converts(desk: Desk) -> None:
    odd = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
    drafts = [
        IssueDraft(
            title=f"issue {n}",
            reported_at=odd + timedelta(hours=n, microseconds=n) if n % 2 else None,
            error_details=['Traceback (most recent call last):\n  ✅ "quoted" \\ back'] * n,
            files_changed=[FileChange(f"src/ü{n}.py", 'note, with "quotes"')],
            tasks=[Task("do ✓", done=True), Task("later")][: n % 3],
            extra_sections=[ExtraSection("Notes", "body\n\n- x")] if n % 2 else [],
            original_values={"status": "✅ **RESOLVED**", "services": "a, b"} if n % 3 else {},
        )
        for n in range(1, 8)
    ]
    desk.file_many(drafts, actor="ana")
    desk.claim(number=3, actor="agent")  # fills the lease's times
    desk.transition(5, Status.RESOLVED, actor="ana")  # and resolved_at
    with desk.engine.connect() as connection:  # SQLAlchemy's own conversion of every column
        typed = {r.number: r._mapping for r in connection.execute(select(issues))}
    for issue in desk.issues():
        row = typed[issue.number]
        for name in TIME_FIELDS:
            value = getattr(issue, name)
            assert value == row[name], name
            assert value is None or value.tzinfo is UTC, name
        for name in JSON_FIELDS:
            assert _as_json(getattr(issue, name)) == row[name], name
        if issue.lease is not None:
            assert (issue.lease.since, issue.lease.until) == (row["leased_at"], row["lease_until"])
            assert issue.lease.since.tzinfo is UTC
    assert desk.get(3).lease is not None
    assert desk.get(5).resolved_at is not None


def test_a_long_listing_gives_each_issue_its_own_services_labels_and_links(desk: Desk) -> None:
    count = 1_100  # more than one chunk of numbers: the listing reads the side rows by range
    drafts = [
        IssueDraft(
            title=f"issue {n}",
            severity=Severity.LOW if n % 3 == 0 else Severity.HIGH,
            services=[f"svc-{n % 7}", f"svc-{n % 5}-b"][: 1 + n % 2] if n % 4 else [],
            labels=[f"label-{n}", "shared"] if n % 5 else [],
        )
        for n in range(1, count + 1)
    ]
    desk.file_many(drafts, actor="ana")
    for n in (2, 300, 301, 1_099):
        desk.link(n, LinkKind.RELATES_TO, n - 1, actor="ana")
    # High severity only: two issues in three, the third's side rows lie inside the range read.
    listed = desk.issues(IssueQuery(severities=[Severity.HIGH]))
    assert len(listed) == count - count // 3
    assert all(i.number % 3 for i in listed)
    for issue in listed:
        alone = desk.get(issue.number)  # a read of one issue, by number
        assert issue.services == alone.services
        assert issue.labels == alone.labels
        assert issue.links == alone.links
    by_number = {i.number: i for i in listed}
    assert by_number[1].services == ["svc-1", "svc-1-b"]
    assert by_number[2].services == ["svc-2"]
    assert by_number[5].labels == []
    assert [link.target for link in by_number[301].links] == [300]


def test_issues_are_found_by_the_start_of_a_label(desk: Desk) -> None:
    from passmuster.core.issues import IssueDraft, IssueQuery, Status

    desk.file_many(
        [
            IssueDraft(title="linked", labels=["deps", "rule:PM101"], status=Status.RESOLVED),
            IssueDraft(title="open and linked", labels=["rule:PM205"]),
            IssueDraft(
                title="another prefix", labels=["rules", "rulebook"], status=Status.RESOLVED
            ),
            IssueDraft(title="literal percent", labels=["100%:done"], status=Status.RESOLVED),
            IssueDraft(title="no labels", status=Status.RESOLVED),
        ],
        actor="ana",
    )

    def titles(query: IssueQuery) -> list[str]:
        return [issue.title for issue in desk.issues(query)]

    assert titles(IssueQuery(label_prefix="rule:")) == ["linked", "open and linked"]
    assert titles(IssueQuery(statuses=[Status.RESOLVED], label_prefix="rule:")) == ["linked"]
    assert desk.count(IssueQuery(label_prefix="rule")) == 3
    # A prefix is matched as written: % and _ are not wildcards.
    assert titles(IssueQuery(label_prefix="100%")) == ["literal percent"]
    assert titles(IssueQuery(label_prefix="1_0")) == []
