"""The outline of a log: headings and bold-paragraph issue starts as a tree of sections.

Lines inside code fences never become structure. A bold paragraph that names an issue
(`**Issue #004 - Title**`) opens a section half a level below the heading it sits under, so the
`### Description` that follows it belongs to it, and the next `## Issue` closes it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from passmuster.logs.text import find_fences, repair_mojibake
from passmuster.logs.vocab import (
    clean,
    emoji_meaning,
    normalise_status,
    strip_emoji,
    word_pattern,
    words,
)

HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)(?P<inner>[^*_].*?)(?:\*\*|__)\s*$")


# What follows a word naming an issue: `#001`, `-2026-03-08-001`, ` 12`, then `-`, `:` or the end.
_ISSUE_TAIL = re.compile(
    r"(?P<id>\s*#\s*[\w.-]*\d[\w.-]*|-\d{4}-\d{2}-\d{2}-\d+|[-\s]\d+\b)?"
    r"\s*(?P<sep>[-–—:：|]|$)\s*(?P<title>.*)$"
)


@functools.cache
def _issue_word() -> re.Pattern[str]:
    return re.compile(word_pattern("issue", "issue_with_id"), re.IGNORECASE)


# `#12 - Title`, `BUG-12: Title`, `[#12] Title`
_BARE_ID = re.compile(
    r"^\[?(?P<id>#\d+|[A-Z][A-Z0-9]{1,9}-\d+)\]?\s*(?:[-–—:：|]\s*|\s+)(?P<title>\S.*)$"
)
_SEPARATORS = " \t-–—:：|"

TRAILING_EMOJI = re.compile(
    "\\s*([\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff])"
    "[\ufe0e\ufe0f]?\\s*$"
)


@dataclass(frozen=True, slots=True)
class Heading:
    """What a heading says about an issue: ID, title, and a status written into it."""

    title: str
    original_id: str | None
    status_text: str | None
    is_issue: bool


def _strip_emphasis(text: str) -> str:
    return text.replace("**", "").replace("__", "").strip()


@functools.lru_cache(maxsize=8192)
def parse_heading(raw: str) -> Heading:
    """`✅ **RESOLVED** - Issue #001: Title` → Heading("Title", "#001", "✅ **RESOLVED**", True)."""
    text = _strip_emphasis(raw)
    for word in _issue_word().finditer(text):
        start, end = word.span()
        m = _ISSUE_TAIL.match(text, end)
        if m is None:
            continue
        keyword = text[start:end]
        pre = text[:start].strip(_SEPARATORS)
        ident = (m.group("id") or "").strip()
        title = m.group("title").strip()
        pre_ok = not pre or not clean(pre) or normalise_status(pre) is not None
        has_id = bool(ident)
        colon_form = (
            not has_id
            and m.group("sep") in (":", "：")
            and bool(title)
            and not pre
            and clean(keyword) in words("issue")
        )
        if pre_ok and (has_id or colon_form) and (title or has_id):
            if ident.startswith("#"):
                original_id: str | None = "#" + ident[1:].strip()
            elif ident:
                original_id = keyword + (m.group("id") or "").rstrip()
            else:
                original_id = None
            status = _raw_prefix(raw) if pre else None
            title, emoji_status = _split_trailing_emoji(title)
            return Heading(title or ident, original_id, status or emoji_status, True)
        break
    bare = _BARE_ID.match(text)
    if bare is not None:
        title, emoji_status = _split_trailing_emoji(bare.group("title").strip())
        return Heading(title, bare.group("id"), emoji_status, True)
    title, emoji_status = _split_trailing_emoji(text)
    title = re.sub(r"^\d+[.)]\s+", "", strip_emoji(title).strip()) if title else title
    return Heading(title.strip(), None, emoji_status, False)


def _raw_prefix(raw: str) -> str | None:
    """The status text before `Issue` in a heading, as written (emoji and emphasis kept)."""
    m = _issue_word().search(raw)
    if m is None:
        return None
    prefix = raw[: m.start()].rstrip().rstrip("-–—:|").rstrip()
    return prefix or None


def _split_trailing_emoji(title: str) -> tuple[str, str | None]:
    m = TRAILING_EMOJI.search(title)
    if m is None or emoji_meaning(m.group(1)) is None:
        return title, None
    return title[: m.start()].rstrip(), m.group(0).strip()


@dataclass(slots=True)
class Node:
    """A section: its heading line (or -1 for the whole file), its own lines and its children."""

    level: float
    line: int
    text: str
    bold: bool = False
    body: list[int] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    end: int = 0  # last line of the subtree, inclusive

    def subtree_lines(self) -> range:
        return range(self.line + 1, self.end + 1)


@dataclass(slots=True)
class Outline:
    lines: list[str]
    inside_fence: list[bool]
    root: Node
    unclosed_fences: list[int]
    repaired: int
    first_repaired: int = 0  # index of the first repaired line


def build_outline(text: str) -> Outline:
    """Split a log into lines and nest its sections; fences are resolved first."""
    repaired = repair_mojibake(text)
    lines = repaired.split("\n")
    changed = 0
    first = 0
    if repaired is not text:
        original = text.split("\n")
        differ = [i for i, (a, b) in enumerate(zip(original, lines, strict=False)) if a != b]
        changed = len(differ)
        first = differ[0] if differ else 0
    inside, fences = find_fences(lines)
    root = Node(level=0, line=-1, text="")
    stack = [root]
    previous = 0  # first line not yet given to a section
    for i in _candidates(repaired):
        if inside[i]:
            continue
        line = lines[i]
        node: Node | None = None
        if line.lstrip(" ").startswith("#"):
            m = HEADING.match(line)
            if m is not None:
                node = Node(level=len(m.group(1)), line=i, text=(m.group(2) or "").strip())
        else:
            b = BOLD_LINE.match(line)
            if b is not None and parse_heading(b.group("inner")).is_issue:
                # A sibling of an open bold issue; else half a level below the open section.
                bold_levels = [n.level for n in stack if n.bold]
                level = bold_levels[-1] if bold_levels else stack[-1].level + 0.5
                node = Node(level=level, line=i, text=b.group("inner").strip(), bold=True)
        if node is None:
            continue
        stack[-1].body.extend(range(previous, i))
        previous = i + 1
        while len(stack) > 1 and stack[-1].level >= node.level:
            stack.pop()
        stack[-1].children.append(node)
        stack.append(node)
    stack[-1].body.extend(range(previous, len(lines)))
    _close(root, len(lines) - 1)
    unclosed = [f.start for f in fences if not f.closed]
    return Outline(lines, inside, root, unclosed, changed, first)


# Lines that may open a section: ATX headings and lines wrapped in bold.
_CANDIDATE = re.compile(r"^(?: {0,3}#|[ \t]*(?:\*\*|__)[^\n]*(?:\*\*|__)[ \t]*$)", re.MULTILINE)


def _candidates(text: str) -> Iterator[int]:
    """Line numbers of candidate lines, found by one regex scan instead of a loop per line."""
    line = 0
    last = 0
    for m in _CANDIDATE.finditer(text):
        line += text.count("\n", last, m.start())
        last = m.start()
        yield line


def _close(node: Node, end: int) -> None:
    node.end = end
    for index, child in enumerate(node.children):
        child_end = node.children[index + 1].line - 1 if index + 1 < len(node.children) else end
        _close(child, child_end)
