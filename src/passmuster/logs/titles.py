"""What a section's title says about it, in any language the vocabulary knows.

- a part of an issue (`### Root Cause`, `### 症状`, `### 1. 문제 상황 (Problem)`): `section_field`
  and `is_section_title`;
- a part of the log (`## Format`, `## Legend`, `## 目次`): `is_note_title`;
- a list of issues, and what it says of them (`## Known Issues`, `## Résolus`, `## 🔴 Critical`,
  `## 🐛 Bugs`): `section_meaning`;
- a placeholder (`[Title]`, `YYYY-MM-DD`, `Issue #XXX`): `PLACEHOLDER`, `has_placeholder`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from passmuster.core.issues import IssueType
from passmuster.logs.fields import normaliser
from passmuster.logs.vocab import (
    CACHE_SIZE,
    UNSPACED,
    clean,
    field_for,
    normalise_priority,
    normalise_severity,
    normalise_status,
    normalise_type,
    split_options,
    strip_emoji,
    word_pattern,
    words,
)

_PARENS = re.compile(r"\s*[(（\[【]([^()（）\[\]【】]*)[)）\]】]\s*")
_NUMBERING = re.compile(r"^\s*(?:\d{1,3}(?:\.\d{1,3})*[.):：]?|[a-zA-Z][.)])\s+")
# `{name}` is a fill-in, but not as a step of a URL path: `GET /items/{id}` names the route.
PLACEHOLDER = re.compile(
    r"\[(?:[^\]\[]{0,30}\b(?:title|name|date|description|agent|service|summary|issue|"
    r"placeholder|x{2,})\b[^\]\[]{0,30}"
    r"|[^\]\[]*(?:名|标题|タイトル|제목|título|titre|titel|название|описание|descripción|"
    r"descrição|beschreibung|描述|説明|설명)[^\]\[]*)\]"
    r"|\bYYYY-MM-DD\b|\b(?:XXX+|xxx+)\b|<[a-z][a-z _-]{2,30}>|(?<!/)\{\{?[a-z_]+\}?\}(?!/)",
    re.IGNORECASE,
)


# Values a template leaves for the writer to fill: `...`, `web|bot|infra`, `tag1, tag2`,
# `(commit/tag)`.
_FILL_IN = re.compile(
    r"^\s*(?:\.{2,}|…|-|—|"
    r"[\w.-]+(?:\s*\|\s*[\w.-]+){2,}|"
    r"\w*\d(?:\s*,\s*\w*\d)+|"
    r"\([\w -]{1,20}/[\w -]{1,20}\))\s*$"
)


_CODE_SPAN = re.compile(r"`[^`\n]*`")


@functools.lru_cache(maxsize=CACHE_SIZE)
def has_placeholder(title: str) -> bool:
    """A heading a template leaves to be filled (`### BUG-XXX: [Title]`); code in backticks
    (`PUT /households/{id}/head`) is the issue's own words, not a fill-in."""
    if not _may_hold_placeholder(title):
        return False
    return PLACEHOLDER.search(_CODE_SPAN.sub(" ", title)) is not None


@functools.lru_cache(maxsize=CACHE_SIZE)
def is_placeholder(value: str) -> bool:
    """A value a template leaves to be filled (`YYYY-MM-DD`, `[Agent Name]`, `...`)."""
    text = value.strip().strip("*_`").strip()
    return bool((_may_hold_placeholder(text) and PLACEHOLDER.search(text)) or _FILL_IN.match(text))


def _may_hold_placeholder(text: str) -> bool:
    """Whether PLACEHOLDER could match: each of its forms holds a `[`, `<` or `{`, or `xxx` or
    `yyyy` in some case (no other character matches x or y ignoring case). Most titles hold
    none, and these tests cost far less than the search."""
    if "[" in text or "<" in text or "{" in text:
        return True
    lower = text.lower()
    return "xxx" in lower or "yyyy" in lower


def _bare(title: str) -> str:
    """The title without numbering, emoji and emphasis."""
    text = strip_emoji(title.replace("**", "").replace("__", "")).strip()
    return _NUMBERING.sub("", text).strip().rstrip(":：").strip()


@functools.lru_cache(maxsize=CACHE_SIZE)
def section_field(title: str) -> str | None:
    """The field a subsection's title names: `Root Cause`, `2. 원인 분석 (Analysis)` → ...

    Tried as written, without its parenthesised aside, by the aside alone, and for text
    without spaces (Chinese, Japanese) by a field name it starts or ends with.
    """
    text = _bare(title)
    candidates = [text, _PARENS.sub(" ", text).strip()]
    candidates.extend(inner.strip() for inner in _PARENS.findall(text))
    for candidate in candidates:
        target = field_for(candidate) if candidate else None
        if target is not None:
            return target
    core = _PARENS.sub(" ", text).strip()
    if UNSPACED.search(core) and len(core) <= 10 and not _group_pattern().search(core[-3:]):
        # `一時的な回避策` is a workaround; `起動時の問題` (problems at start) is a list of issues.
        for name, target in _unspaced_fields():
            if core.startswith(name) or core.endswith(name):
                return target
    return None


@functools.cache
def _unspaced_fields() -> tuple[tuple[str, str], ...]:
    from passmuster.logs.vocab import vocabulary

    fields = vocabulary().fields.items()
    names = [(name, target) for name, target in fields if UNSPACED.search(name)]
    return tuple(sorted(names, key=lambda item: -len(item[0])))


@functools.lru_cache(maxsize=CACHE_SIZE)
def names_a_part(title: str) -> bool:
    """A title that is exactly the name of an issue's part (`Root Cause`, `Symptoms`, `문제 요약`):
    such a section is part of an issue even when it holds field lines."""
    text = _PARENS.sub(" ", _bare(title)).strip()
    key = _LIKELY.sub("", clean(text))
    return field_for(text) is not None or field_for(key) is not None or key in words("section")


# A part's name with a word saying how sure the writer is after it, where a language puts its
# adjectives after the noun: `Diagnóstico Mais Provável`, `Causa probable`, `Cause probable`.
_LIKELY = re.compile(
    r"\s+(?:(?:mais|más|plus|più|am)\s+)?(?:provável|provavel|prováveis|probable|probables|"
    r"probabile|probabili|vraisemblable|wahrscheinlich\w*|вероятн\w*)$"
)


@functools.lru_cache(maxsize=CACHE_SIZE)
def is_section_title(title: str) -> bool:
    """A title that names a part of an issue rather than an issue (`Symptoms`, `Objetivo`)."""
    if section_field(title) is not None:
        return True
    text = _PARENS.sub(" ", _bare(title)).strip()
    key = clean(text)
    if not key:
        return False
    parts = words("section")
    if key in parts or names_a_part(title):
        return True
    asides = [clean(inner) for inner in _PARENS.findall(_bare(title))]
    if any(aside in parts or field_for(aside) for aside in asides if aside):
        return True
    if UNSPACED.search(key) and len(key) <= 10:
        return any(key.startswith(p) or key.endswith(p) for p in parts if UNSPACED.search(p))
    # `Proposed Solution`, `최종 해결책`: a word before a part's name.
    _, _, rest = key.partition(" ")
    return bool(rest) and len(key.split()) <= 3 and (rest in parts or field_for(rest) is not None)


@functools.cache
def _note_pattern() -> re.Pattern[str]:
    return re.compile(word_pattern("note"), re.IGNORECASE)


@functools.lru_cache(maxsize=CACHE_SIZE)
def is_note_title(title: str) -> bool:
    """A title that names a part of the log (`Issue Reporting Format`, `Next Steps`, `目次`)."""
    text = strip_emoji(title)
    return bool(_note_pattern().search(text) or _note_pattern().search(clean(text)))


@dataclass(frozen=True, slots=True)
class SectionMeaning:
    """What a section title says about the issues listed under it."""

    status: str | None
    severity: str | None
    type: IssueType | None
    group: bool  # it names a list of issues


@functools.cache
def _group_pattern() -> re.Pattern[str]:
    return re.compile(word_pattern("issue_group", "issue", "issue_with_id"), re.IGNORECASE)


@functools.lru_cache(maxsize=CACHE_SIZE)
def section_meaning(title: str) -> SectionMeaning | None:
    """`Resolved Issues` → resolved; `## 1. CRITICAL — 即時対応必須` → critical; `🐛 Bugs` → bug;
    `Known Issues`, `その他のよくある問題` → a list of issues. None when it says nothing of that."""
    text = _bare(title)
    if not text:
        return None
    group = _group_pattern().search(text) is not None
    # The title without the words that name issues: what is left may be a state or severity.
    rest = _group_pattern().sub(" ", text)
    rest = re.sub(word_pattern("group_filler"), " ", rest, flags=re.IGNORECASE).strip(" -–—:：|")
    candidates = [c for c in (rest, _PARENS.sub(" ", rest).strip(), text) if c]
    head = re.split(r"\s+[-–—|:：]\s+|\s*[(（]", text, maxsplit=1)[0].strip()
    candidates.append(head)
    status = next((c for c in candidates if _whole(c) and normalise_status(c) is not None), None)
    severity = next(
        (
            c
            for c in candidates
            if _whole(c)
            and (normalise_severity(c) is not None or normalise_priority(c) is not None)
        ),
        None,
    )
    if severity is not None and normalise_severity(severity) is None:
        severity = None  # a priority rank (`High Priority`) says nothing of the severity
    typ = normalise_type(text)
    if status is None and severity is None and typ is None and not group:
        return None
    return SectionMeaning(status, severity, typ, group or typ is not None)


def _whole(text: str) -> bool:
    """A short title: a state or severity named by a word or two, not a sentence."""
    return 0 < len(clean(text).split()) <= 3


def enumerates(target: str, value: str) -> bool:
    """`Open / In Progress / Resolved`: a field value listing the options (a legend, a
    template), not one issue's value."""
    normalise = normaliser(target)
    if normalise is None:
        return False
    options = split_options(value)
    if len(options) < 2:
        return False
    return len({normalise(option) for option in options} - {None}) >= 2
