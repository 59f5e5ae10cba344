"""Logs with one section per issue: headings, bold paragraphs, category sections, single files.

Covers `## Issue #001 - Title` with bold field lines, `### ✅ **RESOLVED** - Issue #001: Title`,
`**Issue #004 - Title**` paragraphs, bullet fields, sections grouped under category headings
(`## 🐛 Bugs`), sections without IDs that carry issue fields (`### **1. HTTPStatus Import
Issues**` with `**Problem:**`), and one file per issue (`# Issue: Title`). Sections that describe
the log itself (format templates, statistics, workflows, matrices) become log notes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from passmuster.core.issues import ExtraSection, FileChange, IssueDraft, IssueType, Task
from passmuster.logs.body import match_field, split_body, trim_blank, unwrap_verbatim
from passmuster.logs.builder import DraftBuilder
from passmuster.logs.fields import FIELDS, Kind
from passmuster.logs.model import LogNote, ParsedIssue, ParsedLog
from passmuster.logs.outline import Heading, Node, Outline, parse_heading
from passmuster.logs.readers import tables
from passmuster.logs.vocab import (
    ANCHOR_FIELDS,
    clean,
    emoji_meaning,
    field_for,
    normalise_type,
    strip_emoji,
    word_pattern,
)


@functools.cache
def _doc_level() -> re.Pattern[str]:
    """Headings that name parts of the log rather than issues (`[word.note]`)."""
    return re.compile(word_pattern("note"), re.IGNORECASE)


_HEADING_STATUS = frozenset({"status", "severity", "priority"})


class SectionReader:
    family = "sections"

    def __init__(self, outline: Outline, log: ParsedLog, *, single: bool = False) -> None:
        self.o = outline
        self.log = log
        self.single = single

    # --- walking the outline ----------------------------------------------------------------

    def read(self) -> None:
        root = self.o.root
        if self.single:
            first = next(iter(root.children), None)
            if first is None:
                return
            self._note_lines("(preamble)", 0, root.body)
            self.issue(first, parse_heading(first.text), category=None)
            for sibling in root.children[1:]:
                self.note(sibling)
            return
        self._container_body(root, "(preamble)")
        for child in root.children:
            self.classify(child, category=None)

    def classify(self, node: Node, category: Node | None) -> None:
        heading = parse_heading(node.text)
        if heading.is_issue or self._looks_like_issue(node, heading.title):
            self.issue(node, heading, category)
            return
        if self._has_issue(node):
            self._container_body(node, heading.title)
            inner = node if node.level >= 2 else category
            for child in node.children:
                self.classify(child, inner)
            return
        self.note(node)

    def _looks_like_issue(self, node: Node, title: str) -> bool:
        """Issue fields under a heading without an ID; a top-level section named like a part of
        the log (Format, Statistics …) is never one, a deeper one only without issue fields."""
        targets = self._field_targets(node)
        anchors = targets & ANCHOR_FIELDS
        if _doc_level().search(strip_emoji(title)) and (node.level <= 2 or not anchors):
            return False
        return bool(anchors) and (len(anchors) >= 2 or bool(targets & _HEADING_STATUS))

    def _has_issue(self, node: Node) -> bool:
        for child in node.children:
            heading = parse_heading(child.text)
            if heading.is_issue or self._looks_like_issue(child, heading.title):
                return True
            if self._has_issue(child):
                return True
        return tables.has_issue_table(self.o.lines, self.o.inside_fence, node.body)

    def _field_targets(self, node: Node) -> set[str]:
        found: set[str] = set()
        for i in node.body:
            if self.o.inside_fence[i]:
                continue
            m = match_field(self.o.lines[i])
            if m is not None:
                target = field_for(m.name)
                if target is not None:
                    found.add(target)
        return found

    def _container_body(self, node: Node, title: str) -> None:
        """A container's own text (intro paragraphs, issue tables) around its issue sections."""
        rest = tables.read_tables(self.o.lines, self.o.inside_fence, node.body, self.log)
        if any(self.o.lines[i].strip() for i in rest):
            self._note_lines(title, node.line, rest)

    # --- notes ------------------------------------------------------------------------------

    def note(self, node: Node) -> None:
        title = strip_emoji(node.text.replace("**", "")).strip() or "(untitled)"
        lines = list(node.subtree_lines())
        self._note_lines(title, node.line, lines)

    def _note_lines(self, title: str, line: int, indices: list[int] | range) -> None:
        body = trim_blank("\n".join(self.o.lines[i] for i in indices))
        if body or line >= 0:
            self.log.notes.append(LogNote(self.log.path, max(line, 0) + 1, title, body))

    # --- issues -----------------------------------------------------------------------------

    def issue(self, node: Node, heading: Heading, category: Node | None) -> None:
        line_no = node.line + 1
        draft = IssueDraft(title=heading.title or "(untitled)", source=self.log.source)
        builder = DraftBuilder(self.log, draft, line_no)
        if heading.original_id:
            draft.original_id = heading.original_id
            builder.mark("original_id")
        builder.mark("title")
        if heading.status_text:
            text = heading.status_text
            meaning = emoji_meaning(text.strip())
            if meaning is not None and not clean(text):
                text = f"{text.strip()} {meaning}"
            builder.set_field("heading", "status", text, line_no, subsection=False)
        if category is not None:
            self._category(builder, category)

        # Bold-paragraph issues inside this one are issues of their own, not subsections.
        subsections: list[Node] = []
        nested: list[Node] = []
        for child in node.children:
            (nested if child.bold or parse_heading(child.text).is_issue else subsections).append(
                child
            )

        body = split_body(self.o.lines, self.o.inside_fence, node.body)
        meta = body.meta
        names = meta.get("extra_names")
        forced_extra = {str(n) for n in names} if isinstance(names, list) else set()
        for entry in body.entries:
            label = entry.name.rstrip(":：").strip()
            target = field_for(label)
            text = entry.text()
            if target is None or label in forced_extra:
                builder.extra(label, text)
            else:
                builder.set_field(label, target, text, entry.line + 1, subsection=False)
        for sub in subsections:
            name = strip_emoji(sub.text.replace("**", "").replace("__", "")).strip()
            name = name.rstrip(":：").strip() or "(untitled)"
            text = trim_blank("\n".join(self.o.lines[sub.line + 1 : sub.end + 1]))
            target = field_for(name)
            if target is None or name in forced_extra or target in ("status", "severity"):
                builder.extra(name, unwrap_verbatim(text))
            else:
                builder.set_field(name, target, text, sub.line + 1, subsection=True)
        for start, text in body.free:
            if not builder.has("description"):
                builder.set_field("Description", "description", text, start + 1, subsection=False)
            else:
                builder.extra("Notes", text)
        builder.finish()
        _apply_meta(draft, meta)
        number = meta.get("number")
        self.log.issues.append(
            ParsedIssue(
                draft=draft,
                line=line_no,
                filled=builder.filled,
                number=number if isinstance(number, int) else None,
            )
        )
        for child in nested:
            self.issue(child, parse_heading(child.text), category)

    def _category(self, builder: DraftBuilder, category: Node) -> None:
        name, label, typ = _category_of(category.text)
        if label and label not in builder.draft.labels:
            builder.draft.labels.append(label)
        if typ is not None:
            builder.draft.type = typ
            builder.draft.original_values["type"] = name
            builder.mark("type")


@functools.lru_cache(maxsize=256)
def _category_of(heading: str) -> tuple[str, str, IssueType | None]:
    """A category heading's name, its label (`critical-issues`) and the type it names, if any."""
    name = strip_emoji(heading.replace("**", "")).strip()
    label = re.sub(r"[^\w]+", "-", clean(name)).strip("-")
    return name, label, normalise_type(name)


def _apply_meta(draft: IssueDraft, meta: dict[str, object]) -> None:
    """What the writer could not show as Markdown without changing it, restored exactly."""
    for key, value in meta.items():
        if key in _META_FIELDS:
            try:
                setattr(draft, key, _META_FIELDS[key](value))
            except (TypeError, ValueError, KeyError, AttributeError):
                continue  # a hand-edited comment that no longer fits: the visible text counts


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _items(value: object) -> list[dict[str, object]]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return [dict(v) for v in value]


def _texts(value: object) -> list[str]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return [str(x) for x in value]


_META_BY_KIND: dict[Kind, Callable[[object], object]] = {
    Kind.TITLE: str,
    Kind.LINE: _text_or_none,
    Kind.TEXT: str,
    Kind.SERVICES: _texts,
    Kind.LABELS: _texts,
    Kind.ERRORS: _texts,
    Kind.TASKS: lambda v: [Task(str(i["text"]), bool(i["done"])) for i in _items(v)],
    Kind.FILES: lambda v: [FileChange(str(i["path"]), str(i["note"])) for i in _items(v)],
}
_META_FIELDS: dict[str, Callable[[object], object]] = {
    **{f.attr: _META_BY_KIND[f.kind] for f in FIELDS if f.kind in _META_BY_KIND},
    "original_values": lambda v: {str(k): str(x) for k, x in v.items()},  # type: ignore[attr-defined]
    "extra_sections": lambda v: [ExtraSection(str(i["name"]), str(i["body"])) for i in _items(v)],
}
