"""What a heading (or a bold title line) says about an issue: its ID, title, status, severity.

Real logs write all of these into the heading, in every order:

    ✅ **RESOLVED** - Issue #001: Requirements Management Pattern
    Issue #002 - Database Driver Conflicts 🔄 In Progress
    ✅ 3. Login loop (Resolved 2025-10-02)
    1) `CircuitControlContext` drops controls（未修复）
    BUG-F001: `MEMORY_FILE` used before definition
    [BUG] Duplicate routes in manager.py
    Resolved #1: Pool exhausted          Doc Issue #2: Stale README

`parse_heading` takes them apart; the words come from the vocabulary, the shapes are here.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass

from passmuster.logs.titles import is_note_title, is_section_title
from passmuster.logs.vocab import (
    CACHE_SIZE,
    clean,
    emoji_meaning,
    field_for,
    normalise_severity,
    normalise_status,
    strip_emoji,
    word_pattern,
    words,
)

# A tracker key or log ID: `BUG-12`, `C-1`, `BUG-F001`, `SF-00144`, `AUTH-003`, `FIX_12`.
_KEY = r"[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*[-_][A-Z]{0,3}\d+[A-Za-z]?"
# An ID standing at the start: `#12`, `BUG-12`, `[#12]`, `[BUG-12]`, then a separator and a title.
# A key followed only by a space needs three digits: `BUG-001 Title`, not `UTF-8 encoding`.
# A key without its dash, zero-padded: `B001`, `NB002`, `KI007` (not `H264`, `V8`).
_PADDED_KEY = r"[A-Z]{1,4}0\d{2,}"
_BARE_ID = re.compile(
    rf"^(?:\[(?P<bid>#\d+|{_KEY})\]\s*[-–—:：|·]?|(?P<id>#[A-Z]{{0,3}}\d+(?:-\d+)?|{_KEY}|{_PADDED_KEY})"
    rf"(?:\s*[-–—:：|·]|$)"
    rf"|(?P<sid>#\d+|[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*[-_][A-Z]{{0,3}}\d{{3,}})\s)\s*(?P<title>.*)$"
)
# What follows a word naming an issue: `#001`, `-2026-03-08-001`, `-20260224-001`, ` 12`, then
# `-`, `:` or the end.
_ISSUE_TAIL = re.compile(
    r"(?P<id>\s*#\s*[\w.-]*\d[\w.-]*|-\d{4}-\d{2}-\d{2}-\d+|-\d+(?:-\d+)+\b|[-\s]\d+\b"
    r"|-[A-Z]{0,3}\d+[A-Za-z]?\b)?"
    r"\s*(?P<sep>[-–—:：|]|$)\s*(?P<title>.*)$"
)
# `1.`, `1)`, `1:`, `1.2.`, `1.2`, `01 -` before the title; not a date (`2026-08-09`).
_NUMBER = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3})+\.?|\d{1,3}[.)：:]|\d{1,3}\s+[-–—])\s*(?=\S)")
# A tag in brackets at the start: `[BUG]`, `【问题】`, `[FIXED]`.
_TAG = re.compile(r"^[\[【](?P<tag>[^\]】]{1,24})[\]】]\s*(?P<rest>.*)$")
# A remark in brackets at the end: `(Resolved 2025-10-02)`, `（未修复）`, `[CRITICAL]`.
_TRAILING_REMARK = re.compile(r"\s*[(（\[【](?P<inner>[^()（）\[\]【】]{1,40})[)）\]】]\s*$")
# A last part after a dash: `Title - RESOLVED`, `Title — ✅ Fixed`.
_TRAILING_PART = re.compile(r"\s+[-–—|]\s+(?P<tail>(?:[^-–—|]|(?<=\d)-(?=\d)){1,40})$")
# Words in capitals ending the title: `Mock LLM testing RESOLVED`, `Login loop WONT FIX`.
_TRAILING_CAPS = re.compile(r"\s+(?P<tail>[A-Z][A-Z' ]{2,24})$")
_SEPARATORS = " \t-–—:：|"
_EMOJI_CHAR = (
    "[\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff][\ufe0e\ufe0f]?"
)
_LEADING_EMOJI = re.compile(rf"^(?:{_EMOJI_CHAR}\s*)+")
_TRAILING_EMOJI = re.compile(rf"(?:\s*{_EMOJI_CHAR})+\s*$")
TRAILING_EMOJI = re.compile(
    "\\s*([\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff])"
    "[\ufe0e\ufe0f]?\\s*$"
)
# Coloured markers that mean a status in some logs and a severity in others.
COLOUR_MARKERS = frozenset("🔴🟠🟡🟢🔵⚪")
_DATE = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?")
_EMOJI_DATE = re.compile(
    rf"\s(?P<emoji>{_EMOJI_CHAR})\s*(?P<date>\d{{4}}[-/.年]\d{{1,2}}[-/.月]\d{{1,2}})$"
)


@dataclass(frozen=True, slots=True)
class Heading:
    """What a heading says about an issue."""

    title: str
    original_id: str | None
    status_text: str | None  # a status written into the heading, as written
    is_issue: bool  # names one issue: an issue word with an ID, or an ID
    numbered: bool = False  # starts with a list number (`1.`, `1)`, `1.2.`)
    marker: str | None = None  # a coloured marker (🔴 …) whose meaning the log decides
    severity_text: str | None = None  # a severity written into the heading (`[CRITICAL]`)
    date_text: str | None = None  # a date next to the status: `(Resolved 2025-10-02)`


def _strip_emphasis(text: str) -> str:
    return text.replace("**", "").replace("__", "").strip()


@functools.cache
def _issue_word() -> re.Pattern[str]:
    return re.compile(word_pattern("issue", "issue_with_id"), re.IGNORECASE)


def find_issue_word(text: str) -> re.Match[str] | None:
    """The first word naming an issue (`Issue`, `Bug`, `Incidencia`, `问题`) in `text`."""
    return _issue_word().search(text)


@functools.lru_cache(maxsize=CACHE_SIZE)
def parse_heading(raw: str) -> Heading:
    """`✅ **RESOLVED** - Issue #001: Title` → Heading("Title", "#001", "✅ **RESOLVED**", True)."""
    text = _strip_emphasis(raw)
    if not (text.startswith("~~") and text.count("~~") >= 2):
        return _parse_heading(raw, text)
    # `### ~~Mock LLM tests~~`: a title struck through is done, unless it says otherwise.
    heading = _parse_heading(raw.replace("~~", ""), text.replace("~~", "").strip())
    if heading.status_text is None:
        heading = dataclasses.replace(heading, status_text="Done")
    return heading


def _parse_heading(raw: str, text: str) -> Heading:
    marker: str | None = None
    status: str | None = None
    lead = _LEADING_EMOJI.match(text)
    if lead is not None:
        marker, status = _emoji_meanings(lead.group(0))
    named = _issue_named(raw, text)
    if named is not None:
        title, original_id, named_status = named
        # Only a word in capitals can be that state: most titles are not even looked at.
        after = (
            _status_prefix(title) if title[:2].isupper() and not (named_status or status) else None
        )
        if after is not None:  # `BUG-003 - FIXED - Title`: the state between ID and title
            named_status, title = after
        return _finish(title, original_id, named_status or status, True, False, marker, None)
    rest = text[lead.end() :] if lead is not None else text
    rest, tag_status, tag_issue, tag_severity = _tag(rest)
    status = status or tag_status
    numbered = False
    number = _NUMBER.match(rest)
    if number is not None:
        numbered = True
        rest = rest[number.end() :]
        # A status or marker may also stand right after the number: `3. ✅ Title`.
        inner = _LEADING_EMOJI.match(rest)
        if inner is not None:
            more_marker, more_status = _emoji_meanings(inner.group(0))
            marker, status = marker or more_marker, status or more_status
            rest = rest[inner.end() :]
    ident: str | None = None
    labelled = _labelled_state(rest) if status is None and ":" in rest[:40] else None
    if labelled is not None:  # `[2025-12-24 23:49] STATUS: [FIXED] - Title`
        status, rest = labelled
    prefix = _status_prefix(rest)
    if prefix is not None:
        status, rest = prefix
    severity_prefix = _severity_prefix(rest)
    if severity_prefix is not None:
        tag_severity, rest = severity_prefix
    bare = _BARE_ID.match(rest)
    if bare is not None:
        ident = bare.group("bid") or bare.group("id") or bare.group("sid")
        rest = bare.group("title").strip()
        after = _status_prefix(rest) if status is None and rest[:2].isupper() else None
        if after is not None:  # `#12 OPEN: Title`: the state between the ID and the title
            status, rest = after
    elif status is None:
        stated = _id_state(rest)
        if stated is not None:
            ident, status, rest = stated
    is_issue = ident is not None or tag_issue
    return _finish(
        rest.strip(), ident, status or None, is_issue, numbered, marker or None, tag_severity
    )


# Emoji that headings use as icons (`## 📋 Issue List`) even where a value would mean a status.
_ICONS = frozenset("📋🗓")


def _emoji_meanings(run: str) -> tuple[str | None, str | None]:
    """A run of leading or trailing emoji: (a coloured marker, a status emoji), each if any."""
    for ch in run:
        if ch in COLOUR_MARKERS:
            return ch, None  # a marker's run states no status of its own
    for ch in run:
        if ch not in _ICONS and emoji_meaning(ch) is not None:
            return None, ch
    return None, None


def _tag(text: str) -> tuple[str, str | None, bool, str | None]:
    """`[BUG] Title`, `[FIXED] Title`, `【问题】Title`: (rest, status, names an issue, severity)."""
    m = _TAG.match(text)
    if m is None:
        return text, None, False, None
    tag = m.group("tag").strip()
    if clean(tag) in words("issue") | words("issue_with_id"):
        return m.group("rest"), None, True, None
    if normalise_status(tag) is not None and clean(tag):
        return m.group("rest"), tag, False, None
    if normalise_severity(tag) is not None and clean(tag):
        return m.group("rest"), None, False, tag
    return text, None, False, None


_STATUS_PREFIX = re.compile(
    r"^(?P<word>[^\W\d_][\w ]{0,24}?)\s*(?:[-–—:：|]\s*|\s+(?=#\d))(?P<rest>\S.*)$"
)


def _status_prefix(text: str) -> tuple[str, str] | None:
    """`RESOLVED - Title`, `Resolved #1: Title`: a status word written before the rest.

    Only a word in capitals or followed by an ID counts: `Open: the file dialog crashes` is a
    title that starts with a verb.
    """
    m = _STATUS_PREFIX.match(text)
    if m is None:
        return None
    word = m.group("word").strip()
    if normalise_status(word) is None or not (word.isupper() or m.group("rest").startswith("#")):
        return None
    return word, m.group("rest")


# `STATUS: [FIXED] - Title`, `[2025-12-24 23:49] Status: RESOLVED - Title`: the status field
# written into a log entry's heading, after the time the entry was written.
_LABELLED_STATE = re.compile(
    r"^(?P<lead>\[[^\]]{4,24}\]\s+)?(?P<label>[^\W\d_]{3,12})\s*[:：]\s*"
    r"(?P<state>\[[^\]]{2,30}\]|[A-Z][A-Z' ]{1,24}?)\s*[-–—]\s+(?P<rest>\S.*)$"
)


def _labelled_state(text: str) -> tuple[str, str] | None:
    """(the state, the heading without it) when the heading names its status field and a state
    the vocabulary knows; the time before it stays in the title."""
    m = _LABELLED_STATE.match(text)
    if m is None or field_for(m.group("label")) != "status":
        return None
    state = m.group("state").strip("[] ")
    if normalise_status(state) is None:
        return None
    return state, (m.group("lead") or "") + m.group("rest")


# `B1 ✅ FIXED — Title`, `BUG-12 RESOLVED: Title`: an ID, the state, then the title.
_ID_STATE = re.compile(
    rf"^(?P<id>{_KEY}|#\d+|[A-Z]{{1,3}}\d{{1,4}})\s+"
    rf"(?P<state>(?:{_EMOJI_CHAR}\s*)+(?:[A-Z][A-Z' ]{{1,20}}?)?|[A-Z][A-Z' ]{{1,20}}?)"
    r"\s*[-–—:：|]\s*(?P<title>\S.*)$"
)


def _id_state(text: str) -> tuple[str, str, str] | None:
    """`B1 ✅ FIXED — Title`: the ID, the state and the title, when the words between the ID and
    the title are a state (an emoji the vocabulary knows, a state word in capitals, or both)."""
    m = _ID_STATE.match(text)
    if m is None:
        return None
    state = m.group("state").strip()
    words_part = _LEADING_EMOJI.sub("", state).strip()
    if words_part:
        if normalise_status(words_part) is None:
            return None
    elif _emoji_meanings(state)[1] is None:
        return None
    return m.group("id"), state, m.group("title").strip()


_SEVERITY_PREFIX = re.compile(r"^(?P<word>[^\W\d_][\w ]{0,12}?)\s*[-–—:：|]\s*(?P<rest>\S.*)$")


def _severity_prefix(text: str) -> tuple[str, str] | None:
    """`HIGH: Title`, `CRITICAL - Title`: a severity in capitals written before the title."""
    m = _SEVERITY_PREFIX.match(text)
    if m is None:
        return None
    word = m.group("word").strip()
    if not word.isupper() or normalise_severity(word) is None:
        return None
    return word, m.group("rest")


# A dash between words: the text goes on after what came before it.
_MORE = re.compile(r"\S\s+[-–—|]\s+\S")


def _issue_named(raw: str, text: str) -> tuple[str, str | None, str | None] | None:
    """`Issue #001: Title`, `✅ RESOLVED - Bug 12 - Title`, `Doc Issue #2: Title`: the title,
    the ID and the status written before the issue word."""
    for word in _issue_word().finditer(text):
        start, end = word.span()
        m = _ISSUE_TAIL.match(text, end)
        if m is None:
            labelled = _labelled_issue(raw, text, start, end)
            if labelled is not None:
                return labelled
            continue
        keyword = text[start:end]
        pre = text[:start].strip(_SEPARATORS)
        ident = (m.group("id") or "").strip()
        title = m.group("title").strip()
        pre_clean = clean(pre)
        # A state alone before the issue word (`✅ RESOLVED - Bug 12`), not a state and more
        # (`RESOLVED — confirmed, promoted to BUG-004`: a remark naming another issue).
        status_pre = bool(pre) and (
            not pre_clean or (normalise_status(pre) is not None and not _MORE.search(pre))
        )
        # `Doc Issue #2`: a short qualifier before an issue word with an explicit number.
        qualified = (
            bool(pre_clean)
            and not status_pre
            and ident.startswith("#")
            and len(pre_clean.split()) <= 2
            and not re.search(r"\d", pre)
        )
        has_id = bool(ident)
        colon_form = (
            not has_id
            and m.group("sep") in (":", "：")
            and bool(title)
            and not pre
            and clean(keyword) in words("issue")
        )
        if (not pre or status_pre or qualified) and (has_id or colon_form) and (title or has_id):
            if ident.startswith("#"):
                original_id: str | None = "#" + ident[1:].strip()
                if qualified:
                    original_id = f"{strip_emoji(pre).strip()} {original_id}"
            elif ident:
                original_id = keyword + (m.group("id") or "").rstrip()
            else:
                original_id = None
            status = _stated_before(raw, pre) if status_pre else None
            return title or ident, original_id, status
        return None
    return None


# A word or two qualifying the issue word, its number, a separator: `Bug récurrent #1 — …`.
_LABELLED_TAIL = re.compile(
    r"(?:\s+[^\W\d_][\w'’]*){1,2}\s*#\s*(?P<id>\d+)\s*[-–—:：|]\s*(?P<title>\S.*)$"
)
# `PROBLEMA RICORRENTE: Title`, `Problema Principal: Title`: a word or two qualifying the issue
# word, a colon, then the title (of more than one word).
_QUALIFIED_COLON = re.compile(
    r"(?P<qualifier>(?:\s+[^\W\d_][\w'’]*){1,2})\s*[:：]\s*(?P<title>\S+\s+\S.*)$"
)


def _labelled_issue(
    raw: str, text: str, start: int, end: int
) -> tuple[str, str | None, str | None] | None:
    """`⚠️ BUG RÉCURRENT #1 — Title`, `Bug crítico #3: Title`: the issue word, a word or two
    qualifying it, then its number; the number is the ID, as in `Bug #1`. `PROBLEMA
    RICORRENTE: Title`: the same without a number, before a colon. Only at the start of the
    heading, after nothing or a status."""
    pre = text[:start].strip(_SEPARATORS)
    pre_clean = clean(pre)
    if pre_clean and normalise_status(pre) is None:
        return None
    m = _LABELLED_TAIL.match(text, end)
    if m is not None:
        return m.group("title").strip(), "#" + m.group("id"), _stated_before(raw, pre)
    # Without a number, only a label that is no part's name (`Problem Statement: …`).
    q = _QUALIFIED_COLON.match(text, end)
    if q is None:
        return None
    label = text[start:end] + q.group("qualifier")
    if is_section_title(label) or is_note_title(label):
        return None
    return q.group("title").strip(), None, _stated_before(raw, pre)


def _stated_before(raw: str, pre: str) -> str | None:
    """The status written before the issue word, as written; an icon alone (`🐛 Bug #1: …`)
    states none."""
    if not pre or (not clean(pre) and _emoji_meanings(pre) == (None, None)):
        return None
    return _raw_prefix(raw)


def _raw_prefix(raw: str) -> str | None:
    """The status text before `Issue` in a heading, as written (emoji and emphasis kept)."""
    m = find_issue_word(raw)
    if m is None:
        return None
    prefix = raw[: m.start()].rstrip().rstrip("-–—:|").rstrip()
    return prefix or None


def _finish(
    title: str,
    original_id: str | None,
    status: str | None,
    is_issue: bool,
    numbered: bool,
    marker: str | None,
    severity: str | None,
) -> Heading:
    """The heading of these parts, with a status, date or marker written after the title taken
    off it. (The parts, not a Heading to copy: a heading is made once.)"""
    date: str | None = None
    for _ in range(3):  # `Title ✅ (Resolved 2025-10-02)`: at most a few trailing parts
        # What each trailing part needs at the end of the title, looked at before searching
        # for it (most titles end in a plain word).
        last = title.rstrip()[-1:]
        remark = _TRAILING_REMARK.search(title) if last and last in _CLOSING else None
        if remark is not None:
            inner = remark.group("inner").strip()
            bare = _DATE.sub(" ", inner).strip(" ,;:-–—")
            if _no_words(status) and bare and normalise_status(bare) is not None:
                status, title = bare, title[: remark.start()].rstrip()
                found = _DATE.search(inner)
                date = found.group(0) if found else None
                continue
            if severity is None and normalise_severity(inner) is not None and inner.isupper():
                severity, title = inner, title[: remark.start()].rstrip()
                continue
        dated_emoji = _EMOJI_DATE.search(title) if last.isdigit() and _no_words(status) else None
        if dated_emoji is not None and emoji_meaning(dated_emoji.group("emoji")) is not None:
            # `Task page ✅ 2026-05-07`: a state emoji and the day it was reached.
            status, date = dated_emoji.group("emoji"), dated_emoji.group("date")
            title = title[: dated_emoji.start()].rstrip()
            continue
        trail = _TRAILING_EMOJI.search(title) if last and _EMOJI_END.match(last) else None
        if trail is not None and trail.start() > 0:
            run = trail.group(0)
            more_marker, more_status = _emoji_meanings(run)
            if more_marker or more_status:
                marker, status = (
                    marker or more_marker,
                    status or (run.strip() if more_status else None),
                )
                title = title[: trail.start()].rstrip()
                continue
        emoji = _ANY_EMOJI.search(title) is not None
        emoji_tail = _status_after_emoji(title) if emoji else None
        if emoji_tail is not None and _no_words(status):
            status, title = emoji_tail
            continue
        graded = _severity_after_marker(title) if emoji and severity is None else None
        if graded is not None:
            severity, title = graded[0], graded[2]
            continue
        dashed = "-" in title or "–" in title or "—" in title or "|" in title
        part = _TRAILING_PART.search(title) if dashed else None
        if part is not None and _no_words(status):
            tail = part.group("tail").strip()
            if normalise_status(tail) is not None and (
                tail.isupper() or _LEADING_EMOJI.match(tail)
            ):
                status, title = tail, title[: part.start()].rstrip()
                continue
        end = title[:-1] if title.endswith("\n") else title
        shouted = _TRAILING_CAPS.search(title) if end[-1:] and end[-1] in _CAPS else None
        if shouted is not None and _no_words(status) and shouted.start() > 0:
            # `Mock LLM testing RESOLVED`: a state in capitals after the title.
            tail = shouted.group("tail").strip()
            if normalise_status(tail) is not None:
                status, title = tail, title[: shouted.start()].rstrip()
                continue
        if part is not None and _no_words(status):
            tail = part.group("tail").strip()
            # `Title — resolved 2026-05-17`: a state with its date, in any case.
            dated = _DATE.search(tail)
            bare = _DATE.sub(" ", tail).strip(" ,;:-–—")
            if dated is not None and bare and normalise_status(bare) is not None:
                status, date, title = bare, dated.group(0), title[: part.start()].rstrip()
                continue
        break
    title = _LEADING_EMOJI.sub("", title).strip()
    return Heading(
        title=title or (original_id or ""),
        original_id=original_id,
        status_text=status,
        is_issue=is_issue,
        numbered=numbered,
        marker=marker,
        severity_text=severity,
        date_text=date,
    )


# The last character each trailing part can end with (before blanks).
_CLOSING = frozenset(")）]】")
_EMOJI_END = re.compile(
    "[\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff\ufe0e\ufe0f]"
)
_ANY_EMOJI = re.compile(
    "[\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]"
)
_CAPS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ' ")


def _no_words(status: str | None) -> bool:
    """No status yet, or only an emoji: words written after the title say more."""
    return status is None or not clean(status)


_STATUS_AFTER_EMOJI = re.compile(rf"\s({_EMOJI_CHAR})\s*(?P<words>[^\W\d_][\w ]{{0,30}})$")


_SEVERITY_AFTER_MARKER = re.compile(
    rf"\s(?P<marker>[{''.join(sorted(COLOUR_MARKERS))}])[\ufe0e\ufe0f]?\s*"
    r"(?P<words>[^\W\d_][\w ]{0,20}?)\s*(?:[(（][^()（）]{1,30}[)）])?$"
)


def _severity_after_marker(title: str) -> tuple[str, str, str] | None:
    """`Title 🔴 Kritik`, `Title 🟠 High (Security)`: a coloured marker and a severity end the
    title; the severity (its remark kept), the marker and the title without them."""
    m = _SEVERITY_AFTER_MARKER.search(title)
    if m is None or normalise_severity(m.group("words")) is None:
        return None
    return title[m.start("words") :].strip(), m.group("marker"), title[: m.start()].rstrip()


def _status_after_emoji(title: str) -> tuple[str, str] | None:
    """`Title 🔄 In Progress`: a status emoji and status words end the title."""
    for m in _STATUS_AFTER_EMOJI.finditer(title):
        if emoji_meaning(m.group(1)) is not None and normalise_status(m.group("words")):
            return title[m.start() + 1 :].strip(), title[: m.start()].rstrip()
    return None
