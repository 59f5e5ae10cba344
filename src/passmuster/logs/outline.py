"""The outline of a log: headings and the lines that open issues inside text, as a tree.

Lines inside code fences never become structure. Besides headings, three kinds of line open a
section: a bold paragraph that names an issue (`**Issue #004 - Title**`), a bold title with
field lines under it (`**Login fails**` then `**Status**: Open`), and a numbered bold item
(`1. **Title**`). Such a section sits half a level below the heading it follows, so the
`### Description` after it belongs to it and the next `## Issue` closes it; whether it is an
issue is for the readers to decide.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from passmuster.logs.body import match_field
from passmuster.logs.headings import parse_heading
from passmuster.logs.text import find_fences, may_hold_mojibake, repair_mojibake
from passmuster.logs.titles import is_section_title, section_meaning
from passmuster.logs.vocab import field_for

HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")


def heading_parts(line: str) -> tuple[int, str | None] | None:
    """What `HEADING.match(line)` gives, as (level, text): its first group's length and its
    second group. The same answer without the regex, whose lazy text group retries the tail at
    every character of a long heading; a line break in `line` leaves it to the regex."""
    if "\n" in line:
        m = HEADING.match(line)
        return None if m is None else (len(m.group(1)), m.group(2))
    start = len(line) - len(line.lstrip(" "))
    if start > 3:
        return None
    rest = line[start:].lstrip("#")
    level = len(line) - start - len(rest)
    if not 1 <= level <= 6:
        return None
    if not rest:
        return level, None
    if rest[0] not in " \t":
        return None
    text = rest.strip(" \t")
    # A closing sequence (blanks, then #s, then blanks) is not part of the text.
    bare = text.rstrip("#")
    if bare != text and bare[-1:] in (" ", "\t"):
        return level, bare.rstrip(" \t")
    return level, text


BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)(?P<inner>[^*_].*?)(?:\*\*|__)\s*$")
# `1. **Title**` alone on its line: an item of a numbered list of issues, or of steps.
NUMBERED_BOLD = re.compile(
    r"^ {0,3}\d{1,3}[.)][ \t]+(?:\*\*|__)(?P<inner>[^*_].*?)(?:\*\*|__)[ \t]*$"
)


def _is_label(inner: str) -> bool:
    """`**Root Cause:**`, `**Description**`: a field's name in bold, not a title."""
    text = inner.strip()
    return text.endswith((":", "：")) or field_for(text) is not None


def inline_start(lines: list[str], inside: list[bool], i: int) -> str | None:
    """The section a line inside text opens: "bold" (a bold paragraph naming an issue, or a
    bold title with field lines under it), "item" (`1. **Title**`), or None."""
    line = lines[i]
    item = NUMBERED_BOLD.match(line)
    if item is not None:
        if _is_label(item.group("inner")) or _under_part_label(lines, inside, i):
            return None
        return "item"
    bold = BOLD_LINE.match(line)
    if bold is None or match_field(line) is not None:
        return None  # `**Status**: **RESOLVED**` is a field line, whatever its value
    if _inside_item(lines, inside, i):
        return None  # `- **Original Problem**:` over `  **Defect 1 — …**`: the item's text
    inner = bold.group("inner")
    if parse_heading(inner).is_issue:
        return "bold"
    if _is_label(inner):
        return None
    for j in range(i + 1, min(i + 3, len(lines))):
        if inside[j] or not lines[j].strip():
            continue
        found = match_field(lines[j])
        return "bold" if found is not None and field_for(found.name) is not None else None
    return None


_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s")


def _under_part_label(lines: list[str], inside: list[bool], i: int) -> bool:
    """Whether the list holding line `i` follows a bold label naming a part of an issue
    (`**Root cause**:`, `**真实原因**:` over `1. **…**` items): the items are that part's text."""
    for j in range(i - 1, max(-1, i - 200), -1):
        above = lines[j]
        if inside[j] or not above.strip() or above[:1].isspace() or _LIST_ITEM.match(above):
            continue
        bold = BOLD_LINE.match(above.rstrip().rstrip(":：").rstrip())
        label = bold.group("inner").strip().rstrip(":：").strip() if bold is not None else ""
        # `**Issues found:**` over its items names a list of issues, not a part of one.
        return bool(label) and is_section_title(label) and section_meaning(label) is None
    return False


def _inside_item(lines: list[str], inside: list[bool], i: int) -> bool:
    """Whether an indented line continues a list item above it (its text, not a title)."""
    line = lines[i]
    indent = len(line) - len(line.lstrip(" \t"))
    if indent < 2:
        return False
    for j in range(i - 1, max(-1, i - 200), -1):
        above = lines[j]
        if inside[j] or not above.strip():
            continue
        if len(above) - len(above.lstrip(" \t")) < indent:
            return _LIST_ITEM.match(above) is not None
    return False


@dataclass(slots=True, eq=False)  # a node is itself: compared and hashed by identity
class Node:
    """A section: its heading line (or -1 for the whole file), its own lines and its children."""

    level: float
    line: int
    text: str
    kind: str = "heading"  # or "bold" (a bold paragraph) or "item" (`1. **Title**`)
    # Its own lines: those from its heading to its first child, so always one run of lines.
    body: range = range(0)
    children: list[Node] = field(default_factory=list)
    end: int = 0  # last line of the subtree, inclusive

    def subtree_lines(self) -> range:
        return range(self.line + 1, self.end + 1)

    @property
    def inline(self) -> bool:
        """Opened by a line of text (bold paragraph, numbered bold item), not by a heading."""
        return self.kind != "heading"


@dataclass(slots=True)
class Outline:
    lines: list[str]
    inside_fence: list[bool]
    root: Node
    unclosed_fences: list[int]
    repaired: int
    first_repaired: int = 0  # index of the first repaired line
    text: str = ""  # the lines joined: the text after mojibake repair


def build_outline(text: str) -> Outline:
    """Split a log into lines and nest its sections; fences are resolved first."""
    lines = text.split("\n")
    repaired = text
    changed = 0
    first = 0
    # A mojibake pair never spans a line break, so looking line by line finds what a search of
    # the text would; the rare log with one is repaired and split again.
    if may_hold_mojibake(lines):
        repaired = repair_mojibake(text)
        original, lines = lines, repaired.split("\n")
        differ = [i for i, (a, b) in enumerate(zip(original, lines, strict=False)) if a != b]
        changed = len(differ)
        first = differ[0] if differ else 0
    inside, unclosed = find_fences(lines)
    root = Node(level=0, line=-1, text="")
    stack = [root]
    previous = 0  # first line not yet given to a section
    candidates = [i for i in _candidates(repaired) if not inside[i]]
    headings: list[tuple[int, int, str]] = []  # (line, level, text) of every heading, in order
    found: dict[int, tuple[int, str] | None] = {}  # a candidate's heading, None if not one
    for i in candidates:
        line = lines[i]
        if line.lstrip(" ").startswith("#"):
            parts = heading_parts(line)
            if parts is None:
                found[i] = None
            else:
                heading = found[i] = (parts[0], (parts[1] or "").strip())
                headings.append((i, *heading))
    for i in candidates:
        node: Node | None = None
        if i in found:
            made = found[i]
            if made is not None:
                node = Node(made[0], i, made[1])
        else:
            kind = inline_start(lines, inside, i)
            if kind is not None:
                line = lines[i]
                m = NUMBERED_BOLD.match(line) or BOLD_LINE.match(line)
                assert m is not None
                level = _inline_level(stack, kind, _next_levels(headings, i))
                node = Node(level, i, m.group("inner").strip(), kind)
        if node is None:
            continue
        stack[-1].body = range(previous, i)  # the top of the stack takes no more lines after
        previous = i + 1
        level = node.level
        while len(stack) > 1 and stack[-1].level >= level:
            # A section closed by this line ends before it: before its next sibling, or where
            # its parent, closed too, ends.
            stack.pop().end = i - 1
        stack[-1].children.append(node)
        stack.append(node)
    stack[-1].body = range(previous, len(lines))
    for still_open in stack:  # the sections still open run to the end of the file
        still_open.end = len(lines) - 1
    return Outline(lines, inside, root, unclosed, changed, first, repaired)


def _next_levels(headings: list[tuple[int, int, str]], line: int) -> Iterator[tuple[int, str]]:
    """The (level, text) of the headings after `line`, in order."""
    start = bisect.bisect_left(headings, (line + 1, 0, ""))
    return ((level, text) for _, level, text in headings[start:])


def _inline_level(stack: list[Node], kind: str, later: Iterator[tuple[int, str]]) -> float:
    """Where a bold paragraph or numbered bold item sits in the tree.

    A sibling of an open one of its kind; a bold issue right under the issue heading it follows,
    even after that issue's `###` subsections (it is an issue of its own, not part of the last
    subsection) — unless that issue's subsections go on after it (`#### Technical Details`,
    bold `**Issue 1: …**` items, then `#### Related Files`): then it is part of the subsection.
    Anything else sits half a level below the open section.
    """
    for node in reversed(stack):
        if node.kind == kind:
            return node.level
    if kind == "bold":
        for node in reversed(stack[1:]):
            if node.kind == "heading" and parse_heading(node.text).is_issue:
                top = stack[-1]
                if top is not node and _resumes(later, node.level, top.level):
                    break
                return node.level + 0.5
    return stack[-1].level + 0.5


def _resumes(later: Iterator[tuple[int, str]], issue: float, section: float) -> bool:
    """Whether, before the next heading at the issue's level, a heading naming another part
    of the issue (`#### Related Files`) follows at the subsection's level: the parts go on."""
    for level, text in later:
        if level <= issue:
            return False
        if level <= section:
            return is_section_title(parse_heading(text).title)
    return False


# Lines that may open a section: ATX headings, lines wrapped in bold, `1. **Title**` items.
_CANDIDATE = re.compile(
    r"^(?: {0,3}#|[ \t]*(?:\*\*|__)[^\n]*(?:\*\*|__)[ \t]*$|"
    r" {0,3}\d{1,3}[.)][ \t]+(?:\*\*|__)[^\n]*(?:\*\*|__)[ \t]*$)",
    re.MULTILINE,
)


# The same lines found faster, by what is literal in them: a heading by the line break and `#`
# before it, a bold line by the `**` or `__` that ends it (the full pattern then decides). A
# search for a literal runs far faster than a pattern that starts with `^`, and one for bold
# lines from their start would scan every `**Field**:` line to its end and back.
_HEADING_AFTER_BREAK = re.compile(r"\n {0,3}#")
_BOLD_ENDS = (re.compile(r"\*\*[ \t]*$", re.MULTILINE), re.compile(r"__[ \t]*$", re.MULTILINE))


def _candidates(text: str) -> list[int]:
    """Line numbers of candidate lines, in order, found by regex scans instead of a loop per
    line."""
    starts = {m.start() + 1 for m in _HEADING_AFTER_BREAK.finditer(text)}
    for ending in _BOLD_ENDS:
        for m in ending.finditer(text):
            start = text.rfind("\n", 0, m.start()) + 1
            if start not in starts and _CANDIDATE.match(text, start):
                starts.add(start)
    found = [0] if _CANDIDATE.match(text) else []
    line = 0
    last = 0
    for start in sorted(starts):
        if start == 0:
            continue  # the first line, looked at above
        line += text.count("\n", last, start)
        last = start
        found.append(line)
    return found
