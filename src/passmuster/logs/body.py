"""The line grammar of an issue's body: field lines, entries, paragraphs, fences and lists.

Shared by every reader. A field line is `**Name**: value`, `**Name:** value`, `- **Name**: value`,
`✅ **Name**: value` or, for names the tables know, `Name: value` and `名称：值`. A field with no
value on its line takes the lines below it (lists, fences, paragraphs) up to the next field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from passmuster.core.issues import FileChange, Link, LinkKind, Task
from passmuster.errors import InvalidValue
from passmuster.logs.text import FENCE
from passmuster.logs.vocab import field_for

FIELD_LINE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<bullet>[-*+][ \t]+)?"
    r"(?P<emo>(?:[^\w\s*_`\[\]()#>|<][\ufe0f]?[ \t]*){0,3})"
    r"(?:\*\*|__)(?P<name>[^*_\n]{1,80}?)[ \t]*(?P<c1>[:：])?[ \t]*(?:\*\*|__)[ \t]*(?P<c2>[:：])?"
    r"[ \t]*(?P<value>.*?)[ \t]*$"
)
PLAIN_FIELD = re.compile(
    r"^(?P<indent>[ \t]*)(?P<bullet>[-*+][ \t]+)?"
    r"(?P<name>[^\W\d_][\w ()（）/'’-]{0,40}?)[ \t]*[:：][ \t]*(?P<value>.*?)[ \t]*$"
)
# The value is taken greedily and its trailing blanks stripped in match_field: a lazy `(.*?)`
# before `[ \t]*$` retries the tail at every character of a long value.
SIMPLE_FIELD = re.compile(r"\*\*([^*_\n]{1,80}?)[ \t]*([:：])?[ \t]*\*\*[ \t]*([:：])?[ \t]*(.*)")
# The same line with the name, blanks and colon before the closing `**` taken as one region.
SIMPLE_REGION = re.compile(r"\*\*([^*_\n]+)\*\*[ \t]*([:：])?[ \t]*(.*)")
RULE = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$")
META = re.compile(r"^<!-- passmuster: (?P<json>\{.*\}) -->[ \t]*$")
TASK = re.compile(r"^[ \t]*[-*+][ \t]+\[(?P<mark>[ xX✓✔])\][ \t]?(?P<text>.*)$")
BULLET = re.compile(r"^[-*+][ \t]+(?P<text>.*)$")
VERBATIM_INFO = "verbatim"


@dataclass(slots=True)
class FieldMatch:
    name: str
    value: str
    indent: int
    is_item: bool


def _simple_field(line: str) -> tuple[str, str | None, str | None, str] | None:
    """What `SIMPLE_FIELD.match(line).groups()` gives (name, colon inside, colon after, value),
    or None. SIMPLE_FIELD's lazy name retries the rest of the pattern at every character of the
    name (a third of the time of splitting a body); `SIMPLE_REGION` takes the whole name region
    at once, and its end is cut here as the lazy group would: the shortest name (one character
    at least, at most 80) that leaves only blanks and one colon before the closing `**`.
    """
    m = SIMPLE_REGION.match(line)
    if m is None:
        return None
    region, colon, value = m.groups()
    if region[-1] not in _NAME_TAIL:
        return (region, None, colon, value) if len(region) <= 80 else None
    bare = region.rstrip(" \t")
    if bare[-1:] in (":", "："):
        bare = bare[:-1].rstrip(" \t")
    size = max(len(bare), 1)
    if size > 80:
        return None
    rest = region[size:]
    inside = ":" if ":" in rest else "：" if "：" in rest else None
    return region[:size], inside, colon, value


# What may stand between a field's name and its closing `**`.
_NAME_TAIL = frozenset(" \t:：")
# `**Name**: value`, the usual field line: `SIMPLE_REGION` with a region that ends in none of
# `_NAME_TAIL` (so it is the name, as `_simple_field` cuts it) and a colon after the `**`.
_COMMON_FIELD = re.compile(r"\*\*([^*_\n]*[^*_\n \t:：])\*\*[ \t]*[:：][ \t]*(.*)")


def match_field(line: str) -> FieldMatch | None:
    """The field a line starts, or None. Plain `Name: value` counts only for known names."""
    found = field_parts(line)
    return None if found is None else FieldMatch(*found)


def field_parts(line: str) -> tuple[str, str, int, bool] | None:
    """`match_field` as a tuple (name, value, indent, is_item): what `split_body` asks of every
    line with a colon, without an object per field line."""
    if line.startswith("**"):
        # The common case, without the bullet/emoji prefix the full pattern allows.
        common = _COMMON_FIELD.match(line)
        if common is not None:
            name, value = common.groups()
            if len(name) <= 80:
                return name.strip(), value.rstrip(" \t"), 0, False
        else:
            s = _simple_field(line)
            if s is not None:
                name, c1, c2, value = s
                if c1 or c2:
                    return name.strip(), value.rstrip(" \t"), 0, False
    if "**" in line or "__" in line:
        m = FIELD_LINE.match(line)
        if m is not None and (m.group("c1") or m.group("c2")):
            return (
                m.group("name").strip(),
                m.group("value"),
                len(m.group("indent").expandtabs(4)),
                bool(m.group("bullet")),
            )
    colon = line.find(":")
    if colon < 0 or colon > 48:
        colon = line.find("：")
    if 0 < colon <= 48:
        p = PLAIN_FIELD.match(line)
        if p is not None and field_for(p.group("name")) is not None:
            indent = len(p.group("indent").expandtabs(4))
            return p.group("name").strip(), p.group("value"), indent, bool(p.group("bullet"))
    return None


@dataclass(slots=True)
class Entry:
    name: str
    line: int
    value: str
    indent: int
    multi: bool
    item: bool = False  # written as a list item: `- **Status**: Open`
    more: list[str] = field(default_factory=list)

    joined: str | None = None  # text(), once the body is split

    def text(self) -> str:
        if not self.more:
            return self.value
        if self.joined is not None:
            return self.joined
        more = trim_blank("\n".join(map(str.rstrip, self.more)))
        if self.value:
            # The value on the field's own line is kept even when it reads like a rule (`---`).
            self.joined = f"{self.value}\n{more}" if more else self.value
        else:
            self.joined = more
        return self.joined


def trim_blank(text: str) -> str:
    """Drop leading and trailing blank lines (and trailing separators); keep inner text as is."""
    first = text.find("\n")
    if first < 0:  # one line
        return text if text.strip() and not _is_rule(text) else ""
    last = text[text.rfind("\n") + 1 :]
    if text[:first].strip() and last.strip() and not _is_rule(last):
        return text  # nothing to drop: the usual case
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and (not lines[-1].strip() or RULE.match(lines[-1])):
        lines.pop()
    return "\n".join(lines)


def _is_rule(line: str) -> bool:
    """`RULE.match(line)`, tried only on a line whose first non-blank character can start one."""
    head = line.lstrip(" \t")[:1]
    return head != "" and head in "-*_" and RULE.match(line) is not None


_LIST_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d{1,3}[.)])[ \t]")


def _ends_item(line: str, indent: int) -> bool:
    """A list item at the same depth as a field's own item, or shallower, ends its value."""
    m = _LIST_ITEM.match(line)
    return m is not None and len(m.group("indent").expandtabs(4)) <= indent


@dataclass(slots=True)
class Body:
    """An issue's own lines split into field entries, free paragraphs and its metadata."""

    entries: list[Entry] = field(default_factory=list)
    free: list[tuple[int, str]] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)


def split_body(lines: list[str], inside: list[bool], indices: Sequence[int]) -> Body:
    """Split a section's own lines (`indices`, in order) into field entries and paragraphs.

    One loop over the lines with the cheapest test first: this runs on every line of every
    issue, so a fenced line or a line without a colon is settled before any regex is tried.
    """
    body = Body()
    entries = body.entries
    cur: Entry | None = None
    para: list[str] = []
    para_start = 0
    for i in indices:
        line = lines[i]
        if inside[i]:
            if cur is not None:
                cur.more.append(line)  # a fence belongs to the field above it
                continue
        else:
            if line.startswith("<!-- passmuster"):
                meta = META.match(line)
                if meta is not None:
                    try:
                        loaded = json.loads(meta.group("json"))
                    except ValueError:
                        loaded = None
                    if isinstance(loaded, dict):
                        body.meta.update(loaded)
                        continue
            # Every field line has a colon: most other lines need no closer look.
            fm = field_parts(line) if ":" in line or "：" in line else None
            if fm is not None:
                name, value, indent, is_item = fm
                if not (
                    cur is not None
                    and cur.multi
                    and ((is_item and field_for(name) is None) or indent > cur.indent)
                ):
                    if para:
                        _flush_para(body, para_start, para)
                        para = []
                    cur = Entry(name, i, value, indent, not value, is_item)
                    entries.append(cur)
                    continue
            if cur is not None and cur.item and _ends_item(line, cur.indent):
                cur = None  # `- **Status**: Open` then `- Next point`: the value ends here
            if line[:3] in _RULE_STARTS and RULE.match(line):
                if para:
                    _flush_para(body, para_start, para)
                    para = []
                cur = None
                continue
            if cur is not None:
                # A field written on its own line runs to the next field; one with a value on
                # its line runs on through the lines right below it, up to a blank line.
                if cur.multi or line.strip():
                    cur.more.append(line)
                else:
                    cur = None
                continue
        if not para:
            if not line.strip():
                continue
            para_start = i
        para.append(line)
    if para:
        _flush_para(body, para_start, para)
    return body


# What a thematic break (`RULE`) starts with when it starts in the first column.
_RULE_STARTS = frozenset({"---", "***", "___"})


def _flush_para(body: Body, start: int, para: list[str]) -> None:
    text = trim_blank("\n".join(para))
    if text:
        body.free.append((start, text))


def fence_blocks(text: str) -> list[str] | None:
    """The contents of the fences a text consists of, or None if it has anything else."""
    lines = text.split("\n")
    blocks: list[str] = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        m = FENCE.match(lines[i])
        if m is None:
            return None
        char, size = m.group(2)[0], len(m.group(2))
        indent = len(m.group(1))
        run = char * 3  # in every line that can close this fence
        j = i + 1
        while j < len(lines):
            c = FENCE.match(lines[j]) if run in lines[j] else None
            if (
                c is not None
                and c.group(2)[0] == char
                and len(c.group(2)) >= size
                and not c.group(3).strip()
            ):
                break
            j += 1
        if j >= len(lines):
            return None
        content = lines[i + 1 : j]
        if indent:
            content = [line[indent:] if line[:indent].isspace() else line for line in content]
        blocks.append("\n".join(content))
        i = j + 1
    return blocks


def unwrap_verbatim(text: str) -> str:
    """A body the writer fenced as `~~~verbatim` because it looked like structure, unfenced."""
    lines = text.split("\n")
    if len(lines) >= 2 and lines[0].startswith("~~~") and lines[0].lstrip("~") == VERBATIM_INFO:
        fence = lines[0][: len(lines[0]) - len(VERBATIM_INFO)]
        if lines[-1] == fence:
            return "\n".join(lines[1:-1])
    return text


def parse_tasks(text: str) -> list[Task] | None:
    tasks: list[Task] = []
    for line in text.split("\n"):
        if not line or line.isspace():
            continue
        m = TASK.match(line)
        if m is None:
            return None
        mark, task = m.groups()
        tasks.append(Task(task.rstrip(), mark != " "))
    return tasks


def parse_files(text: str) -> list[FileChange] | None:
    """`- \\`path\\` - note` items; None if the text is anything but such a list."""
    files: list[FileChange] = []
    for line in text.split("\n"):
        if not line or line.isspace():
            continue
        bare = line.rstrip()
        quoted = _QUOTED_FILE.match(bare)
        if quoted is not None:
            path, note = quoted.groups()
            note = note.strip()
            if note[:2] in _NOTE_SEPARATORS:
                note = note[2:].strip()
            files.append(FileChange(path, note))
            continue
        m = BULLET.match(bare)
        if m is None:
            return None
        item = m.group("text")
        if item.startswith("`"):
            return None  # an empty path (``) or one never closed: `_QUOTED_FILE` takes the rest
        path, _, note = item.partition(" - ")
        files.append(FileChange(path=path.strip(), note=note.strip()))
    return files


# `- \`path\` note`: a BULLET item whose text starts with a path in backticks (one character at
# least), then the rest of the line.
_QUOTED_FILE = re.compile(r"[-*+][ \t]+`([^`]+)`(.*)")
# What may stand between a file's path and its note: `- `, `– `, `— `, `: ` (two characters each).
_NOTE_SEPARATORS = frozenset({"- ", "– ", "— ", ": "})


def split_names(raw: str) -> list[str]:
    return [part for part in map(str.strip, _NAME_SEPARATORS.split(raw)) if part]


_NAME_SEPARATORS = re.compile(r"[,;，；、]")


def parse_links(raw: str) -> list[Link] | None:
    links: list[Link] = []
    for part in split_names(raw):
        m = re.match(r"^(?P<kind>[a-z _-]+?)\s*#0*(?P<n>\d+)$", part.strip(), re.IGNORECASE)
        if m is None:
            return None
        try:
            kind = LinkKind.parse(m.group("kind"))
        except InvalidValue:
            return None
        links.append(Link(kind=kind, target=int(m.group("n"))))
    return links
