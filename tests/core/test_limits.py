"""One set of checks for every draft, edit and comment, whoever sends it (pure)."""

from __future__ import annotations

import pytest

from passmuster.core.issues import (
    ExtraSection,
    FileChange,
    IssueDraft,
    IssueType,
    Priority,
    Severity,
    Status,
    Task,
)
from passmuster.core.limits import (
    STORED,
    TYPED,
    check_changes,
    check_comment,
    check_draft,
)
from passmuster.errors import InvalidValue, TooLong


def test_a_draft_may_give_values_as_the_documented_texts() -> None:
    draft = IssueDraft(
        title="Login fails",
        severity="High",  # type: ignore[arg-type]
        type="tech-debt",  # type: ignore[arg-type]
        priority="short term",  # type: ignore[arg-type]
        services="identity",  # type: ignore[arg-type]
        tasks=["write a test"],  # type: ignore[list-item]
        labels=["auth", "auth"],
    )
    checked = check_draft(draft)
    assert checked.severity is Severity.HIGH
    assert checked.type is IssueType.TECH_DEBT
    assert checked.priority is Priority.SHORT_TERM
    assert checked.services == ["identity"]
    assert checked.tasks == [Task("write a test")]
    assert checked.labels == ["auth"]


def test_an_unknown_value_is_refused_with_the_list_of_valid_ones() -> None:
    draft = IssueDraft(title="x", severity="urgent")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue) as refused:
        check_draft(draft)
    assert refused.value.message == (
        "invalid severity 'urgent': expected one of critical, high, medium, low, info"
    )


def test_typed_limits_refuse_a_long_title_and_description_naming_the_field() -> None:
    with pytest.raises(TooLong, match=r"title is too long: 301 characters \(at most 300\)"):
        check_draft(IssueDraft(title="t" * 301))
    with pytest.raises(TooLong, match="description is too long") as refused:
        check_draft(IssueDraft(title="x", description="d" * (TYPED.text + 1)))
    assert refused.value.field == "description"
    check_draft(IssueDraft(title="t" * 300, description="d" * TYPED.text))


def test_stored_limits_keep_what_an_imported_log_holds_up_to_what_the_desk_stores() -> None:
    long = IssueDraft(title="t" * 1_000, error_details=["e" * 300_000])
    check_draft(long, STORED)
    with pytest.raises(TooLong, match="error_details"):
        check_draft(IssueDraft(title="x", error_details=["e" * (STORED.text + 1)]), STORED)
    with pytest.raises(TooLong, match="title"):
        check_draft(IssueDraft(title="t" * (STORED.title + 1)), STORED)


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (IssueDraft(title="a\x00b"), "title"),
        (IssueDraft(title="x", tasks=[Task("fine"), Task("bad\x00")]), "tasks"),
        (IssueDraft(title="x", files_changed=[FileChange("a.py", "\x00")]), "files_changed"),
        (IssueDraft(title="x", extra_sections=[ExtraSection("N", "\x00")]), "extra_sections"),
        (IssueDraft(title="x", original_values={"status": "\x00"}), "original_values"),
        (IssueDraft(title="x", description="lone \udcff surrogate"), "description"),
    ],
)
def test_text_no_database_can_store_is_refused_wherever_it_is(
    draft: IssueDraft, field: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_draft(draft)
    assert refused.value.field == field


def test_lists_services_and_the_workflow_are_checked() -> None:
    with pytest.raises(TooLong, match=r"labels is too long: 501 entries"):
        check_draft(IssueDraft(title="x", labels=[f"l{i}" for i in range(501)]))
    with pytest.raises(InvalidValue, match="service"):
        check_draft(IssueDraft(title="x", services=["no spaces allowed"]))
    with pytest.raises(InvalidValue, match="close_reason"):
        check_draft(IssueDraft(title="x", status=Status.CLOSED))
    with pytest.raises(InvalidValue, match="title"):
        check_draft(IssueDraft(title="   "))


def test_edits_and_comments_meet_the_same_limits() -> None:
    assert check_changes({"severity": "low"}) == {"severity": Severity.LOW}
    with pytest.raises(TooLong, match="resolution"):
        check_changes({"resolution": "r" * (TYPED.text + 1)})
    check_changes({"resolution": "r" * (TYPED.text + 1)}, STORED)
    with pytest.raises(InvalidValue, match="comment"):
        check_comment("   ")
    with pytest.raises(TooLong, match="comment"):
        check_comment("c" * (TYPED.text + 1))
