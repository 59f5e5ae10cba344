"""Field lines, subsections and lists: turning one issue's lines into an IssueDraft.

Shared by every reader. A field line is `**Name**: value`, `**Name:** value`, `- **Name**: value`,
`✅ **Name**: value` or, for names the tables know, `Name: value` and `名称：值`. A field with no
value on its line takes the lines below it (lists, fences, paragraphs) up to the next field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from passmuster.core.issues import (
    CloseReason,
    ExtraSection,
    FileChange,
    IssueDraft,
    IssueType,
    Link,
    LinkKind,
    Priority,
    Severity,
    Status,
    Task,
)
from passmuster.errors import InvalidValue
from passmuster.logs.model import ParsedLog
from passmuster.logs.text import FENCE
from passmuster.logs.vocab import (
    SEVERITY_SPELLINGS,
    clean,
    field_for,
    format_date,
    normalise_priority,
    normalise_severity,
    normalise_status,
    normalise_type,
    parse_date,
    qualifier,
)

FIELD_LINE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<bullet>[-*+][ \t]+)?"
    r"(?P<emo>(?:[^\w\s*_`\[\]()#>|<][\ufe0f]?[ \t]*){0,3})"
    r"(?:\*\*|__)(?P<name>[^*_\n]{1,80}?)[ \t]*(?P<c1>[:：])?[ \t]*(?:\*\*|__)[ \t]*(?P<c2>[:：])?"
    r"[ \t]*(?P<value>.*?)[ \t]*$"
)
PLAIN_FIELD = re.compile(
    r"^(?P<bullet>[-*+][ \t]+)?(?P<name>[^\W\d_][\w ()（）/'’-]{0,40}?)[ \t]*[:：]"
    r"[ \t]*(?P<value>.*?)[ \t]*$"
)
# The value is taken greedily and its trailing blanks stripped in match_field: a lazy `(.*?)`
# before `[ \t]*$` retries the tail at every character of a long value.
SIMPLE_FIELD = re.compile(r"\*\*([^*_\n]{1,80}?)[ \t]*([:：])?[ \t]*\*\*[ \t]*([:：])?[ \t]*(.*)")
RULE = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$")
META = re.compile(r"^<!-- passmuster: (?P<json>\{.*\}) -->[ \t]*$")
TASK = re.compile(r"^[ \t]*[-*+][ \t]+\[(?P<mark>[ xX✓✔])\][ \t]?(?P<text>.*)$")
BULLET = re.compile(r"^[-*+][ \t]+(?P<text>.*)$")
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
VERBATIM_INFO = "verbatim"

TEXT_FIELDS = (
    "description",
    "impact",
    "attempted_solutions",
    "root_cause",
    "resolution",
    "workaround",
    "prevention",
    "test_results",
)
LINE_FIELDS = ("component", "reporter", "assignee", "title", "original_id", "source", "fingerprint")
DATE_FIELDS = ("reported_at", "acknowledged_at", "resolved_at")

STATUS_DISPLAY = {
    Status.OPEN: "Open",
    Status.PLANNED: "Planned",
    Status.IN_PROGRESS: "In Progress",
    Status.BLOCKED: "Blocked",
    Status.WORKAROUND_APPLIED: "Workaround Applied",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
}
SEVERITY_DISPLAY = {s: s.value.capitalize() for s in Severity}
PRIORITY_DISPLAY = {p: p.value.replace("_", " ").title() for p in Priority}
TYPE_DISPLAY = {t: t.value.replace("_", " ").title() for t in IssueType}
CLOSE_DISPLAY = {
    CloseReason.WONT_FIX: "Won't Fix",
    CloseReason.DUPLICATE: "Duplicate",
    CloseReason.INVALID: "Invalid",
}
LINK_DISPLAY = {k: k.value.replace("_", " ") for k in LinkKind}


@dataclass(slots=True)
class FieldMatch:
    name: str
    value: str
    indent: int
    is_item: bool


def match_field(line: str) -> FieldMatch | None:
    """The field a line starts, or None. Plain `Name: value` counts only for known names."""
    if line.startswith("**"):
        # The common case, without the bullet/emoji prefix the full pattern allows.
        s = SIMPLE_FIELD.match(line)
        if s is not None and (s.group(2) or s.group(3)):
            return FieldMatch(s.group(1).strip(), s.group(4).rstrip(" \t"), 0, False)
    if "**" in line or "__" in line:
        m = FIELD_LINE.match(line)
        if m is not None and (m.group("c1") or m.group("c2")):
            return FieldMatch(
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
            return FieldMatch(p.group("name").strip(), p.group("value"), 0, bool(p.group("bullet")))
    return None


@dataclass(slots=True)
class Entry:
    name: str
    line: int
    value: str
    indent: int
    multi: bool
    more: list[str] = field(default_factory=list)

    def text(self) -> str:
        if not self.more:
            return self.value
        more = trim_blank("\n".join(line.rstrip() for line in self.more))
        if self.value:
            # The value on the field's own line is kept even when it reads like a rule (`---`).
            return f"{self.value}\n{more}" if more else self.value
        return more


def trim_blank(text: str) -> str:
    """Drop leading and trailing blank lines (and trailing separators); keep inner text as is."""
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and (not lines[-1].strip() or RULE.match(lines[-1])):
        lines.pop()
    return "\n".join(lines)


@dataclass(slots=True)
class Body:
    """An issue's own lines split into field entries, free paragraphs and its metadata."""

    entries: list[Entry] = field(default_factory=list)
    free: list[tuple[int, str]] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)


def split_body(lines: list[str], inside: list[bool], indices: list[int]) -> Body:
    body = Body()
    cur: Entry | None = None
    para: list[str] = []
    para_start = 0

    def flush_para() -> None:
        nonlocal para
        if not para:
            return  # the usual case, between two field lines
        text = trim_blank("\n".join(para))
        if text:
            body.free.append((para_start, text))
        para = []

    for i in indices:
        line = lines[i]
        fenced = inside[i]
        if not fenced:
            meta = META.match(line) if line.startswith("<!-- passmuster") else None
            if meta is not None:
                try:
                    loaded = json.loads(meta.group("json"))
                except ValueError:
                    loaded = None
                if isinstance(loaded, dict):
                    body.meta.update(loaded)
                    continue
            fm = match_field(line)
            if fm is not None:
                known = field_for(fm.name) is not None
                nested = (
                    cur is not None
                    and cur.multi
                    and ((fm.is_item and not known) or fm.indent > cur.indent)
                )
                if not nested:
                    flush_para()
                    cur = Entry(fm.name, i, fm.value, fm.indent, multi=not fm.value)
                    body.entries.append(cur)
                    continue
            if line[:1] in "-*_" and RULE.match(line):
                flush_para()
                cur = None
                continue
        if cur is not None:
            # A field written on its own line runs to the next field; one with a value on its
            # line runs on through the lines right below it, up to a blank line.
            if cur.multi or fenced or line.strip():
                cur.more.append(line)
                continue
            cur = None
            continue
        if not para:
            if not line.strip():
                continue
            para_start = i
        para.append(line)
    flush_para()
    return body


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
        j = i + 1
        while j < len(lines):
            c = FENCE.match(lines[j])
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
        content = [line[indent:] if line[:indent].isspace() else line for line in lines[i + 1 : j]]
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
        if not line.strip():
            continue
        m = TASK.match(line)
        if m is None:
            return None
        tasks.append(Task(text=m.group("text").rstrip(), done=m.group("mark") != " "))
    return tasks


def parse_files(text: str) -> list[FileChange] | None:
    """`- \\`path\\` - note` items; None if the text is anything but such a list."""
    files: list[FileChange] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        m = BULLET.match(line.rstrip())
        if m is None:
            return None
        item = m.group("text")
        if item.startswith("`"):
            end = item.find("`", 1)
            if end <= 1:
                return None
            path, note = item[1:end], item[end + 1 :].strip()
            for sep in ("- ", "– ", "— ", ": "):
                if note.startswith(sep):
                    note = note[len(sep) :].strip()
                    break
            files.append(FileChange(path=path, note=note))
        else:
            path, _, note = item.partition(" - ")
            files.append(FileChange(path=path.strip(), note=note.strip()))
    return files


def split_names(raw: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;，；、]", raw) if part.strip()]


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


class DraftBuilder:
    """Fills one IssueDraft field by field, remembering what the log filled and warning."""

    def __init__(self, log: ParsedLog, draft: IssueDraft, line: int) -> None:
        self.log = log
        self.draft = draft
        self.line = line
        self.filled: list[str] = []
        self.extra_names: set[str] = set()

    def has(self, name: str) -> bool:
        return name in self.filled

    def mark(self, name: str) -> None:
        if name not in self.filled:
            self.filled.append(name)

    def extra(self, name: str, body: str) -> None:
        self.draft.extra_sections.append(ExtraSection(name=name, body=body))

    def keep_original(self, name: str, raw: str, display: str) -> None:
        if raw != display:
            self.draft.original_values[name] = raw

    def set_field(self, label: str, target: str, text: str, line: int, *, subsection: bool) -> None:
        """Put `text` (written under `label`) into `target`; a second value becomes an extra."""
        d = self.draft
        if self.has(target) and target not in ("status",):
            self.extra(label, text)
            return
        if target == "status":
            self._status(label, text, line)
        elif target == "severity":
            value = normalise_severity(text)
            if value is None:
                self._unknown("severity", text, line, d.severity.value)
            else:
                d.severity = value
                self.keep_original("severity", text, SEVERITY_DISPLAY[value])
                self.mark("severity")
        elif target == "priority":
            self._priority(text, line)
        elif target == "type":
            typ = normalise_type(text)
            if typ is None:
                self._unknown("type", text, line, d.type.value)
            else:
                d.type = typ
                self.keep_original("type", text, TYPE_DISPLAY[typ])
                self.mark("type")
        elif target == "close_reason":
            try:
                d.close_reason = CloseReason.parse(clean(text).replace("won t", "wont"))
                self.mark("close_reason")
            except InvalidValue:
                self._unknown("close_reason", text, line, "none")
        elif target in DATE_FIELDS:
            moment = parse_date(text)
            if moment is None:
                self.log.warn(line, f"cannot read {label!r} {text!r} as a date; kept as written")
                d.original_values[target] = text
            else:
                setattr(d, target, moment)
                self.keep_original(target, text, format_date(moment))
            self.mark(target)
        elif target in LINE_FIELDS:
            joined = " ".join(part.strip() for part in text.split("\n") if part.strip())
            if target == "title":
                d.title = joined
            else:
                setattr(d, target, joined or None)
            self.mark(target)
        elif target == "services":
            items = split_names(" ".join(text.split("\n")))
            names = [item for item in items if _SERVICE_NAME.match(item)]
            d.services = names
            if ", ".join(names) != text:
                d.original_values["services"] = text
            self.mark("services")
        elif target == "labels":
            d.labels.extend(x for x in split_names(text) if x not in d.labels)
            self.mark("labels")
        elif target == "links":
            links = parse_links(text)
            if links is None:
                self.extra(label, text)
            else:
                d.links = links
                self.mark("links")
        elif target == "tasks":
            tasks = parse_tasks(text)
            if tasks is None or not tasks:
                self.extra(label, text)
            else:
                d.tasks = tasks
                self.mark("tasks")
        elif target == "files_changed":
            files = parse_files(text)
            if files is None or not files:
                self.extra(label, text)
            else:
                d.files_changed = files
                self.mark("files_changed")
        elif target == "error_details":
            blocks = fence_blocks(text)
            d.error_details = blocks if blocks else [unwrap_verbatim(text)]
            self.mark("error_details")
        elif target in TEXT_FIELDS:
            setattr(d, target, unwrap_verbatim(text) if subsection else text)
            self.mark(target)
        else:  # pragma: no cover - FIELD_NAMES and this method are kept in step
            self.extra(label, text)

    def _unknown(self, name: str, text: str, line: int, kept: str) -> None:
        self.log.warn(line, f"unknown {name} {text!r}: kept as written, {name} left as {kept}")
        self.draft.original_values[name] = text
        self.mark(name)

    def _status(self, label: str, text: str, line: int) -> None:
        value = normalise_status(text)
        if self.has("status"):
            previous = self.draft.original_values.get("status") or STATUS_DISPLAY[self.draft.status]
            if value != self.draft.status:
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
            elif "invalid" in key:
                self.draft.close_reason = CloseReason.INVALID
            elif "wont" in key or "won t" in key:
                self.draft.close_reason = CloseReason.WONT_FIX
        self.mark("status")

    def _priority(self, text: str, line: int) -> None:
        value = normalise_priority(text)
        if value is None:
            self._unknown("priority", text, line, "unset")
            return
        self.draft.priority = value
        self.keep_original("priority", text, PRIORITY_DISPLAY[value])
        self.mark("priority")
        self._priority_remarks(text)

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
        if not self.has("severity") and self.has("priority"):
            assert self.draft.priority is not None
            source = raw if raw is not None else PRIORITY_DISPLAY[self.draft.priority]
            derived = normalise_severity(source)
            if derived is not None and clean(source).split(" ")[0] in SEVERITY_SPELLINGS:
                self.draft.severity = derived
                self.mark("severity")
                self.draft.original_values["severity"] = f"priority: {source}"
