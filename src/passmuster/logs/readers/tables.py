"""Logs kept as a table with one issue per row; header names are mapped onto fields.

A table counts as an issue table when one column holds the title (Title, Issue, Name, 标题, 问题)
and another a status, severity or priority. Other tables (statistics, matrices) stay notes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from passmuster.core.issues import IssueDraft
from passmuster.logs.builder import DraftBuilder
from passmuster.logs.fields import normaliser
from passmuster.logs.model import ParsedIssue, ParsedLog
from passmuster.logs.vocab import (
    clean,
    field_for,
    issue_words,
    title_words,
    words,
)

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_STATUSY = {"status", "severity", "priority"}


_TITLE_END = re.compile(r"\s+[—–]\s+|\s+-\s+|(?<=[.!?。])\s+|。")


def title_of(cell: str) -> str:
    """A row's title from a description cell: its first part or sentence when it says more."""
    text = cell.replace("**", "").strip()
    if len(text) <= 60:
        return text
    head = _TITLE_END.split(text, maxsplit=1)[0].strip()
    return head if 3 <= len(head) <= 160 else text


_STRUCK = re.compile(r"^~~(.*)~~$", re.DOTALL)


def _struck(cells: list[str]) -> bool:
    """Whether the row's first cell with text is struck through (`~~KI-001~~`)."""
    first = next((cell for cell in cells if cell.strip()), "")
    return bool(_STRUCK.match(first.strip()))


def _unstrike(cell: str) -> str:
    m = _STRUCK.match(cell.strip())
    return m.group(1).strip() if m else cell


def split_row(line: str) -> list[str]:
    """Cells of a table row; `\\|` is a pipe inside a cell."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    cells = re.split(r"(?<!\\)\|", text)
    return [cell.strip().replace("\\|", "|") for cell in cells]


def _title_columns(keys: list[str]) -> list[int]:
    """The columns that may hold each row's title, best first: by the rank of their title word
    (`Title` before `Description`), named exactly or as the start of the header (`Description
    de l'anomalie`)."""
    ranked: dict[int, int] = {}
    for index, key in enumerate(keys):
        for rank, word in enumerate(title_words()):
            if key == word or key.startswith(word + " "):
                ranked[index] = min(rank, ranked.get(index, rank))
    return sorted(ranked, key=ranked.__getitem__)


# A cell that is only an ID: `BUG-009`, `#12`, `[KI-3](…)`.
_ID_CELL = re.compile(r"^(?:#\d+|[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*[-_][A-Z]{0,3}\d+[A-Za-z]?)$")


def _only_ids(rows: list[list[str]], index: int) -> bool:
    """Whether every filled cell of a column is only an ID (`| Bug | Açıklama |` over
    `| BUG-009 | … |`): that column names the rows, another one titles them."""
    cells = [
        re.sub(r"\]\([^)]*\)", "", row[index]).strip("[]`*~ ") for row in rows if index < len(row)
    ]
    filled = [cell for cell in cells if cell]
    return bool(filled) and all(_ID_CELL.match(cell) for cell in filled)


def _title_column(keys: list[str], rows: list[list[str]]) -> tuple[int | None, int | None]:
    """The column holding each row's title, and a title-named column that holds only IDs."""
    candidates = _title_columns(keys)
    if not candidates:
        return None, None
    if len(candidates) > 1 and _only_ids(rows, candidates[0]):
        return candidates[1], candidates[0]
    return candidates[0], None


def _columns(header: list[str], rows: list[list[str]]) -> list[str | None] | None:
    """What each column holds, or None when the table does not list issues.

    A table lists issues when one column holds titles and the others show it: a status,
    severity or priority column, a title column named like an issue (`Problema`, `Bug`), an ID
    column beside another field, or two field columns. A table whose first column lists a
    field's values one per row (`| Severity | Meaning |`) is a legend.
    """
    keys = [clean(name) for name in header]
    title, ids = _title_column(keys, rows)
    if title is None:
        return None
    columns: list[str | None] = []
    for index, (name, key) in enumerate(zip(header, keys, strict=True)):
        if index == title:
            columns.append("title")
        elif index == ids or _names_id(key) or name.strip() == "#":
            columns.append("original_id")
        else:
            columns.append(field_for(name))
    fields = {c for c in columns if c} - {"title"}
    named = any(
        any(part in issue_words() for part in keys[named_by].split())
        or keys[named_by] in issue_words()
        for named_by in (title, ids)
        if named_by is not None
    )
    listing = (
        bool(_STATUSY & fields)
        or named
        or ("original_id" in fields and len(fields) >= 2)
        or len(fields - {"original_id"}) >= 2
    )
    if not listing or _is_legend(columns, rows):
        return None
    return columns


def _names_id(key: str) -> bool:
    """An ID column: `ID`, `No`, `ID Bug`, `Bug ID`, `编号`, an empty or `#` header."""
    return not key or key in words("id_column") or bool(set(key.split()) & words("id_column"))


def _is_legend(columns: list[str | None], rows: list[list[str]]) -> bool:
    """`| Status | Meaning |`, `| Statut | Nombre |`: the first column names one value of a
    vocabulary per row (a status, severity, priority or type), each once."""
    if columns[0] not in _STATUSY | {"type"} or len(columns) > 3 or not rows:
        return False
    values: list[object] = []
    for row in rows:
        cell = row[0] if row else ""
        value = next(
            (
                v
                for attr in ("status", "severity", "priority", "type")
                if (normalise := normaliser(attr)) is not None
                and (v := normalise(cell)) is not None
            ),
            None,
        )
        values.append(value)
    return None not in values and len(set(values)) == len(values)


def _tables(lines: list[str], inside: list[bool], indices: Sequence[int]) -> list[tuple[int, int]]:
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
        rows = [split_row(lines[indices[r]]) for r in range(k + 2, end + 1)]
        if _columns(split_row(lines[i]), rows) is not None and not _totals(rows):
            found.append((k, end))
        k = end + 1
    return found


def _totals(rows: list[list[str]]) -> bool:
    """A table that ends in its own total row (`| **Total** | | **69** |`) counts things, per
    session or category: a statistics table, not a list of issues."""
    last = rows[-1] if rows else []
    return bool(last) and clean(last[0]) in words("total") and len(rows) >= 2


def has_issue_table(lines: list[str], inside: list[bool], indices: Sequence[int]) -> bool:
    return bool(_tables(lines, inside, indices))


def lists_issues_by_id(lines: list[str], inside: list[bool], indices: Sequence[int]) -> bool:
    """Whether a section's own lines hold an issue table whose rows each carry an ID of their
    own and a status (`| CRIT-01 | Pool leak | ✅ |`): the section is a batch of issues (a work
    session, a sprint), and its fields describe the batch."""
    if not any(lines[i].lstrip().startswith("|") for i in indices):
        return False
    for first, last in _tables(lines, inside, indices):
        names = split_row(lines[indices[first]])
        rows = [split_row(lines[indices[pos]]) for pos in range(first + 2, last + 1)]
        columns = _columns(names, rows)
        if columns is None or "original_id" not in columns or not _STATUSY & set(columns):
            continue
        at = columns.index("original_id")
        ids = [row[at].replace("*", "").strip() for row in rows if at < len(row)]
        if len(rows) >= 2 and all(ids) and len(set(ids)) == len(ids):
            return True
    return False


def read_tables(
    lines: list[str],
    inside: list[bool],
    indices: Sequence[int],
    log: ParsedLog,
    *,
    status: str | None = None,
    severity: str | None = None,
) -> Sequence[int]:
    """Turn each issue table's rows into issues; return the lines that were not such tables.

    `status` and `severity` are what the section holding the tables says of its rows
    (`## ✅ Resolved`), for rows that do not say it themselves.
    """
    spans = _tables(lines, inside, indices)
    if not spans:
        return indices
    used: set[int] = set()
    for first, last in spans:
        header_line = indices[first]
        names = split_row(lines[header_line])
        rows = [split_row(lines[indices[pos]]) for pos in range(first + 2, last + 1)]
        columns = _columns(names, rows)
        assert columns is not None
        title_field = field_for(names[columns.index("title")])
        fixed_in = [k for k, name in enumerate(names) if clean(name) in words("fixed_in_column")]
        for pos in range(first + 2, last + 1):
            i = indices[pos]
            cells = split_row(lines[i])
            draft = IssueDraft(title="", source=log.source)
            builder = DraftBuilder(log, draft, i + 1)
            struck = _struck(cells)
            if struck:
                cells = [_unstrike(cell) for cell in cells]
            for column, name, cell in zip(columns, names, cells, strict=False):
                if not cell:
                    continue
                if column is None:
                    builder.extra(name.strip() or "(column)", cell)
                elif column == "title":
                    title = title_of(cell) if title_field not in (None, "title") else cell
                    title = title.replace("**", "").strip()
                    builder.set_field(name, "title", title, i + 1, subsection=False)
                    if title_field not in (None, "title") and title != cell:
                        builder.set_field(name, title_field, cell, i + 1, subsection=False)
                elif column == "original_id":
                    builder.set_field(name, column, cell.replace("**", ""), i + 1, subsection=False)
                else:
                    builder.set_field(name, column, cell, i + 1, subsection=False)
            fixed = [k for k in fixed_in if k < len(cells) and cells[k].strip(" -—–")]
            if fixed and not builder.has("status"):
                # `| Problem | Fixed in |` with `2.4`: the log says it is fixed by naming where.
                builder.set_field(names[fixed[0]], "status", "Resolved", i + 1, subsection=False)
            if struck and not builder.has("status"):
                # `| ~~KI-001~~ | ~~Key files not ignored~~ |`: a row struck through is done.
                builder.set_field("~~struck through~~", "status", "Done", i + 1, subsection=False)
            if status and not builder.has("status"):
                builder.set_field("section", "status", status, i + 1, subsection=False)
            if severity and not builder.has("severity"):
                builder.set_field("section", "severity", severity, i + 1, subsection=False)
            builder.finish()
            if not draft.title and not draft.original_id:
                # `|  |  |  | *(✅ Resolved)* |  |`: a row naming no issue, a remark on the table.
                log.warn(i + 1, "table row with neither a title nor an ID: not taken as an issue")
                continue
            if not draft.title:
                log.warn(i + 1, "table row without a title: kept with its first cell as title")
                draft.title = next((c for c in cells if c), "(untitled)")
            log.issues.append(
                ParsedIssue(draft=draft, line=i + 1, filled=builder.filled, origin="table")
            )
        used.update(indices[first : last + 1])
    return [i for i in indices if i not in used]
