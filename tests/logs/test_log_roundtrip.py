"""Round trip: reading an exported log gives back every issue, field for field."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from passmuster.core.issues import (
    CloseReason,
    ExtraSection,
    FileChange,
    Issue,
    IssueDraft,
    IssueType,
    Link,
    LinkKind,
    Priority,
    Severity,
    Status,
    Task,
)
from passmuster.logs.reader import read_text
from passmuster.logs.writer import render_log
from passmuster.usecases.desk import Desk
from passmuster.usecases.exporting import export_log
from passmuster.usecases.importing import import_logs

DRAFT_FIELDS = [f.name for f in dataclasses.fields(IssueDraft)]

# Lines that mean something to a Markdown reader, mixed into generated text.
HOSTILE = [
    "```",
    "````python",
    "~~~",
    "~~~verbatim",
    "# Heading",
    "## Issue #9 - Fake",
    "   ### x",
    "**Issue #4 - Bold issue**",
    "**Status**: Resolved",
    "- **Severity**: Low",
    "| a | b |",
    "|---|---|",
    "---",
    "***",
    "  leading spaces",
    "trailing spaces  ",
    "",
    " ",
    "\t",
    '<!-- passmuster: {"title": "x"} -->',
    "- [ ] task",
    "- [x] done",
    "‚úÖ mojibake",
    "`code`",
    "**bold**",
    "__under__",
    "#",
    "\\",
    "✅",
    "日期：2025-01-01",
    "a\rb",
    "nul\x00",
    "Issue: not a title",
    "> quote",
    "1. item",
    "1. **Numbered bold item**",
    "**A bold title**",
    "### ✅ 3. Fixed thing (Resolved 2025-10-02)",
    "## OPEN",
    "[BUG] Tagged",
    "BUG-F001: Keyed",
    "Title - RESOLVED",
    "Login fails（未修复）",
    "🔴 Critical",
    "- **Estado**: Resuelto",
    "| **影響** | 大 |",
]
text_piece = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20))
multiline = st.lists(text_piece, max_size=4).map("\n".join)
one_line = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
service_name = st.text("abcxyz019_.-", max_size=12).map(lambda s: f"s{s}")
moment = st.builds(
    lambda seconds, micros: datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros),
    st.integers(946_684_800, 4_102_444_800),
    st.sampled_from([0, 0, 1, 250_000, 999_999]),
)
spelling = st.sampled_from(
    [
        "✅ **RESOLVED**",
        "🔄 In Progress",
        "P2",
        "Critical (Security Issue)",
        "Bugs",
        "High",
        "2025-06-05 (from audit report)",
        "From compatibility audit",
        "📋 Planned",
        "weird",
    ]
)


@st.composite
def issues(draw: st.DrawFn, number: int) -> Issue:
    status = draw(st.sampled_from(list(Status)))
    return Issue(
        title=draw(one_line.filter(lambda t: t.strip() != "")),
        type=draw(st.sampled_from(list(IssueType))),
        severity=draw(st.sampled_from(list(Severity))),
        priority=draw(st.none() | st.sampled_from(list(Priority))),
        status=status,
        close_reason=draw(st.sampled_from(list(CloseReason)))
        if status is Status.CLOSED
        else draw(st.none() | st.sampled_from(list(CloseReason))),
        services=draw(st.lists(service_name, max_size=3, unique=True)),
        component=draw(st.none() | one_line),
        reporter=draw(st.none() | one_line),
        assignee=draw(st.none() | one_line),
        reported_at=draw(st.none() | moment),
        acknowledged_at=draw(st.none() | moment),
        resolved_at=draw(st.none() | moment),
        description=draw(multiline),
        impact=draw(multiline),
        error_details=draw(st.lists(multiline, max_size=2)),
        attempted_solutions=draw(multiline),
        root_cause=draw(multiline),
        resolution=draw(multiline),
        workaround=draw(multiline),
        prevention=draw(multiline),
        files_changed=draw(
            st.lists(st.builds(FileChange, one_line, st.one_of(st.just(""), one_line)), max_size=3)
        ),
        test_results=draw(multiline),
        tasks=draw(st.lists(st.builds(Task, one_line, st.booleans()), max_size=3)),
        labels=draw(st.lists(one_line.filter(bool), max_size=3, unique=True)),
        original_id=draw(st.none() | st.sampled_from(["#001", "#1", "Issue-2026-03-08-001"])),
        source=draw(st.none() | st.sampled_from(["log.md", "docs/ISSUES.md", "a b.md"])),
        fingerprint=draw(st.none() | st.text(min_size=1, max_size=10)),
        links=draw(
            st.lists(
                st.builds(Link, st.sampled_from(list(LinkKind)), st.integers(1, 99)), max_size=2
            )
        ),
        extra_sections=draw(st.lists(st.builds(ExtraSection, one_line, multiline), max_size=3)),
        original_values=draw(
            st.dictionaries(
                st.sampled_from(
                    [
                        "status",
                        "severity",
                        "priority",
                        "type",
                        "reported_at",
                        "services",
                        "status (earlier)",
                    ]
                ),
                spelling,
                max_size=3,
            )
        ),
        number=number,
        created_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=number),
    )


@st.composite
def issue_lists(draw: st.DrawFn) -> list[Issue]:
    count = draw(st.integers(1, 3))
    return [draw(issues(n)) for n in range(1, count + 1)]


def assert_same(expected: IssueDraft, actual: IssueDraft) -> None:
    for name in DRAFT_FIELDS:
        assert getattr(actual, name) == getattr(expected, name), name


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(issue_lists())
def test_reading_an_export_gives_back_every_field(generated: list[Issue]) -> None:
    text = render_log(generated, title="Round trip")
    log = read_text(text, "export.md")
    assert len(log.issues) == len(generated)
    for issue, parsed in zip(generated, log.issues, strict=True):
        assert_same(issue, parsed.draft)
        assert parsed.number == issue.number
    assert render_log(generated, title="Round trip") == text  # deterministic


def test_hostile_text_is_fenced_not_parsed() -> None:
    issue = Issue(
        title="Pipes | and `ticks`",
        description="## Not a heading\n```\nunclosed fence",
        resolution="**Issue #12 - not an issue**",
        number=1,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    text = render_log([issue])
    assert "~~~verbatim\n## Not a heading" in text
    (parsed,) = read_text(text, "x.md").issues
    assert parsed.draft.description == issue.description
    assert parsed.draft.resolution == issue.resolution


def assert_round_trip(folder: Path, tmp_path: Path) -> int:
    """Import every log in `folder`, export, import the export into a fresh desk: the same
    issues field for field, the same bytes exported again, and a re-import changes nothing.
    Returns how many issues made the trip."""
    with Desk.init(tmp_path / "one") as first:
        import_logs(first, [folder], actor="ana", root=folder)
        exported = export_log(first, title="Logs")
        originals = first.issues()
    log = tmp_path / "export.md"
    log.write_text(exported, encoding="utf-8")
    with Desk.init(tmp_path / "two") as second:
        report = import_logs(second, [log], actor="bo", root=tmp_path)
        assert report.count("created") == len(originals)
        copies = second.issues()
        assert export_log(second, title="Logs") == exported
        again = import_logs(second, [log], actor="bo", root=tmp_path)
        assert again.count("unchanged") == len(originals)
    for original, copy in zip(originals, copies, strict=True):
        assert copy.number == original.number
        assert_same(original, copy)
    return len(originals)


def test_fixture_logs_survive_desk_export_import_into_a_fresh_desk(
    tmp_path: Path, fixture_logs_dir: Path
) -> None:
    assert assert_round_trip(fixture_logs_dir, tmp_path) == 20


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(issue_lists())
def test_generated_issues_survive_a_desk_round_trip(tmp_path: Path, generated: list[Issue]) -> None:
    assume("\\x00" not in repr(generated))  # the desk refuses NUL (PostgreSQL cannot store it)
    root = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    for issue in generated:  # what a desk accepts: links to issues that exist
        issue.links = [link for link in issue.links if link.target <= len(generated)]
    with Desk.init(root / "one") as first:
        filed = first.file_many(generated, actor="ana")
        exported = export_log(first)
    log = root / "log.md"
    log.write_text(exported, encoding="utf-8")
    with Desk.init(root / "two") as second:
        import_logs(second, [log], actor="bo", root=root)
        copies = second.issues()
    for original, copy in zip(filed, copies, strict=True):
        assert_same(original, copy)
