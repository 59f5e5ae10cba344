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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from passmuster.core.issues import ExtraSection, FileChange, IssueDraft, IssueType, Task
from passmuster.logs.body import RULE, Body, split_body, trim_blank, unwrap_verbatim
from passmuster.logs.builder import DraftBuilder
from passmuster.logs.fields import ANCHOR_FIELDS, FIELDS, Kind, normaliser
from passmuster.logs.headings import COLOUR_MARKERS, Heading, parse_heading
from passmuster.logs.model import LogNote, ParsedIssue, ParsedLog
from passmuster.logs.outline import Node, Outline
from passmuster.logs.readers import tables
from passmuster.logs.titles import (
    enumerates,
    has_placeholder,
    is_note_title,
    is_placeholder,
    is_section_title,
    names_a_part,
    section_field,
    section_meaning,
)
from passmuster.logs.vocab import (
    clean,
    emoji_meaning,
    field_for,
    normalise_severity,
    normalise_status,
    normalise_type,
    state_of_all,
    strip_emoji,
)

# How sure the reader is that a section is an issue.
NONE, WEAK, STRONG, DECISIVE = range(4)
_STATUSY = frozenset({"status", "severity", "priority"})


@dataclass(frozen=True, slots=True)
class Context:
    """What the sections above say about the ones below.

    `category` labels them (`## 🐛 Bugs`); `status` and `severity` are defaults from a state or
    severity section (`## Résolus`, `## 🔴 Critical`); `group` says the section right above
    names a list of issues, so its parts with any content are issues; `document` says the log's
    own title or file name does (`Known Issues`, `已知问题.md`), which counts only where nothing
    in the log shows a sharper mark; `strict` says the section above is a part of the log
    (`## Issue Categories`), where only sections with issue fields are issues.
    """

    category: Node | None = None
    status: str | None = None
    severity: str | None = None
    group: bool = False
    document: bool = False
    strict: bool = False


@dataclass(frozen=True, slots=True)
class Evidence:
    level: int
    group_only: bool = False  # weak only because a section above names a list of issues


# Each verdict made once: a frozen value that every section can share.
_NO_MARK = Evidence(NONE)
_WEAK_MARK = Evidence(WEAK)
_STRONG_MARK = Evidence(STRONG)
_DECISIVE_MARK = Evidence(DECISIVE)
_CONTENT_ONLY = Evidence(NONE, group_only=True)  # content, but no mark of an issue
_GROUP_ONLY = Evidence(WEAK, group_only=True)


@dataclass(frozen=True, slots=True)
class Siblings:
    """What a section's siblings share: numbering, and (for unknown languages) field names."""

    numbered: frozenset[str] = frozenset()  # kinds of node numbered at least twice here
    shaped: frozenset[int] = frozenset()  # lines of sections written like a sibling


# A heading that opens with a day: `2026-03-13: …`, `2026/03/13 — …`.
# A list item naming only issue IDs after its label: `- **@backend-dev**: MEDIUM-001, LOW-001`.
_REF_ID = r"[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*[-_][A-Z]{0,3}\d+"
_REFERENCES = re.compile(
    rf"^\s*(?:[-*+]|\d{{1,3}}[.)])\s+[^:：]{{1,60}}[:：]\**\s*{_REF_ID}(?:\s*(?:[,，、/&]|and|~)\s*{_REF_ID})*\s*$"
)
_DATED = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b")


class SectionReader:
    family = "sections"

    def __init__(
        self,
        outline: Outline,
        log: ParsedLog,
        *,
        single: bool = False,
        title_hint: str = "",
        by_shape: bool = False,
        index: bool = False,
    ) -> None:
        self.o = outline
        self.log = log
        self.single = single
        # The file's name (`KNOWN_ISSUES.md`, `트러블슈팅.md`) speaks for a log without an H1.
        self.title_hint = title_hint
        # Second reading of a log whose words the vocabulary does not know: sections written
        # alike (the same field names) are issues.
        self.by_shape = by_shape
        # A folder's index describes the folder: its title says nothing of its sections.
        self.index = index
        self.colours = colour_meaning(outline)
        self._headings: dict[int, Heading] = {}
        self._bodies: dict[int, Body] = {}
        self._own_of: dict[int, Evidence] = {}
        self._fields_of: dict[int, list[tuple[str, str]]] = {}
        # By context, then by line: a Context hashes in Python code, so once per question.
        self._evidence_of: dict[Context, dict[int, Evidence]] = {}
        self._siblings_of: dict[int, Siblings] = {}
        self._sharp_children: dict[tuple[int, Context], int] = {}
        self._sharp: bool | None = None

    # --- walking the outline ----------------------------------------------------------------

    def read(self) -> None:
        root = self.o.root
        if self.single:
            self._read_single()
            return
        titles = [c.text for c in root.children if c.level == 1][:1] or [self.title_hint]
        meaning = section_meaning(parse_heading(titles[0]).title) if titles[0] else None
        self._container(root, "(preamble)", Context(document=bool(meaning and meaning.group)))

    def _read_single(self) -> None:
        """One file, one issue: its first heading (or the file) is the issue, the rest its parts."""
        root = self.o.root
        first = next(iter(root.children), None)
        if first is not None and (
            has_placeholder(self._heading(first).title) or self._all_placeholders(first)
        ):
            # `# [Issue Title]` with `- Date: YYYY-MM-DD`: a template, all of it a note.
            for child in root.children:
                self.note(child)
            return
        if first is None or (is_section_title(self._heading(first).title) and self.title_hint):
            self._whole_file_issue()
            return
        self.issue(first, self._heading(first), Context(), preamble=root.body)
        for sibling in root.children[1:]:
            self.note(sibling)

    def _whole_file_issue(self) -> None:
        """A file whose first heading is a section (`## Objective`): the file is the issue."""
        root = self.o.root
        whole = Node(level=0, line=-1, text="", children=list(root.children), body=root.body)
        whole.end = len(self.o.lines) - 1
        # `002-stale-config` → `Stale config`: the file's name without its number.
        title = re.sub(r"[-_]+", " ", re.sub(r"^\d+[-_. ]+", "", self.title_hint)).strip()
        heading = Heading(title[:1].upper() + title[1:] or "(untitled)", None, None, False)
        self.issue(whole, heading, Context())

    def _container(self, node: Node, title: str, context: Context) -> None:
        """A section that holds issues: its own text is a note (issue tables read), its
        children are classified in turn."""
        self._container_body(node, title, context)
        children = []
        for child in node.children:
            if self._carries_notes(child):
                self._carried_notes(child)
            else:
                children.append(child)
        found = [self.evidence_in(child, node, context) for child in children]
        # Sections beside lists of issues (`## 🔴 Critical` › issues, `## ✅ Fixed` with none
        # yet) are lists too: one without issue fields of its own is not an issue.
        lists = any(
            e.level < STRONG
            and self._holds_issues(c, self._inner_context(c, self._heading(c), context, e))
            for c, e in zip(children, found, strict=True)
        )
        for child, evidence in zip(children, found, strict=True):
            self.classify(child, context, evidence, beside_lists=lists)

    def classify(
        self, node: Node, context: Context, evidence: Evidence, *, beside_lists: bool = False
    ) -> None:
        heading = self._heading(node)
        if evidence.level == DECISIVE:
            self.issue(node, heading, context)
            return
        inner = self._inner_context(node, heading, context, evidence)
        if evidence.level == STRONG and self._strong_children(node, inner) < 2:
            self.issue(node, heading, context)
            return
        if self._holds_issues(node, inner):
            self._container(node, heading.title, inner)
            return
        if evidence.level >= WEAK and not beside_lists:
            self.issue(node, heading, context)
            return
        self.note(node)

    def _inner_context(
        self, node: Node, heading: Heading, context: Context, evidence: Evidence
    ) -> Context:
        """The context a section gives the sections inside it."""
        category = node if node.level >= 2 else context.category
        if node.level >= 2 and is_note_title(heading.title):
            return Context(category, strict=True)
        if node.level == 1:
            # `**Status:** ✅ All Fixed` under the log's title: the state of every issue that
            # states none of its own.
            context = replace(context, status=self._state_of_all(node) or context.status)
        meaning = section_meaning(heading.title)
        if meaning is not None:
            # The log's own title (`# Known Issues`) speaks for the whole log, less sharply.
            whole = node.level <= 1
            return Context(
                category,
                meaning.status or context.status,
                meaning.severity or context.severity,
                group=not whole,
                document=whole and meaning.group and not self.index,
                strict=context.strict,
            )
        # A part of a list of issues that is itself only a heading over more parts
        # (`## Known Issues` › `### Backend` › `#### Login fails`) passes the list on.
        return Context(
            category,
            context.status,
            context.severity,
            group=evidence.group_only,
            strict=context.strict,
        )

    def _state_of_all(self, node: Node) -> str | None:
        """A status field of the section saying a state of every issue (`✅ All Fixed`,
        `Tous corrigés`) as written; a state without such a word (`Status: Draft`,
        `Status: ✅ Complete`) describes the document, not its issues."""
        for name, value in self._fields(node):
            said_of_all = field_for(name) == "status" and state_of_all(value) is not None
            if said_of_all and normalise_status(value) is not None:
                return value.strip()
        return None

    def _strong_children(self, node: Node, context: Context) -> int:
        """Issues with fields of their own below `node`, looked for through the sections that
        hold them (`# Guide` › `## Startup problems` › `### Port in use`); at most two."""
        found = 0
        for child in node.children:
            evidence = self.evidence_in(child, node, context)
            heading = self._heading(child)
            if evidence.level >= STRONG:
                found += 1
            elif tables.lists_issues_by_id(self.o.lines, self.o.inside_fence, child.body):
                found += 2  # a batch of issues in a table, each with its ID and state
            elif not is_section_title(heading.title):  # not into a part (`### Technical Details`)
                inner = self._inner_context(child, heading, context, evidence)
                found += self._strong_children(child, inner)
            if found >= 2:
                return found
        return found

    def _holds_issues(self, node: Node, context: Context) -> bool:
        if tables.has_issue_table(self.o.lines, self.o.inside_fence, node.body):
            return True
        for child in node.children:
            found = self.evidence_in(child, node, context)
            if found.level >= WEAK:
                return True
            heading = self._heading(child)
            if self._holds_issues(child, self._inner_context(child, heading, context, found)):
                return True
        return False

    # --- the marks of an issue --------------------------------------------------------------

    def evidence_in(self, node: Node, parent: Node, context: Context) -> Evidence:
        """How sure the reader is that `node`, a part of `parent`, is one issue."""
        by_line = self._evidence_of.get(context)
        if by_line is None:
            by_line = self._evidence_of[context] = {}
        cached = by_line.get(node.line)
        if cached is not None:
            return cached
        found = self._evidence(node, context, self._siblings(parent))
        if context.strict and (found.level < STRONG or _DATED.match(self._heading(node).title)):
            # Under a part of the log (`## Changelog`), a dated entry (`### 2026-03-13: Issue
            # 087 fixed`) tells the log's history, however many fields it names.
            found = _NO_MARK
        if found.group_only and (
            self._sharp_elsewhere() if context.document and not context.group else False
        ):
            found = _NO_MARK
        if found.group_only and self._sharp_sibling(node, parent, context):
            found = _NO_MARK
        by_line[node.line] = found
        return found

    def _sharp_sibling(self, node: Node, parent: Node, context: Context) -> bool:
        """Whether a sibling shows its own mark of an issue (an ID, fields, numbering)."""
        key = (parent.line, context)
        sharp = self._sharp_children.get(key)
        if sharp is None:
            siblings = self._siblings(parent)
            sharp = sum(
                1
                for child in parent.children
                if (found := self._evidence(child, context, siblings)).level >= WEAK
                and not found.group_only
            )
            self._sharp_children[key] = sharp
        # `node` itself is group-only, so it is not among the sharp ones.
        return sharp > 0

    def _sharp_elsewhere(self) -> bool:
        """Whether any section of the log shows its own mark of an issue."""
        if self._sharp is None:
            self._sharp = False
            stack = [self.o.root]
            while stack and not self._sharp:
                parent = stack.pop()
                if tables.has_issue_table(self.o.lines, self.o.inside_fence, parent.body):
                    self._sharp = True  # a table of issues is as sharp a mark as any
                    break
                siblings = self._siblings(parent)
                for child in parent.children:
                    if self._evidence(child, Context(), siblings).level >= WEAK:
                        self._sharp = True
                        break
                    stack.append(child)
        return self._sharp

    def _heading(self, node: Node) -> Heading:
        heading = self._headings.get(node.line)
        if heading is None:
            heading = self._headings[node.line] = parse_heading(node.text)
        return heading

    def _body(self, node: Node) -> Body:
        """A section's own lines split into fields and paragraphs (read once)."""
        body = self._bodies.get(node.line)
        if body is None:
            body = split_body(self.o.lines, self.o.inside_fence, node.body)
            self._bodies[node.line] = body
        return body

    def _siblings(self, parent: Node) -> Siblings:
        cached = self._siblings_of.get(parent.line)
        if cached is None:
            kinds = Counter(c.kind for c in parent.children if self._heading(c).numbered)
            numbered = frozenset(kind for kind, count in kinds.items() if count >= 2)
            shaped = self._same_shape(parent.children) if self.by_shape else frozenset()
            cached = self._siblings_of[parent.line] = Siblings(numbered, shaped)
        return cached

    def _evidence(self, node: Node, context: Context, siblings: Siblings) -> Evidence:
        """How sure the reader is that `node` is one issue: its own marks, else the list it is
        part of."""
        own = self._own_of.get(node.line)
        if own is None:
            own = self._own_of[node.line] = self._own_evidence(node, siblings)
        if own.level == NONE and own.group_only:  # no marks of its own, but content
            # A folder's index lists issues its other files hold: there, only a section's own
            # marks make it an issue, not the list it sits in (`## How to report a bug`).
            if (context.group or context.document) and not self.index:
                return _GROUP_ONLY
            return _NO_MARK
        return own

    def _own_evidence(self, node: Node, siblings: Siblings) -> Evidence:
        """How sure the reader is that `node` is one issue, by its own shape alone; a section
        with content but no mark is `_CONTENT_ONLY`."""
        heading = self._heading(node)
        if has_placeholder(heading.title):
            return _NO_MARK  # `### BUG-XXX: [Title]`: a template
        if self.index and node.level <= 1:
            return _NO_MARK  # a folder index's title names the folder
        if heading.is_issue:
            return _NO_MARK if self._all_placeholders(node) else _DECISIVE_MARK
        title = heading.title
        targets = self._field_targets(node)
        anchors = targets & ANCHOR_FIELDS
        part_fields = self._part_fields(node)
        if is_section_title(title) and (not anchors or names_a_part(title)):
            return _NO_MARK  # `### 症状`, `### 2. 원인 분석 (Analysis)`: part of an issue
        if self._all_placeholders(node):
            return _NO_MARK
        strong = (
            len(anchors) >= 2
            or bool(targets & _STATUSY)
            or len(part_fields) >= 2
            or bool(part_fields & ANCHOR_FIELDS and anchors)
        )
        if strong and tables.lists_issues_by_id(self.o.lines, self.o.inside_fence, node.body):
            # `## Session 2` with `**Status:** done` over `| CRIT-01 | … | ✅ |`: the rows are
            # the issues, the section the batch they were handled in.
            return _NO_MARK
        if is_note_title(title):
            short = len(clean(title).split()) <= 3
            if strong and not (short and node.level <= 2):
                return _STRONG_MARK
            return _NO_MARK
        if strong:
            return _STRONG_MARK
        if not self._has_content(node) or title.endswith((":", "：")):
            # `### Common error messages:`: a heading ending in a colon leads into what follows.
            return _NO_MARK
        if self._only_references(node):
            return _NO_MARK  # `### By owner` over `- **@backend**: MED-001, LOW-002`: an index
        if heading.status_text is not None and heading.date_text is not None:
            # `## token-expiry (2026-08-04, MITIGATED)`: a state and the day it was reached.
            return _STRONG_MARK
        marked = (
            bool(anchors)
            or bool(part_fields)
            or heading.status_text is not None
            or heading.severity_text is not None
            or heading.marker is not None
            or node.line in siblings.shaped
            or (heading.numbered and node.kind in siblings.numbered)
        )
        if marked:
            return _WEAK_MARK
        if node.level <= 1 and self._only_notes_below(node):
            # `# Bug Log` over an entry template and "no bugs yet": the log's title over
            # nothing but notes names the list, it is not an issue of it.
            return _NO_MARK
        return _CONTENT_ONLY

    def _only_notes_below(self, node: Node) -> bool:
        """Whether a section has subsections and every one is a note (a template, a legend)."""
        children = [child for child in node.children if not child.inline]
        return bool(children) and all(
            is_note_title(self._heading(child).title) for child in children
        )

    def _field_targets(self, node: Node) -> set[str]:
        """The fields a section's field lines fill. A status, severity or priority counts only
        with a value the vocabulary knows (`✅ Running fine` under `### Backend` is no status)
        and never when it lists the options (`Open / In Progress / Resolved`)."""
        found: set[str] = set()
        for entry in self._body(node).entries:
            target = field_for(entry.name.rstrip(":：").strip())
            if target is None:
                continue
            value = entry.value or entry.text()
            normalise = normaliser(target) if target in _STATUSY else None
            if normalise is not None and normalise(value) is None:
                continue
            if not enumerates(target, value):
                found.add(target)
        return found

    def _fields(self, node: Node) -> list[tuple[str, str]]:
        """The (name, value) of each field line in a section's own text."""
        cached = self._fields_of.get(node.line)
        if cached is None:
            entries = self._body(node).entries
            cached = [(entry.name.rstrip(":：").strip(), entry.text()) for entry in entries]
            self._fields_of[node.line] = cached
        return cached

    def _all_placeholders(self, node: Node) -> bool:
        """A reporting template: every field value empty or a placeholder (`[Agent Name]`)."""
        entries = self._body(node).entries
        for entry in entries:
            value = entry.value or entry.text()
            if value.strip() and not is_placeholder(value):
                return False
        return bool(entries)

    def _part_fields(self, node: Node) -> set[str]:
        """Fields named by a section's subsections (`### Root Cause`, `### 原因`)."""
        found: set[str] = set()
        for child in node.children:
            heading = self._heading(child)
            if child.inline or heading.is_issue:
                continue
            target = section_field(heading.title)
            if target is not None:
                found.add(target)
        return found

    def _only_references(self, node: Node) -> bool:
        """Whether a section without subsections is only list items pointing at issues by ID
        (`- **WebSocket**: MEDIUM-002`, `- v1.2.0: MEDIUM-001, LOW-002`)."""
        lines = [self.o.lines[i] for i in node.body if self.o.lines[i].strip()]
        return (
            not node.children
            and bool(lines)
            and not any(self.o.inside_fence[i] for i in node.body)
            and all(_REFERENCES.match(line) for line in lines if not RULE.match(line))
        )

    def _has_content(self, node: Node) -> bool:
        return bool(node.children) or any(
            self.o.lines[i].strip() and not RULE.match(self.o.lines[i]) for i in node.body
        )

    def _same_shape(self, siblings: list[Node]) -> frozenset[int]:
        """Sections that share two or more field names with a sibling: issues written alike,
        whatever the language of the names."""
        names: list[set[str]] = []
        for sibling in siblings:
            names.append({clean(name) for name, _ in self._fields(sibling) if clean(name)})
        shaped: set[int] = set()
        for index, mine in enumerate(names):
            if len(mine) < 2:
                continue
            for other_index, other in enumerate(names):
                if other_index != index and len(mine & other) >= 2:
                    shaped.add(siblings[index].line)
                    break
        return frozenset(shaped)

    def _container_body(self, node: Node, title: str, context: Context) -> None:
        """A container's own text (intro paragraphs, issue tables) around its issue sections;
        the rows of a table under `## ✅ Resolved` are resolved unless they say otherwise."""
        rest = tables.read_tables(
            self.o.lines,
            self.o.inside_fence,
            node.body,
            self.log,
            status=context.status,
            severity=context.severity,
        )
        if any(self.o.lines[i].strip() for i in rest) and not self._generated(node):
            self._note_lines(title, node.line, rest)

    def _generated(self, node: Node) -> bool:
        """A part `passmuster export` wrote from the desk (statistics …): no note of the log."""
        return node.line >= 0 and self._body(node).meta.get("generated") is True

    # --- notes ------------------------------------------------------------------------------

    def _carries_notes(self, node: Node) -> bool:
        """The notes section `passmuster export --notes` writes (its comment says so)."""
        return node.kind == "heading" and self._body(node).meta.get("log_notes") is True

    def _carried_notes(self, section: Node) -> None:
        """Each note of an exported notes section, given back to the log it came from."""
        self.log.quoted.append(range(section.line, section.end + 1))
        for child in section.children:
            meta = self._body(child).meta
            source, line = meta.get("note_source"), meta.get("note_line")
            if not isinstance(source, str) or not isinstance(line, int):
                self.note(child)  # edited by hand beyond recognition: a note of this log
                continue
            title = meta.get("note_title")
            if not isinstance(title, str):
                title = child.text.strip()
            lines = [i for i in child.body if not self.o.lines[i].startswith("<!-- passmuster")]
            body = unwrap_verbatim(trim_blank("\n".join(self.o.lines[i] for i in lines)))
            self.log.carried_notes.append(LogNote(source, line, title, body))

    def note(self, node: Node) -> None:
        if self._generated(node):
            return
        title = strip_emoji(node.text.replace("**", "")).strip() or "(untitled)"
        lines = list(node.subtree_lines())
        self._note_lines(title, node.line, lines)

    def _note_lines(self, title: str, line: int, indices: Sequence[int]) -> None:
        body = trim_blank("\n".join(self.o.lines[i] for i in indices))
        if body or line >= 0:
            self.log.notes.append(LogNote(self.log.path, max(line, 0) + 1, title, body))

    # --- issues -----------------------------------------------------------------------------

    def issue(
        self,
        node: Node,
        heading: Heading,
        context: Context,
        *,
        preamble: Sequence[int] | None = None,
    ) -> None:
        line_no = node.line + 1 if node.line >= 0 else 1
        items = self._dated_items(node, heading) if preamble is None else []
        if items:
            # `##### 📅 2024-09-22 (Sun)` over `- (Major) Mail fails in production`: the day
            # the items were written down; each item is an issue.
            for index, text in items:
                self._item_issue(index, text, heading.title, context)
            return
        draft = IssueDraft(title=heading.title or "(untitled)", source=self.log.source)
        builder = DraftBuilder(self.log, draft, line_no)
        if heading.original_id:
            draft.original_id = heading.original_id
            builder.mark("original_id")
        builder.mark("title")

        # Issues opened inside this one (bold paragraphs, IDs) are issues of their own; a
        # numbered bold item without fields is part of this issue's text.
        subsections: list[Node] = []
        nested: list[Node] = []
        inline_text: list[int] = []
        for child in node.children:
            child_heading = self._heading(child)
            if child.inline and not child_heading.is_issue and not self._stands_alone(child, node):
                # `1. **Step**` or `**📝 Document info**` with a date: part of this issue's text.
                inline_text.extend(range(child.line, child.end + 1))
            elif child.inline or child_heading.is_issue:
                nested.append(child)
            else:
                subsections.append(child)

        if nested and not preamble and not inline_text and self._repeated_by(node, heading, nested):
            # `## Issue #2 (RESOLVED)` with nothing under it but `### Issue #2 …` (a heading
            # written twice): the inner one is the issue.
            for child in nested:
                self.issue(child, self._heading(child), context)
            return
        if preamble or inline_text:
            own = sorted([*(preamble or []), *node.body, *inline_text])
            body = split_body(self.o.lines, self.o.inside_fence, own)
        else:
            body = self._body(node)
        meta = body.meta
        if "title" not in meta:
            # With the exact title in passmuster's comment, the heading is only its display.
            self._heading_fields(builder, heading, line_no)
        if context.category is not None:
            self._category(builder, context.category)
        names = meta.get("extra_names")
        forced_extra = {str(n) for n in names} if isinstance(names, list) else _NO_NAMES
        for entry in body.entries:
            label = entry.name.rstrip(":：").strip()
            target = field_for(label)
            text = entry.text() if entry.more else entry.value
            if target is None or label in forced_extra:
                verdict = label not in forced_extra and normalise_status(label) is not None
                if verdict and not builder.has("status"):
                    # A bold verdict (`**不处理**：…`, `**Won't fix**: …`) is the issue's status.
                    builder.set_field(label, "status", label, entry.line + 1, subsection=False)
                builder.extra(label, text)
            else:
                builder.set_field(label, target, text, entry.line + 1, subsection=False)
        for sub in subsections:
            name = _part_name(sub.text)
            rows = self.o.lines[sub.line + 1 : sub.end + 1]
            while rows and (not rows[-1] or rows[-1].isspace()):
                rows.pop()  # as trim_blank would: it then finds nothing to drop, at once
            text = trim_blank("\n".join(rows))
            target = field_for(name) or section_field(name)
            if target is None or name in forced_extra or target in ("status", "severity"):
                builder.extra(name, unwrap_verbatim(text))
            else:
                builder.set_field(name, target, text, sub.line + 1, subsection=True)
        for sub in subsections:
            self._trailing_fields(builder, sub)
        for start, text in body.free:
            if not builder.has("description"):
                builder.set_field("Description", "description", text, start + 1, subsection=False)
            else:
                builder.extra("Notes", text)
        if context.status or context.severity:
            self._context_fields(builder, context, line_no)
        builder.finish()
        if meta:
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
            self.issue(child, self._heading(child), context)

    def _dated_items(self, node: Node, heading: Heading) -> list[tuple[int, str]]:
        """The one-line list items that are all of a section titled only by a day, as (line
        index, text); none for any other section."""
        if node.children or not _DAY_ONLY.match(strip_emoji(heading.title).strip()):
            return []
        items: list[tuple[int, str]] = []
        for i in node.body:
            line = self.o.lines[i]
            if not line.strip() or line.strip() in ("---", "***", "___"):
                continue
            item = _TOP_ITEM.match(line)
            if item is None or self.o.inside_fence[i]:
                return []
            items.append((i, item.group("text").strip()))
        return items

    def _item_issue(self, index: int, text: str, day: str, context: Context) -> None:
        """One list item as an issue: `(Major) Title, Solution: …` gives its severity, title
        and the field written after it; the day it sits under is kept beside it."""
        line_no = index + 1
        severity: str | None = None
        lead = _LEADING_REMARK.match(text)
        if lead is not None and normalise_severity(lead.group("word")) is not None:
            severity, text = lead.group("word"), text[lead.end() :]
        label = value = None
        tail = _TRAILING_FIELD.match(text)
        if tail is not None and field_for(tail.group("label")) is not None:
            text, label, value = tail.group("title"), tail.group("label"), tail.group("value")
        heading = parse_heading(text.strip())
        draft = IssueDraft(title=heading.title or "(untitled)", source=self.log.source)
        builder = DraftBuilder(self.log, draft, line_no)
        builder.mark("title")
        self._heading_fields(builder, heading, line_no)
        if severity is not None and not builder.has("severity"):
            builder.set_field("item", "severity", severity, line_no, subsection=False)
        if label is not None and value is not None:
            target = field_for(label) or ""
            builder.set_field(label, target, value.strip(), line_no, subsection=False)
        builder.extra("Date", day)
        if context.category is not None:
            self._category(builder, context.category)
        if context.status or context.severity:
            self._context_fields(builder, context, line_no)
        builder.finish()
        self.log.issues.append(ParsedIssue(draft=draft, line=line_no, filled=builder.filled))

    def _repeated_by(self, node: Node, heading: Heading, nested: list[Node]) -> bool:
        """Whether an issue heading with no text of its own is written again, with its ID,
        just inside it."""
        if not heading.original_id or not nested:
            return False
        if any(self.o.lines[i].strip() not in ("", "---", "***", "___") for i in node.body):
            return False
        return self._heading(nested[0]).original_id == heading.original_id

    def _trailing_fields(self, builder: DraftBuilder, sub: Node) -> None:
        """The issue's own state written after its parts (`### Option A` … then
        `**Status:** ✅ Resolved`): a state, severity or list of files the issue states
        nowhere else is the issue's, though the line sits in its last part."""
        own = "\n".join(self.o.lines[sub.body.start : sub.body.stop])  # one run of lines
        if ":" not in own and "：" not in own:
            return  # every field line has a colon: a part without one (`#### Tasks`) has none
        for entry in self._body(sub).entries:
            label = entry.name.rstrip(":：").strip()
            target = field_for(label)
            if target in _TRAILING_FIELDS and not builder.has(target):
                builder.set_field(label, target, entry.text(), entry.line + 1, subsection=False)

    def _stands_alone(self, node: Node, parent: Node) -> bool:
        """A bold title or numbered bold item inside an issue is an issue of its own when it
        carries issue fields and is not named like a part of the log."""
        found = self._own_evidence(node, self._siblings(parent))
        return found.level >= STRONG or (
            found.level == WEAK and bool(self._field_targets(node) & ANCHOR_FIELDS)
        )

    def _heading_fields(self, builder: DraftBuilder, heading: Heading, line: int) -> None:
        """The status, severity and date written into the heading."""
        status = heading.status_text
        if heading.marker is not None:
            if self.colours is not None:
                level = self.colours.get(heading.marker, "")
                builder.set_field(heading.marker, "severity", level, line, subsection=False)
                builder.draft.original_values["severity"] = heading.marker
            elif status is None:
                status = heading.marker
        if status:
            meaning = emoji_meaning(status.strip())
            if meaning is not None and not clean(status):
                status = f"{status.strip()} {meaning}"
            builder.set_field("heading", "status", status, line, subsection=False)
            if heading.date_text and builder.draft.status.value in ("resolved", "closed"):
                date = heading.date_text
                builder.set_field("heading", "resolved_at", date, line, subsection=False)
        if heading.severity_text:
            builder.set_field("heading", "severity", heading.severity_text, line, subsection=False)

    def _context_fields(self, builder: DraftBuilder, context: Context, line: int) -> None:
        """The state or severity of the section an issue sits in, where it states none itself."""
        if context.status and not builder.has("status"):
            builder.set_field("section", "status", context.status, line, subsection=False)
        if context.severity and not builder.has("severity"):
            builder.set_field("section", "severity", context.severity, line, subsection=False)

    def _category(self, builder: DraftBuilder, category: Node) -> None:
        name, label, typ = category_of(category.text)
        if label and label not in builder.draft.labels:
            builder.draft.labels.append(label)
        if typ is not None:
            builder.draft.type = typ
            builder.draft.original_values["type"] = name
            builder.mark("type")


# No names forced to stay extra sections: most issues, which carry no passmuster comment.
_NO_NAMES: frozenset[str] = frozenset()

# Fields a log writes once for the whole issue, wherever in it they stand.
_TRAILING_FIELDS = frozenset({"status", "severity", "resolved_at", "files_changed"})

# A heading that is only a day: `2024-09-22`, `2024-Sept-22 (Sun)`, `22.09.2024`, `Sep 22, 2024`.
_DAY_ONLY = re.compile(
    r"^(?:\d{4}[-/.](?:\d{1,2}|[^\W\d_]{3,9})[-/.]\d{1,2}|\d{1,2}[-/.](?:\d{1,2}|[^\W\d_]{3,9})"
    r"[-/.]\d{4}|[^\W\d_]{3,9}\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\.?\s+[^\W\d_]{3,9}\.?\s+\d{4})"
    r"(?:\s*[(（][^()（）]{1,12}[)）])?$"
)
# A top-level list item of one line: `- (Major) Mail fails in production`.
_TOP_ITEM = re.compile(r"^[-*+]\s+(?P<text>\S.*)$")
# `(Major) Title`: a word in brackets before an item's title.
_LEADING_REMARK = re.compile(r"^\s*[(\[（【](?P<word>[^()\[\]（）【】]{1,20})[)\]）】]\s*")
# `Title, Solution: what was done`: a field written after the title, on the same line.
_TRAILING_FIELD = re.compile(
    r"^(?P<title>.+?)[,;.]\s+(?P<label>[^\W\d_][\w ]{1,24}?)\s*[:：]\s+(?P<value>\S.*)$"
)

_COLOUR_WORD = re.compile(
    "([" + "".join(sorted(COLOUR_MARKERS)) + "])[\ufe0f\\s*_|:：=-]*"
    "([^\\s*_|:：=()（）,-][^*_|:：=()（）,]{0,20})"
)


# The usual scale when a log ranks by colour without saying which colour is which.
_COLOUR_SCALE = {
    "🔴": "critical",
    "🟠": "high",
    "🟡": "medium",
    "🟢": "low",
    "🔵": "info",
    "⚪": "low",
}


def colour_meaning(outline: Outline) -> dict[str, str] | None:
    """What this log's coloured markers (🔴 🟠 🟡 🟢) mean: a severity for each colour, or None
    when they mean statuses.

    Decided by what the log pairs them with (`🔴 Critical`, `🟢 Resolved`); a log that uses
    🟠 anywhere ranks by colour. Without a clue they mean statuses.
    """
    whole = outline.text or "\n".join(outline.lines)
    if not any(marker in whole for marker in COLOUR_MARKERS):
        return None  # none anywhere, so none outside the fences either
    text = "\n".join(
        [
            line
            for line, fenced in zip(outline.lines, outline.inside_fence, strict=True)
            if not fenced
        ]
    )
    if not any(marker in text for marker in COLOUR_MARKERS):
        return None
    paired: dict[str, str] = {}
    severities = statuses = 0
    for m in _COLOUR_WORD.finditer(text):
        word = m.group(2).strip()
        if normalise_severity(word) is not None:
            severities += 1
            paired.setdefault(m.group(1), word)
        elif normalise_status(word) is not None:
            statuses += 1
    if severities > statuses or (severities == statuses and "🟠" in text):
        return {**_COLOUR_SCALE, **paired}
    return None


@functools.lru_cache(maxsize=256)
def _part_name(heading: str) -> str:
    """The name a part of an issue goes by (`#### 🔧 **Tasks:**` → `Tasks`); logs repeat them."""
    name = strip_emoji(heading.replace("**", "").replace("__", "")).strip()
    return name.rstrip(":：").strip() or "(untitled)"


@functools.lru_cache(maxsize=256)
def category_of(heading: str) -> tuple[str, str, IssueType | None]:
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
