"""Arbitrary Markdown, and bytes that are not text, never make the reader raise anything but
the documented ParseError (a bad file named with its line)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passmuster.errors import ParseError
from passmuster.logs.draft import read_draft
from passmuster.logs.reader import Folder, read_file, read_text

# Lines that mean something to a log reader, in the shapes real logs use them.
STRUCTURE = [
    "# Known issues",
    "## Issue #1 - Login loop",
    "### ✅ 3. Fixed thing (Resolved 2025-10-02)",
    "## 1) 订单服务连不上 Redis（未修复）",
    "### BUG-F001: key",
    "#### Technical Details",
    "## OPEN",
    "## Résolus",
    "## 🔴 Critical",
    "##",
    "######## too deep",
    "**Issue #4 - Bold issue**",
    "**A bold title**",
    "1. **Numbered bold**",
    "   - Status: Open",
    "- **Status**: Open / In Progress / Resolved",
    "**Status**: ✅ **RESOLVED**",
    "**Severity**: 🟠",
    "**Priority**: 🟢 None",
    "**Date**: 2025-13-45",
    "**Tracking**: [Issue #001](x.md)",
    "状态：已解决",
    "Status: READY_FOR_AI",
    "| ID | Status | Description |",
    "| Problema | Causa raíz |",
    "|---|---|---|",
    "| SF-1 | Done | a — b |",
    "| **BUG-1** | Open |",
    "|",
    "```",
    "~~~verbatim",
    "```python",
    "---",
    '<!-- passmuster: {"title": 3} -->',
    "<!-- passmuster: {not json} -->",
    "- [x] done",
    "[Issue Title]",
    "YYYY-MM-DD",
    "‚úÖ mojibake",
    "🔴🟠🟡🟢⚪🔵✅🔄📋⚠️",
    "\u200d\ufe0f",
    "\t\t",
    "",
]
line = st.one_of(st.sampled_from(STRUCTURE), st.text(max_size=40))
document = st.lists(line, min_size=1, max_size=30).map("\n".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=document)
def test_any_markdown_reads_as_issues_and_notes_or_a_named_error(text: str) -> None:
    for family in ("auto", "sections", "single", "table"):
        try:
            log = read_text(text, "log.md", family=family)
        except ParseError as exc:
            assert exc.message
            continue
        for issue in log.issues:
            assert issue.line >= 1 and isinstance(issue.draft.title, str)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=document)
def test_any_markdown_as_a_draft_or_a_folder_file_is_read_or_refused_by_name(text: str) -> None:
    try:
        read_draft(text, "draft.md")
    except ParseError as exc:
        assert exc.path == "draft.md" or str(exc.path) == "draft.md"
    for index in (False, True):
        with contextlib.suppress(ParseError):
            read_text(text, "folder/README.md", folder=Folder(frozenset(), index=index))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.lists(
            st.one_of(
                st.sampled_from([s.encode() for s in STRUCTURE]),
                st.binary(max_size=20),
                st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\x00", b"\xef\xbb\xbf", b"\r\n"]),
            ),
            max_size=20,
        ).map(b"\n".join),
    )
)
def test_any_bytes_read_from_a_file_give_issues_or_a_named_error(
    data: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("bytes")
    path = folder / "log.md"
    path.write_bytes(data)
    try:
        read_file(path)
    except ParseError as exc:
        assert str(path) in str(exc.path)
