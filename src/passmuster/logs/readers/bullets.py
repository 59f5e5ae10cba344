"""Logs kept as a list: one top-level bullet per issue, its parts as labelled sub-bullets.

    ## Known issues and next fixes
    - Nights mismatch (profile says 12, results show 7)
      - Root cause: the provider falls back to 7 nights when no month is set
      - Fix plan: use the trip duration whenever it is known

The lists with labelled parts count as lists of issues when, taken together, at least two of
their items carry a sub-bullet labelled with an issue field (`Root cause:`, `Symptom:`, `Fix:`)
and most of their items carry labelled parts at all (`Plan:`, `Verify:` too). Other lists
(steps, changelogs, legends) stay text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from passmuster.core.issues import IssueDraft, Status
from passmuster.logs.builder import DraftBuilder
from passmuster.logs.headings import parse_heading
from passmuster.logs.model import LogNote, ParsedIssue, ParsedLog
from passmuster.logs.readers.sections import category_of
from passmuster.logs.titles import is_placeholder
from passmuster.logs.vocab import clean, field_for, words

_ITEM = re.compile(r"^(?:[-*+]\s+|\d{1,3}(?:[.)]\s+|[：:]\s*))(?P<text>\S.*)$")
_PART = re.compile(
    r"^\s{2,}[-*+]\s+(?:\*\*)?(?P<label>[^:：*`\[\]]{1,40}?)(?:\*\*)?\s*[:：]\s*(?:\*\*)?"
    r"\s*(?P<text>.*)$"
)
_SUB_ITEM = re.compile(r"^\s{2,}[-*+]\s+(?P<text>.*)$")
# `_PART` anywhere in a text: where it finds nothing, no line is a labelled part.
_ANY_PART = re.compile(_PART.pattern, re.MULTILINE)
# The same after a line break: a pattern that starts with a literal character is searched for
# far faster than one that starts with `^`.
_PART_AFTER_BREAK = re.compile("\n" + _PART.pattern[1:], re.MULTILINE)


def may_hold_lists(text: str) -> bool:
    """Whether a text has an indented bullet with a label at all: without one it holds no
    list of issues, and a log of 10,000 sections need not be walked line by line for one."""
    return _ANY_PART.match(text) is not None or _PART_AFTER_BREAK.search(text) is not None


@dataclass
class _Part:
    label: str | None  # None: a sub-bullet or line without a label
    text: str
    line: int


@dataclass
class _Item:
    line: int
    title: str
    parts: list[_Part] = field(default_factory=list)

    def labels(self) -> list[str]:
        return [p.label for p in self.parts if p.label is not None]


def read_bullet_issues(
    lines: list[str],
    inside: list[bool],
    log: ParsedLog,
    *,
    status_at: Callable[[int], str | None],
) -> list[int] | None:
    """Turn each list of issues into issues; the lines that were not such lists, or None when
    the log holds no list of issues. `status_at(line)` is the state the section holding that
    line states (`## Fixed`), for items that state none."""
    # Lists with labelled parts, judged together: a `## Fixed` list of one item is as much a
    # part of the log as the long list above it.
    lists = [(items, span) for items, span in _lists(lines, inside) if _labelled(items)]
    if not _lists_issues([item for items, _ in lists for item in items]):
        return None
    used: set[int] = set()
    for items, span in lists:
        used.update(span)
        for item in items:
            log.issues.append(_issue(item, log, status_at(item.line)))
    return [i for i in range(len(lines)) if i not in used]


def _lists(lines: list[str], inside: list[bool]) -> list[tuple[list[_Item], range]]:
    """Runs of top-level bullets (blank lines between them allowed) with their indented parts."""
    runs: list[tuple[list[_Item], range]] = []
    items: list[_Item] = []
    start = end = 0
    for i, line in enumerate(lines):
        if inside[i]:
            if items and (not line.strip() or line[:1].isspace()):
                end = i + 1  # a code block inside an item
                continue
            if items:
                runs.append((items, range(start, end)))
                items = []
            continue
        top = _ITEM.match(line)
        if top is not None:
            if not items:
                start = i
            items.append(_Item(i, _title(top.group("text"))))
            end = i + 1
            continue
        if not line.strip():
            continue
        if items and line[:1].isspace():
            _add_part(items[-1], line, i)
            end = i + 1
            continue
        if items:
            runs.append((items, range(start, end)))
            items = []
    if items:
        runs.append((items, range(start, end)))
    return runs


def _add_part(item: _Item, line: str, index: int) -> None:
    part = _PART.match(line)
    if part is not None and _is_label(part.group("label")):
        item.parts.append(_Part(part.group("label").strip(), part.group("text").strip(), index))
        return
    sub = _SUB_ITEM.match(line)
    text = (sub.group("text") if sub is not None else line).strip()
    if sub is None and item.parts:
        # A wrapped line continues the part above it.
        item.parts[-1].text = f"{item.parts[-1].text}\n{text}".strip()
        return
    item.parts.append(_Part(None, text, index))


def _is_label(label: str) -> bool:
    return field_for(label) is not None or clean(label) in words("item_part")


def _labelled(items: list[_Item]) -> bool:
    return any(item.labels() for item in items)


def _lists_issues(items: list[_Item]) -> bool:
    with_fields = sum(1 for item in items if any(field_for(lb) for lb in item.labels()))
    labelled = sum(1 for item in items if item.labels())
    return len(items) >= 2 and with_fields >= 2 and labelled * 2 >= len(items)


def _issue(item: _Item, log: ParsedLog, section_status: str | None) -> ParsedIssue:
    line = item.line + 1
    draft = IssueDraft(title=item.title or "(untitled)", source=log.source)
    builder = DraftBuilder(log, draft, line)
    builder.mark("title")
    loose: list[str] = []
    for part in item.parts:
        if part.label is None:
            loose.append(part.text)
            continue
        target = field_for(part.label)
        if target is None:
            builder.extra(part.label, part.text)
        else:
            builder.set_field(part.label, target, part.text, part.line + 1, subsection=False)
    if loose:
        text = "\n".join(f"- {text}" for text in loose)
        if builder.has("description"):
            builder.extra("Notes", text)
        else:
            builder.set_field("Description", "description", text, line, subsection=False)
    if section_status and not builder.has("status"):
        builder.set_field("section", "status", section_status, line, subsection=False)
    builder.finish()
    return ParsedIssue(draft=draft, line=line, filled=builder.filled, origin="list")


def _title(text: str) -> str:
    return text.replace("**", "").strip().rstrip(":：").strip()


_BOLD_LEAD = re.compile(r"^\*\*(?P<title>[^*]+?)\*\*\s*[:：—–-]\s*(?P<more>\S.*)$")

# `- [ ] Login shows two spinners`, `[x] Export drops a row` (the list marker left out).
_CHECK_ITEM = re.compile(r"^\s{0,3}(?:[-*+]\s+)?\[(?P<box>[ xX])\]\s+(?P<text>\S.*)$")
# `* ~~Export drops a row.~~`: an item struck through whole is done, as a ticked box is.
_STRUCK_ITEM = re.compile(r"^\s{0,3}[-*+]\s+~~(?P<text>[^~\s](?:[^~]*[^~\s])?)~~\s*$")
# `- keine`, `* None yet.`: an item saying the section holds nothing.
_PLAIN_ITEM = re.compile(r"^\s{0,3}[-*+]\s+(?P<text>\S.*)$")
_HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s")


def may_hold_checklists(text: str) -> bool:
    """Whether a text has a checkbox at all (a substring search, cheap on any log)."""
    return "[ ] " in text or "[x] " in text or "[X] " in text or "~~" in text


def _check_item(text: str) -> tuple[str, str] | None:
    """A checklist item's box and text: `- [x] Export drops a row`, or `- ~~Export drops a
    row~~` struck through whole (done, as a ticked box)."""
    m = _CHECK_ITEM.match(text)
    if m is not None:
        return m.group("box"), m.group("text")
    struck = _STRUCK_ITEM.match(text)
    return None if struck is None else ("x", struck.group("text"))


def _says_nothing(text: str) -> bool:
    """`- keine`, `* None yet.`: an item saying its section holds no issue."""
    m = _PLAIN_ITEM.match(text)
    return m is not None and clean(m.group("text").strip("*_")) in words("nothing")


def read_checklist_issues(
    lines: list[str],
    inside: list[bool],
    log: ParsedLog,
    sections: list[tuple[int, str, bool]],
    *,
    status_at: Callable[[int], str | None],
) -> tuple[ParsedLog, set[int]] | None:
    """A log whose issue sections are each only a checklist (`## Bugs` over `- [ ] …` lines)
    keeps one issue per item. `sections` are (heading line, 1-based; title; whether it was read
    as an issue): an issue section that says more than its checklist leaves the reading as it
    was (None); another section (`## P0`, read as a note) gives items only when it is a
    checklist too. The reading and the heading lines whose items it took. A ticked box is done;
    the section names the items' category; a fill-in item (`[ ] Bug XXXX`) stays a note."""
    listed = ParsedLog(path=log.path, family=log.family, source=log.source)
    taken: set[int] = set()
    for start, title, required in sections:
        items: list[tuple[int, tuple[str, str]]] = []
        fills: list[str] = []
        i = start  # the line after the heading
        checklist = True
        empty = False  # `- keine`: a section saying it holds nothing
        while i < len(lines) and not (_HEADING_LINE.match(lines[i]) and not inside[i]):
            text = lines[i]
            if text.strip():
                m = None if inside[i] else _check_item(text)
                if m is None and not inside[i] and _says_nothing(text):
                    empty = True
                elif m is None:
                    checklist = False  # the section says more than a checklist
                    break
                elif is_placeholder(m[1]):
                    fills.append(text.strip())
                else:
                    items.append((i, m))
            i += 1
        if checklist and empty and not items:
            taken.add(start)
            continue
        if not checklist or not items:
            if required:
                return None
            continue
        taken.add(start)
        heading = lines[start - 1]
        _, label, typ = category_of(_HEADING_LINE.sub("", heading).strip())
        for index, m in items:
            listed.issues.append(_checked(m, index + 1, listed, label, typ, status_at(index)))
        if fills:
            listed.notes.append(LogNote(log.path, start, title, "\n".join([heading, *fills])))
    if len(listed.issues) < 2 or len(listed.issues) <= len(log.issues):
        return None
    listed.issues.sort(key=lambda issue: issue.line)
    return listed, taken


def _checked(
    m: tuple[str, str],
    line: int,
    log: ParsedLog,
    label: str,
    typ: object,
    section_status: str | None,
) -> ParsedIssue:
    box, text = m[0], m[1].strip()
    # `**JWT auth missing**：any header passes`: the bold part titles the item, the rest says more.
    lead = _BOLD_LEAD.match(text)
    title, more = (lead.group("title"), lead.group("more")) if lead else (text, "")
    # `Task page ✅ 2026-05-07`: a state and its date after the title, as in a heading.
    heading = parse_heading(title)
    draft = IssueDraft(title=_title(heading.title) or _title(title), source=log.source)
    builder = DraftBuilder(log, draft, line)
    builder.mark("title")
    if more:
        builder.set_field("Description", "description", more, line, subsection=False)
    if heading.date_text and heading.status_text:
        builder.set_field("item", "resolved_at", heading.date_text, line, subsection=False)
    if section_status:
        builder.set_field("section", "status", section_status, line, subsection=False)
    builder.finish()
    if box != " ":
        draft.status = Status.RESOLVED
        draft.original_values["status"] = f"[{box}]"
    elif section_status is None:
        draft.original_values["status"] = "[ ]"
    if label and label not in draft.labels:
        draft.labels.append(label)
    if isinstance(typ, type(draft.type)):
        draft.type = typ
    return ParsedIssue(draft=draft, line=line, filled=builder.filled, origin="list")
