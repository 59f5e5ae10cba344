"""The words real logs use, read from `vocabulary.toml`: field names, values, layout words.

Each word is compared cleaned (`clean`: emoji, Markdown emphasis and punctuation removed, lower
case, accents on Latin letters dropped, full-width forms folded). `normalise_*` return None for a
spelling the vocabulary lacks; the reader then keeps the text as written and warns. The file is
read once, on first use.
"""

from __future__ import annotations

import enum
import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any, TypeVar

from passmuster.core.issues import IssueType, Priority, Severity, Status

_E = TypeVar("_E", bound=enum.StrEnum)

# Entries of the caches over words, values and headings: above what a 10,000-issue log holds
# of each, so that reading a log again (import, then re-import) finds every one. An LRU cache
# smaller than the log it reads evicts each entry before it is asked for again.
CACHE_SIZE = 1 << 15

# Pictographs, dingbats, arrows, geometric shapes, variation selectors and joiners.
_EMOJI = re.compile(
    "[\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff\u2e80-\u2eff"
    "\ufe0e\ufe0f\u200d\U0001f000-\U0001faff]"
)
_EMPHASIS = re.compile(r"[*_`]+")
_NON_WORD = re.compile(r"[^\w]+")
# Kana and CJK ideographs: words written without spaces, so matched inside longer text.
UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def strip_emoji(text: str) -> str:
    return _EMOJI.sub("", text)


def _fold_accents(text: str) -> str:
    """`résolu` → `resolu`; accents on other scripts (й, ド) are part of the letter and stay."""
    decomposed = unicodedata.normalize("NFD", text)
    kept: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch) and kept and kept[-1] < "\u0250":
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


@functools.lru_cache(maxsize=CACHE_SIZE)
def clean(text: str) -> str:
    """`✅ **RESOLVED**` → `resolved`; `Tech_Debt` → `tech debt`; `Résolu` → `resolu`."""
    text = _EMPHASIS.sub(" ", strip_emoji(text))
    if not text.isascii():
        text = _fold_accents(unicodedata.normalize("NFKC", text))
    return _NON_WORD.sub(" ", text).strip().lower()


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """`vocabulary.toml`, cleaned: each table maps a cleaned word onto what it means."""

    fields: dict[str, str]
    statuses: dict[str, Status]
    severities: dict[str, Severity]
    priorities: dict[str, Priority]
    types: dict[str, IssueType]
    words: dict[str, tuple[str, ...]]
    emoji: dict[str, str]


def _spellings(table: dict[str, dict[str, list[str]]], key: str) -> list[str]:
    return [word for words in table.get(key, {}).values() for word in words]


def _values(
    data: dict[str, dict[str, dict[str, list[str]]]], section: str, values: type[_E]
) -> dict[str, _E]:
    """Cleaned spelling → value; each value is also spelled as the tracker writes it."""
    table = data.get(section, {})
    members: list[_E] = list(values)
    unknown = set(table) - {str(m.value) for m in members}
    if unknown:
        raise ValueError(f"vocabulary.toml: [{section}] has no value(s) {sorted(unknown)}")
    mapped: dict[str, _E] = {}
    for member in members:
        for word in [str(member.value), *_spellings(table, str(member.value))]:
            key = clean(word)
            if mapped.get(key, member) is not member:
                raise ValueError(
                    f"vocabulary.toml: {word!r} means both {section}.{mapped[key].value} "
                    f"and {section}.{member.value}"
                )
            mapped[key] = member
    return mapped


@functools.cache
def vocabulary() -> Vocabulary:
    raw = resources.files("passmuster.logs").joinpath("vocabulary.toml").read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    fields: dict[str, str] = {}
    for attr in data.get("field", {}):
        for word in _spellings(data["field"], attr):
            key = clean(word)
            if fields.get(key, attr) != attr:
                raise ValueError(f"vocabulary.toml: {word!r} names both {fields[key]} and {attr}")
            fields[key] = attr
    words = {role: tuple(_spellings(data["word"], role)) for role in data.get("word", {})}
    return Vocabulary(
        fields=fields,
        statuses=_values(data, "status", Status),
        severities=_values(data, "severity", Severity),
        priorities=_values(data, "priority", Priority),
        types=_values(data, "type", IssueType),
        words=words,
        emoji=dict(data.get("emoji", {})),
    )


def words(role: str) -> frozenset[str]:
    """The cleaned words of one `[word.<role>]` list (a `*` ending means any ending)."""
    return _word_sets()[role]


@functools.cache
def _word_sets() -> dict[str, frozenset[str]]:
    return {
        role: frozenset(clean(w.rstrip("*")) + ("*" if w.endswith("*") else "") for w in ws)
        for role, ws in vocabulary().words.items()
    }


@functools.cache
def word_pattern(*roles: str) -> str:
    """A regex for the words of some roles, on word bounds (compile it with IGNORECASE).

    It matches the words as written (`Problème`) and cleaned (`probleme`), and is built as a
    trie so that matching costs one branch per character whatever the number of languages.
    """
    spaced: set[str] = set()
    unspaced: set[str] = set()
    for role in roles:
        for word in vocabulary().words[role]:
            stem = "*" if word.endswith("*") else ""
            for form in (word.rstrip("*").lower(), clean(word.rstrip("*"))):
                (unspaced if UNSPACED.search(form) else spaced).add(form + stem)
    parts = []
    if spaced:
        parts.append(rf"(?<![\w-]){_trie(spaced)}(?!\w)")
    if unspaced:
        parts.append(_trie(unspaced))
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"


def _trie(words: set[str]) -> str:
    """An alternation of `words` as a regex trie; a word ending in `*` takes any ending."""
    root: dict[str, dict[str, Any]] = {}
    for word in words:
        node = root
        for ch in word.rstrip("*"):
            node = node.setdefault(ch, {})
        node["*" if word.endswith("*") else ""] = {}

    def regex(node: dict[str, Any]) -> str:
        branches = [
            re.escape(ch).replace("\\ ", "\\s+") + regex(node[ch])
            for ch in sorted(node)
            if ch not in ("", "*")
        ]
        if "*" in node:
            branches.append(r"\w*")
        if not branches:
            return ""
        body = "(?:" + "|".join(branches) + ")"
        return body + "?" if "" in node else body

    return regex(root)


_OPTION_SPLIT = re.compile(r"\s*(?:/|\||,|、|，|;|；|→|\bor\b|\bo\b|\bou\b|\boder\b|\bили\b)\s*")


@functools.cache
def title_words() -> tuple[str, ...]:
    """Table headers that hold titles, best first (`[word.title_column]`, cleaned)."""
    return tuple(dict.fromkeys(clean(w) for w in vocabulary().words["title_column"]))


@functools.cache
def issue_words() -> frozenset[str]:
    """Words that name an issue, cleaned, any language (`issue`, `problema`, `défaut`)."""
    found: set[str] = set()
    for role in ("issue", "issue_with_id", "issue_group"):
        found.update(clean(w.rstrip("*")) for w in vocabulary().words[role])
    return frozenset(w for w in found if len(w) >= 3 or UNSPACED.search(w))


def split_options(value: str) -> list[str]:
    """`Open / In Progress / Resolved` → the three options."""
    text = _EMPHASIS.sub(" ", value)
    return [part.strip() for part in _OPTION_SPLIT.split(text) if part.strip()]


def emoji_meaning(emoji: str) -> str | None:
    """What an emoji standing alone in a heading or value means (`✅` → `resolved`)."""
    return vocabulary().emoji.get(emoji.rstrip("\ufe0f\ufe0e"))


_QUALIFIER = re.compile(r"\s*[(\[（].*?[)\]）]\s*")
_SEPARATED = re.compile(r"\s+(?:-|–|—|/)\s+|\s*[(（]|\s*[:：]\s+")


def _lookup(table: dict[str, _E], raw: str) -> _E | None:
    key = clean(raw)
    if key in table:
        return table[key]
    # "Critical (Security Issue)", "🔴 ACTIVE - BLOCKING", "Medium - next week": try the head.
    bare = clean(_QUALIFIER.sub(" ", raw))
    if bare in table:
        return table[bare]
    head = clean(_SEPARATED.split(strip_emoji(raw).strip(), maxsplit=1)[0])
    return table.get(head)


@functools.lru_cache(maxsize=CACHE_SIZE)
def normalise_status(raw: str) -> Status | None:
    found = _lookup(vocabulary().statuses, raw)
    if found is None:
        # `**FIXED in sprint 2**`, `Resolved in v1.3.0`, `Corrigé dans la 2.1`: a state and
        # where it happened.
        m = _STATE_WHERE.match(strip_emoji(raw).replace("*", "").replace("_", " ").strip())
        if m is not None and not _MORE_TO_SAY.search(raw[m.end() :]):
            found = vocabulary().statuses.get(clean(m.group(1)))
    if found is None:
        # `🟡 PARTIAL`, `✅ VERIFIED LIVE`: words of the log's own legend after an emoji the
        # vocabulary knows; the emoji says the state.
        # Only a legend's short label (`PARTIAL`, `NEEDS FIX`): `✅ Running fine` says how a
        # service runs, not what state an issue is in.
        text = raw.replace("*", "").strip()
        lead = _EMOJI.match(text)
        label = text[lead.end() :].strip() if lead is not None else ""
        if lead is not None and (label.isupper() or " " not in label):
            meaning = emoji_meaning(lead.group(0).strip())
            if meaning is not None:
                found = vocabulary().statuses.get(clean(meaning))
    if found is None:
        # `✅ All Fixed`, `Tous corrigés`, `全部已修复`: a state said of every issue at once.
        rest = state_of_all(raw)
        if rest is not None:
            found = normalise_status(rest)
    return found


def state_of_all(raw: str) -> str | None:
    """`All fixed` → `fixed`: the words after one saying they hold for every issue
    (`[word.every]`), or None when the value starts with no such word."""
    key = clean(raw)
    for word in sorted(words("every"), key=len, reverse=True):
        if UNSPACED.search(word):
            if key.startswith(word) and len(key) > len(word):
                return key[len(word) :].strip()
        elif key.startswith(word + " "):
            return key[len(word) + 1 :].strip()
    return None


# `Fixed in Terraform, needs deployment`: the place is followed by what is still to do.
_MORE_TO_SAY = re.compile(r"[,;]|\s(?:but|needs?|pending|except|only|until)\b", re.IGNORECASE)

# A state followed by the release, sprint, version or change it happened in, or the means it
# was reached by (`Mitigado por contrato operativo`, `Contourné par un cache`).
_STATE_WHERE = re.compile(
    r"(.{2,30}?)\s+(?:in|since|by|with|via|as of|dans|depuis|en|em|seit|im|por|par|con|com|mit"
    r"|durch|desde|na|nesta|neste|nessa|nesse|nel|nella|dal|dalla)\s+\S",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=CACHE_SIZE)
def normalise_severity(raw: str) -> Severity | None:
    return _lookup(vocabulary().severities, raw)


@functools.lru_cache(maxsize=CACHE_SIZE)
def normalise_priority(raw: str) -> Priority | None:
    return _lookup(vocabulary().priorities, raw)


@functools.lru_cache(maxsize=CACHE_SIZE)
def normalise_type(raw: str) -> IssueType | None:
    return _lookup(vocabulary().types, raw)


def is_severity_word(word: str) -> bool:
    """Whether a cleaned word names a severity (`critical`, `alta`, `高`)."""
    return word in vocabulary().severities


def qualifier(raw: str) -> str:
    """The parenthesised remark of a value: `Critical (Security Issue)` → `security issue`."""
    m = re.search(r"[(（](.*?)[)）]", raw)
    return clean(m.group(1)) if m else ""


_DATE = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


# Logs repeat their dates (one a day at most), and a datetime is immutable: one per spelling.
@functools.lru_cache(maxsize=CACHE_SIZE)
def parse_date(raw: str) -> datetime | None:
    """The first date in a value (`2025-06-05 (from audit report)`), as UTC; None if none."""
    text = raw.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        m = _DATE.search(text)
        if m is None:
            return None
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in m.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@functools.lru_cache(maxsize=CACHE_SIZE)
def format_date(moment: datetime) -> str:
    """`2025-09-09` at midnight UTC, else the full ISO time in UTC."""
    moment = moment.astimezone(UTC)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        if moment.year >= 1000:  # what strftime gives, without its cost
            return f"{moment.year}-{moment.month:02d}-{moment.day:02d}"
        return moment.strftime("%Y-%m-%d")
    return moment.isoformat()


@functools.lru_cache(maxsize=CACHE_SIZE)
def field_for(name: str) -> str | None:
    """The draft attribute a field name (`**Service(s) Affected**`, `根因`) fills, if any; a name
    with a remark in parentheses (`Status (QA)`, `Severity (client)`) fills what the bare name
    fills."""
    fields = vocabulary().fields
    found = fields.get(clean(name))
    if found is None and ("(" in name or "（" in name):
        found = fields.get(clean(_QUALIFIER.sub(" ", name)))
    return found
