"""The three-way merge of one issue, without a desk."""

from __future__ import annotations

from passmuster.core.issues import Issue, IssueDraft, Severity, Status, Task
from passmuster.core.merge import digest, field_digests, merge


def test_the_digest_of_a_value_does_not_depend_on_key_order_or_object_identity() -> None:
    assert digest({"a": "1", "b": "2"}) == digest({"b": "2", "a": "1"})
    assert digest([Task("x", True)]) == digest([Task("x", True)])
    assert digest("1") != digest(1) and digest("") != digest(None)


def test_each_side_of_the_merge() -> None:
    then = IssueDraft(title="Cart", severity=Severity.HIGH, description="old")
    baseline = field_digests(then)
    desk = Issue(title="Cart", severity=Severity.LOW, description="old", status=Status.RESOLVED)
    now = IssueDraft(title="Cart", severity=Severity.CRITICAL, description="new")
    found = merge(baseline, desk, now)
    assert found.changes == {"description": "new"}  # only the log changed it
    assert found.status is None and "status" in found.kept  # only the desk changed it
    (conflict,) = found.conflicts  # both changed it
    assert (conflict.field, conflict.desk, conflict.log, conflict.taken) == (
        "severity",
        "low",
        "critical",
        "desk",
    )
    preferring = merge(baseline, desk, now, prefer_log=True)
    assert preferring.changes == {"description": "new", "severity": Severity.CRITICAL}


def test_without_a_baseline_the_logs_values_are_taken() -> None:
    desk = Issue(title="Cart", severity=Severity.LOW)
    found = merge(None, desk, IssueDraft(title="Cart", severity=Severity.HIGH))
    assert found.changes == {"severity": Severity.HIGH} and found.conflicts == []


def test_a_drafts_digests_are_the_digest_of_each_field_whatever_its_kind() -> None:
    from datetime import UTC, datetime

    from passmuster.core.issues import ExtraSection, FileChange, Link, LinkKind, Priority

    draft = IssueDraft(
        title="Cart",
        priority=Priority.IMMEDIATE,
        status=Status.RESOLVED,
        description="",
        impact="Checkout fails ✅",
        reported_at=datetime(2025, 9, 9, 14, 30, 5, 120, tzinfo=UTC),
        services=["api", "worker"],
        error_details=["Traceback\n  boom"],
        files_changed=[FileChange("a.py", "note"), FileChange("b.py")],
        tasks=[Task("x", True), Task("it's")],
        links=[Link(LinkKind.BLOCKS, 3)],
        extra_sections=[ExtraSection("Notes", "kept")],
        original_values={"status": "✅ **RESOLVED**"},
    )
    digests = field_digests(draft)
    assert digests == {name: digest(getattr(draft, name)) for name in digests}
