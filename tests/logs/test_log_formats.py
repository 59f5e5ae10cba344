"""Each layout family the reader understands, and what it does with odd input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from passmuster.core.issues import FileChange, IssueType, Priority, Severity, Status, Task
from passmuster.errors import ParseError
from passmuster.logs.reader import read_file, read_text


def test_colon_inside_or_outside_the_bold_and_two_space_breaks() -> None:
    log = read_text(
        "# Log\n\n## Issue #7 - Cache stampede\n"
        "**Status:** In Progress  \n**Severity**: High  \n**Component:**  api-gateway  \n",
        "log.md",
    )
    (issue,) = log.issues
    assert issue.draft.original_id == "#7"
    assert issue.draft.title == "Cache stampede"
    assert issue.draft.status is Status.IN_PROGRESS
    assert issue.draft.severity is Severity.HIGH
    assert issue.draft.component == "api-gateway"
    assert issue.line == 3


def test_status_emoji_at_the_end_of_the_heading() -> None:
    log = read_text("## Bugs\n\n### Login loop ✅\n- **Severity**: Low\n", "log.md")
    (issue,) = log.issues
    assert issue.draft.title == "Login loop"
    assert issue.draft.status is Status.RESOLVED
    assert issue.draft.type is IssueType.BUG


def test_status_in_heading_and_body_that_disagree_keeps_both_and_warns() -> None:
    log = read_text(
        "### ✅ **RESOLVED** - Issue #001: Pool exhausted\n**Status**: 🔄 In Progress\n",
        "log.md",
    )
    draft = log.issues[0].draft
    assert draft.status is Status.IN_PROGRESS
    assert draft.original_values["status"] == "🔄 In Progress"
    assert draft.original_values["status (earlier)"] == "✅ **RESOLVED**"
    assert [(w.line, "disagrees" in w.message) for w in log.warnings] == [(2, True)]


def test_bold_paragraph_issues_and_bullet_fields() -> None:
    text = (
        "## Issue #1 - First\n- **Status**: Open\n- **Severity**: Low\n\n"
        "**Issue #2 - Second**  \n- **Status**: Planned\n- **Priority**: P2\n\n"
        "### Description\nSecond's own description.\n"
    )
    first, second = read_text(text, "log.md").issues
    assert (first.draft.title, first.draft.severity) == ("First", Severity.LOW)
    assert first.draft.description == ""
    assert (second.draft.original_id, second.draft.status) == ("#2", Status.PLANNED)
    assert second.draft.priority is Priority.MEDIUM_TERM
    assert second.draft.original_values["priority"] == "P2"
    assert second.draft.description == "Second's own description."


def test_subsections_checklists_files_and_code_blocks() -> None:
    text = (
        "## Issue #3 - Worker crash\n**Status**: Open\n\n"
        "### Error Details\n```\nTraceback (most recent call last):\n  ## not a heading\n```\n\n"
        "### Files Modified\n- `svc/a.py` - guard None\n- `svc/b.py`\n\n"
        "### Tasks to Complete\n- [x] reproduce\n- [ ] fix\n\n"
        "### Root Cause Analysis\nA race.\n\n### Rollout Plan\nCanary first.\n"
    )
    draft = read_text(text, "log.md").issues[0].draft
    assert draft.error_details == ["Traceback (most recent call last):\n  ## not a heading"]
    assert draft.files_changed == [FileChange("svc/a.py", "guard None"), FileChange("svc/b.py")]
    assert draft.tasks == [Task("reproduce", True), Task("fix", False)]
    assert draft.root_cause == "A race."
    assert [(e.name, e.body) for e in draft.extra_sections] == [("Rollout Plan", "Canary first.")]


def test_a_table_with_one_issue_per_row() -> None:
    text = (
        "# Known issues\n\n| ID | Title | Status | Severity | Owner | Notes |\n"
        "|----|-------|--------|----------|-------|-------|\n"
        "| BUG-1 | Slow login | ✅ Fixed | High | ana | uses a \\| pipe |\n"
        "| BUG-2 | Stale cache | Open | 🟢 Low | | |\n"
    )
    log = read_text(text, "log.md")
    assert log.family == "table"
    one, two = (i.draft for i in log.issues)
    assert (one.original_id, one.title, one.status, one.severity) == (
        "BUG-1",
        "Slow login",
        Status.RESOLVED,
        Severity.HIGH,
    )
    assert one.assignee == "ana"
    assert [(e.name, e.body) for e in one.extra_sections] == [("Notes", "uses a | pipe")]
    assert (two.status, two.severity, two.assignee) == (Status.OPEN, Severity.LOW, None)


def test_statistics_tables_are_not_issue_tables() -> None:
    log = read_text(
        "## Statistics\n\n| Month | Critical | High |\n|---|---|---|\n| Sep 2025 | 0 | 1 |\n",
        "log.md",
    )
    assert log.issues == []
    assert log.notes[0].title == "Statistics"


def test_one_file_per_issue(tmp_path: Path) -> None:
    path = tmp_path / "login.md"
    path.write_text(
        "# Issue: Login fails after deploy\n\n**Severity**: Critical\n\n"
        "The session cookie is dropped.\n\n## Resolution\nPinned the cookie domain.\n",
        encoding="utf-8",
    )
    log = read_file(path)
    assert log.family == "single"
    (issue,) = log.issues
    assert issue.draft.title == "Login fails after deploy"
    assert issue.draft.original_id is None
    assert issue.draft.description == "The session cookie is dropped."
    assert issue.draft.resolution == "Pinned the cookie domain."


def test_forcing_single_takes_the_first_heading_as_the_issue() -> None:
    log = read_text("# Disk full on db-1\n\nIt filled up.\n", "x.md", family="single")
    assert [i.draft.title for i in log.issues] == ["Disk full on db-1"]
    assert log.issues[0].draft.description == "It filled up."
    assert read_text("# Disk full on db-1\n\nIt filled up.\n", "x.md").issues == []


def test_dated_ids_and_chinese_field_names_with_full_width_colons() -> None:
    text = (
        "## Issue-2026-03-08-001: 支付回调超时\n"
        "**日期**：2026-03-08  \n**状态**：已解决  \n**严重程度**：高  \n"
        "**现象**：回调超过 30 秒\n**根因**：连接池耗尽\n"
    )
    draft = read_text(text, "log.md").issues[0].draft
    assert draft.original_id == "Issue-2026-03-08-001"
    assert draft.title == "支付回调超时"
    assert draft.reported_at == datetime(2026, 3, 8, tzinfo=UTC)
    assert draft.status is Status.RESOLVED
    assert draft.severity is Severity.HIGH
    assert draft.description == "回调超过 30 秒"
    assert draft.root_cause == "连接池耗尽"


def test_unknown_value_is_kept_as_written_and_warned_with_its_line() -> None:
    log = read_text("## Issue #1 - X\n**Severity**: High\n**Status**: Parked on Mars\n", "a.md")
    draft = log.issues[0].draft
    assert draft.status is Status.OPEN
    assert draft.original_values["status"] == "Parked on Mars"
    assert [str(w) for w in log.warnings] == [
        "a.md:3: unknown status 'Parked on Mars': kept as written, status left as open"
    ]


def test_the_same_id_twice_keeps_both_and_warns() -> None:
    log = read_text(
        "## Issue #1 - A\n**Status**: Open\n\n## Issue #1 - B\n**Status**: Open\n", "a.md"
    )
    assert [i.draft.title for i in log.issues] == ["A", "B"]
    assert log.issues[0].key != log.issues[1].key
    assert any(
        w.line == 4 and "#1 appears again (first at line 1)" in w.message for w in log.warnings
    )


def test_nothing_inside_a_fence_is_structure() -> None:
    text = (
        "## Template\n\n````markdown\n## Issue #999 - Example\n**Status**: Open\n````\n\n"
        "## Issue #1 - Real\n**Status**: Open\n"
    )
    log = read_text(text, "a.md")
    assert [i.draft.original_id for i in log.issues] == ["#1"]


def test_an_unclosed_fence_ends_at_the_next_heading_not_the_end_of_file() -> None:
    text = (
        "## Issue #1 - Broken paste\n**Status**: Open\n**Error Details**:\n```\nKeyError: x\n\n"
        "## Issue #2 - Next one\n**Status**: Resolved\n"
    )
    log = read_text(text, "a.md")
    assert [i.draft.original_id for i in log.issues] == ["#1", "#2"]
    assert log.issues[1].draft.status is Status.RESOLVED
    assert any(w.line == 4 and "never closed" in w.message for w in log.warnings)


def test_stated_totals_are_compared_with_what_was_found() -> None:
    text = (
        "## Bugs\n### A\n- **Status**: Open\n### B\n- **Status**: Resolved\n\n"
        "## Summary\n- Open: 2 issues\n- Resolved: 1 issues\n"
    )
    log = read_text(text, "a.md")
    assert [(t.label, t.stated, t.found, t.matches) for t in log.totals] == [
        ("Open", 2, 1, False),
        ("Resolved", 1, 1, True),
    ]


def test_mojibake_is_repaired_before_reading() -> None:
    log = read_text("### ‚úÖ **RESOLVED** - Issue #001: Fixed\n**Severity**: Low\n", "a.md")
    assert log.issues[0].draft.status is Status.RESOLVED
    assert log.issues[0].draft.original_values["status"] == "✅ **RESOLVED**"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        (b"# Log\n\n## Issue #1 - caf\xe9\n", "a.md:3: not valid UTF-8"),
        (b"# Log\n" + b"x" * 9000 + b"\n**Status**: a\x00b\n", "a.md:3: contains a NUL byte"),
    ],
)
def test_bad_files_fail_with_a_message_naming_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(content)
    with pytest.raises(ParseError) as caught:
        read_file(path)
    assert str(path) in caught.value.message
    assert message in caught.value.message.replace(str(tmp_path) + "/", "")


def test_unknown_format_name_is_an_error() -> None:
    with pytest.raises(ParseError, match="unknown format 'csv'"):
        read_text("x", "a.md", family="csv")
