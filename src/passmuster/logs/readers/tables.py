"""Logs kept as a table with one issue per row; header names are mapped onto fields.

A table counts as an issue table when one column holds the title (Title, Issue, Name, 标题, 问题)
and another a status, severity or priority. Other tables (statistics, matrices) stay notes.
"""

from __future__ import annotations

import re

from passmuster.core.issues import IssueDraft
from passmuster.logs.builder import DraftBuilder
from passmuster.logs.model import ParsedIssue, ParsedLog
from passmuster.logs.vocab import clean, field_for, words

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_STATUSY = {"status", "severity", "priority"}


def split_row(line: str) -> list[str]:
    """Cells of a table row; `\\|` is a pipe inside a cell."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    cells = re.split(r"(?<!\\)\|", text)
    return [cell.strip().replace("\\|", "|") for cell in cells]


def _columns(header: list[str]) -> list[str | None] | None:
    columns: list[str | None] = []
    for name in header:
        key = clean(name)
        if key in ("title", "issue", "name", "summary", "标题", "问题", "主题"):
            columns.append("title")
        elif key in words("id_column") or not key:
            columns.append("original_id")
        else:
            columns.append(field_for(name))
    if "title" not in columns or not _STATUSY & {c for c in columns if c}:
        return None
    return columns


def _tables(lines: list[str], inside: list[bool], indices: list[int]) -> list[tuple[int, int]]:
    """(first, last) positions in `indices` of each issue table."""
    found: list[tuple[int, int]] = []
    k = 0
    while k + 1 < len(indices):
        i = indices[k]
        if inside[i] or not lines[i].lstrip().startswith("|"):
            k += 1
            continue
        nxt = indices[k + 1]
        if nxt != i + 1 or not _SEPARATOR.match(lines[nxt]):
            k += 1
            continue
        end = k + 1
        while (
            end + 1 < len(indices)
            and indices[end + 1] == indices[end] + 1
            and lines[indices[end + 1]].lstrip().startswith("|")
        ):
            end += 1
        if _columns(split_row(lines[i])) is not None:
            found.append((k, end))
        k = end + 1
    return found


def has_issue_table(lines: list[str], inside: list[bool], indices: list[int]) -> bool:
    return bool(_tables(lines, inside, indices))


def read_tables(
    lines: list[str], inside: list[bool], indices: list[int], log: ParsedLog
) -> list[int]:
    """Turn each issue table's rows into issues; return the lines that were not such tables."""
    spans = _tables(lines, inside, indices)
    if not spans:
        return indices
    used: set[int] = set()
    for first, last in spans:
        header_line = indices[first]
        columns = _columns(split_row(lines[header_line]))
        assert columns is not None
        names = split_row(lines[header_line])
        for pos in range(first + 2, last + 1):
            i = indices[pos]
            cells = split_row(lines[i])
            draft = IssueDraft(title="", source=log.source)
            builder = DraftBuilder(log, draft, i + 1)
            for column, name, cell in zip(columns, names, cells, strict=False):
                if not cell:
                    continue
                if column is None:
                    builder.extra(name.strip() or "(column)", cell)
                else:
                    builder.set_field(name, column, cell, i + 1, subsection=False)
            builder.finish()
            if not draft.title:
                log.warn(i + 1, "table row without a title: kept with its first cell as title")
                draft.title = next((c for c in cells if c), "(untitled)")
            log.issues.append(
                ParsedIssue(draft=draft, line=i + 1, filled=builder.filled, origin="table")
            )
        used.update(indices[first : last + 1])
    return [i for i in indices if i not in used]
