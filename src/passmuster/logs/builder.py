"""Fill one IssueDraft from what a log wrote under each field name, warning at file:line.

`DraftBuilder.set_field` looks the field up in `fields.FIELDS` and reads the text by the field's
kind; every reader (sections, tables, drafts) fills drafts through it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from passmuster.core.issues import CloseReason, ExtraSection, IssueDraft, IssueType, Status
from passmuster.errors import InvalidValue
from passmuster.logs.body import (
    fence_blocks,
    parse_files,
    parse_links,
    parse_tasks,
    split_names,
    unwrap_verbatim,
)
from passmuster.logs.fields import (
    FIELDS,
    PRIORITY_DISPLAY,
    STATUS_DISPLAY,
    IssueField,
    Kind,
)
from passmuster.logs.headings import parse_heading
from passmuster.logs.model import ParsedLog
from passmuster.logs.vocab import (
    clean,
    format_date,
    is_severity_word,
    normalise_severity,
    normalise_status,
    parse_date,
    qualifier,
)

SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class DraftBuilder:
    """Fills one IssueDraft field by field, remembering what the log filled and warning."""

    __slots__ = ("draft", "filled", "line", "log")

    def __init__(self, log: ParsedLog, draft: IssueDraft, line: int) -> None:
        self.log = log
        self.draft = draft
        self.line = line
        self.filled: list[str] = []

    def has(self, name: str) -> bool:
        return name in self.filled

    def mark(self, name: str) -> None:
        filled = self.filled
        if name not in filled:
            filled.append(name)

    def extra(self, name: str, body: str) -> None:
        self.draft.extra_sections.append(ExtraSection(name=name, body=body))

    def keep_original(self, name: str, raw: str, display: str) -> None:
        if raw != display:
            self.draft.original_values[name] = raw

    def set_field(self, label: str, target: str, text: str, line: int, *, subsection: bool) -> None:
        """Put `text` (written under `label`) into `target`; a second value becomes an extra."""
        if not text or text.isspace():
            return  # `**Priority**:` with nothing after it: the log left the field unset
        found = _READERS.get(target)
        if found is None or (target in self.filled and target not in _RESTATED):
            self.extra(label, text)
            return
        spec, read = found
        read(self, spec, label, text, line, subsection)

    # --- one reader per kind of value -----------------------------------------------------------

    def _title(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        self.draft.title = _joined(text)
        self.mark(spec.attr)

    def _line(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        value = _joined(text) or None
        if spec.attr == "original_id" and value is not None:
            value = id_in(value)
        setattr(self.draft, spec.attr, value)
        self.mark(spec.attr)

    def _choice(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        assert spec.choice is not None
        value = spec.choice.normalise(text)
        if value is None:
            current = getattr(self.draft, spec.attr)
            self._unknown(spec.attr, text, line, current.value if current else "unset")
            return
        setattr(self.draft, spec.attr, value)
        self.keep_original(spec.attr, text, spec.choice.display[value])
        self.mark(spec.attr)
        if spec.attr == "priority":
            self._priority_remarks(text)

    def _close_reason(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        try:
            self.draft.close_reason = CloseReason.parse(clean(text).replace("won t", "wont"))
            self.mark(spec.attr)
        except InvalidValue:
            self._unknown(spec.attr, text, line, "none")

    def _date(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        moment = parse_date(text)
        if moment is None:
            self.log.warn(line, f"cannot read {label!r} {text!r} as a date; kept as written")
            self.draft.original_values[spec.attr] = text
        else:
            setattr(self.draft, spec.attr, moment)
            self.keep_original(spec.attr, text, format_date(moment))
        self.mark(spec.attr)

    def _services(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        items = split_names(" ".join(text.split("\n")) if "\n" in text else text)
        names = list(filter(SERVICE_NAME.match, items))
        self.draft.services = names
        if ", ".join(names) != text:
            self.draft.original_values["services"] = text
        self.mark(spec.attr)

    def _labels(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        labels = self.draft.labels
        labels.extend(x for x in split_names(text) if x not in labels)
        self.mark(spec.attr)

    def _links(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        links = parse_links(text)
        if links is None:
            self.extra(label, text)
        else:
            self.draft.links = links
            self.mark(spec.attr)

    def _tasks(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        self._items(spec, label, text, parse_tasks(text))

    def _files(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        self._items(spec, label, text, parse_files(text))

    def _items(self, spec: IssueField, label: str, text: str, items: list[Any] | None) -> None:
        """A list field holds its items; a text that is not such a list stays a named section."""
        if not items:
            self.extra(label, text)
        else:
            setattr(self.draft, spec.attr, items)
            self.mark(spec.attr)

    def _errors(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        blocks = fence_blocks(text)
        self.draft.error_details = blocks if blocks else [unwrap_verbatim(text)]
        self.mark(spec.attr)

    def _text(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        setattr(self.draft, spec.attr, unwrap_verbatim(text) if sub else text)
        self.mark(spec.attr)

    def _status(self, spec: IssueField, label: str, text: str, line: int, sub: bool) -> None:
        value = normalise_status(text)
        if value is None and self.has("status") and _is_report(text):
            # `**Status:**` again, over a list of what was done: a progress report, not a state.
            self.extra(label, text)
            return
        if self.has("status"):
            previous = self.draft.original_values.get("status") or STATUS_DISPLAY[self.draft.status]
            if value is not None and value != self.draft.status:
                self.log.warn(
                    line,
                    f"{label} {text!r} disagrees with {previous!r} given earlier; "
                    "both kept, the later one counts",
                )
                self.draft.original_values["status (earlier)"] = previous
            else:
                # Same state written twice (heading and body): keep the body's spelling.
                self.draft.original_values.pop("status", None)
        if value is None:
            self._unknown("status", text, line, self.draft.status.value)
            return
        self.draft.status = value
        self.keep_original("status", text, STATUS_DISPLAY[value])
        if value is Status.CLOSED and self.draft.close_reason is None:
            key = clean(text)
            if "duplicate" in key:
                self.draft.close_reason = CloseReason.DUPLICATE
            elif "invalid" in key or "not a bug" in key or "not reproducible" in key:
                self.draft.close_reason = CloseReason.INVALID
            elif "wont" in key or "won t" in key:
                self.draft.close_reason = CloseReason.WONT_FIX
        self.mark("status")

    # --- what a value implies, and what a log leaves implicit ----------------------------------

    def _unknown(self, name: str, text: str, line: int, kept: str) -> None:
        self.log.warn(line, f"unknown {name} {text!r}: kept as written, {name} left as {kept}")
        self.draft.original_values[name] = text
        self.mark(name)

    def _priority_remarks(self, text: str) -> None:
        if "security" in qualifier(text) and not self.has("type"):
            self.draft.type = IssueType.SECURITY
            self.mark("type")

    def finish(self) -> None:
        """Fill what the tracker needs and the log left implicit.

        Logs that rank issues only by priority use the severity scale for it (seed 003); a
        closed issue without a reason is recorded as won't fix, with a warning.
        """
        if self.draft.status is Status.CLOSED and self.draft.close_reason is None:
            self.draft.close_reason = CloseReason.WONT_FIX
            self.log.warn(self.line, "closed without a reason: recorded as wont_fix")
        raw = self.draft.original_values.get("priority")
        # An unknown priority is kept as written and leaves the priority unset: nothing to rank.
        if not self.has("severity") and self.draft.priority is not None:
            source = raw if raw is not None else PRIORITY_DISPLAY[self.draft.priority]
            derived = normalise_severity(source)
            if derived is not None and is_severity_word(clean(source).split(" ")[0]):
                self.draft.severity = derived
                self.mark("severity")
                self.draft.original_values["severity"] = f"priority: {source}"


def id_in(text: str) -> str:
    """The ID a field gives: `[Issue #001]` → `#001`, `[JIRA-12](https://…)` → `JIRA-12`; a value
    without a recognisable ID (`bug-adjustment-multiple-rows`) is the ID as written."""
    bare = re.sub(r"\]\([^)]*\)", "]", text).strip().strip("[]`*").strip()
    heading = parse_heading(bare)
    return heading.original_id if heading.is_issue and heading.original_id else bare


def _joined(text: str) -> str:
    if "\n" not in text:
        return text.strip()  # one line: the usual value
    return " ".join(part.strip() for part in text.split("\n") if part.strip())


_Reader = Callable[[DraftBuilder, IssueField, str, str, int, bool], None]
KIND_READERS: dict[Kind, _Reader] = {
    Kind.TITLE: DraftBuilder._title,
    Kind.STATUS: DraftBuilder._status,
    Kind.CHOICE: DraftBuilder._choice,
    Kind.CLOSE_REASON: DraftBuilder._close_reason,
    Kind.DATE: DraftBuilder._date,
    Kind.LINE: DraftBuilder._line,
    Kind.SERVICES: DraftBuilder._services,
    Kind.LABELS: DraftBuilder._labels,
    Kind.LINKS: DraftBuilder._links,
    Kind.TEXT: DraftBuilder._text,
    Kind.ERRORS: DraftBuilder._errors,
    Kind.FILES: DraftBuilder._files,
    Kind.TASKS: DraftBuilder._tasks,
}
# Each field's spec and reader, by its name: one look-up per value (looking a kind up would hash an
# enum member in Python code).
_READERS: dict[str, tuple[IssueField, _Reader]] = {
    f.attr: (f, KIND_READERS[f.kind]) for f in FIELDS
}
# Fields a log may state again (the status, walked on import): the later value is read too.
_RESTATED = frozenset(f.attr for f in FIELDS if f.kind is Kind.STATUS)


def _is_report(text: str) -> bool:
    """Several lines, or a list: what a log writes under a heading, never a state's name."""
    stripped = text.strip()
    return "\n" in stripped or stripped.startswith(("- ", "* ", "+ "))
