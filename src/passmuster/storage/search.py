"""Full-text search: FTS5 on SQLite, a tsvector with a GIN index on PostgreSQL.

The index is written in the same transaction as the issue, so a search never sees a half-filed
issue. User text is reduced to plain words before it reaches either query language, so no input
can be a syntax error or an injection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    func,
    literal_column,
    select,
    text,
)

from passmuster.core.issues import IssueDraft
from passmuster.storage.issue_tables import issues

FTS_TABLE = "issues_fts"
TS_CONFIG = "english"
# to_tsvector refuses text over 1 MB; nobody searches past the first half of a giant log.
_MAX_BODY = 500_000
# Rank at most this many matches; past it, newest first (see ranked_numbers).
RANK_AT_MOST = 2_000
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words too common to tell issues apart; dropped from look-alike queries only.
_COMMON = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "not",
        "but",
        "are",
        "was",
        "were",
        "this",
        "that",
        "from",
        "have",
        "has",
        "had",
        "into",
        "when",
        "then",
        "than",
        "its",
        "can",
        "cannot",
        "all",
        "any",
        "our",
        "you",
        "your",
        "they",
        "their",
        "them",
        "will",
        "would",
        "should",
        "could",
        "been",
        "being",
        "issue",
        "issues",
        "error",
        "errors",
    ]
)


def search_body(draft: IssueDraft) -> str:
    """Everything searchable about an issue except its title."""
    parts: list[str] = [
        draft.description,
        draft.impact,
        *draft.error_details,
        draft.attempted_solutions,
        draft.root_cause,
        draft.resolution,
        draft.workaround,
        draft.prevention,
        draft.test_results,
        draft.component or "",
        " ".join(draft.services),
        " ".join(draft.labels),
        draft.original_id or "",
        *(f"{s.name}\n{s.body}" for s in draft.extra_sections),
        *(f"{f.path} {f.note}" for f in draft.files_changed),
        *(t.text for t in draft.tasks),
    ]
    return "\n".join(p for p in parts if p)[:_MAX_BODY]


def words(text: str) -> list[str]:
    """The plain words of `text`, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text):
        seen.setdefault(word.lower(), None)
    return list(seen)


def distinctive_words(text: str, *, limit: int = 24) -> list[str]:
    """Words worth matching on when looking for look-alikes: no short or very common ones."""
    return [w for w in words(text) if len(w) > 2 and w not in _COMMON][:limit]


def index_rows(
    connection: Connection, rows: Sequence[tuple[int, str, str]], *, fresh: bool = False
) -> None:
    """(Re)index issues given as (number, title, body).

    `fresh`: they were never indexed (on PostgreSQL the INSERT already computed the vector).
    """
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        if not fresh:
            connection.execute(
                text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :n"), [{"n": n} for n, _, _ in rows]
            )
        # Straight to the driver: the rows are already plain (int, str, str), and SQLAlchemy's
        # per-row parameter handling cost more than FTS5 indexing for a large import.
        connection.exec_driver_sql(
            f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (?, ?, ?)", list(rows)
        )
    elif connection.dialect.name == "postgresql" and not fresh:
        connection.execute(
            issues.update()
            .where(issues.c.number == bindparam("b_n"))
            .values(search_vector=pg_vector()),
            [{"b_n": n, "b_title": t, "b_body": b} for n, t, b in rows],
        )


def pg_vector() -> ColumnElement[Any]:
    """The tsvector of bound `b_title` (weight A) and `b_body` (weight B), for PostgreSQL."""
    config: ColumnElement[Any] = literal_column(f"'{TS_CONFIG}'")
    title = func.setweight(func.to_tsvector(config, bindparam("b_title")), literal_column("'A'"))
    body = func.setweight(func.to_tsvector(config, bindparam("b_body")), literal_column("'B'"))
    return title.op("||")(body)


def _fts5_query(terms: Iterable[str], joiner: str) -> str:
    return f" {joiner} ".join(f'"{t}"' for t in terms)


def _ts_query(terms: Iterable[str], joiner: str) -> ColumnElement[Any]:
    return func.to_tsquery(literal_column(f"'{TS_CONFIG}'"), f" {joiner} ".join(terms))


def matching_numbers(
    connection: Connection, terms: Sequence[str], *, any_word: bool = False
) -> Select[tuple[int]]:
    """A subquery of issue numbers matching all (or any) of `terms`, for use with IN."""
    if connection.dialect.name == "sqlite":
        query = _fts5_query(terms, "OR" if any_word else "AND")
        return (
            select(literal_column("rowid", type_=issues.c.number.type))
            .select_from(text(FTS_TABLE))
            .where(text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=query))
        )
    tsq = _ts_query(terms, "|" if any_word else "&")
    return select(issues.c.number).where(issues.c.search_vector.op("@@")(tsq))


def _broad(connection: Connection, terms: Sequence[str], any_word: bool) -> bool:
    """True when more issues match than are worth ranking one by one."""
    matches = matching_numbers(connection, terms, any_word=any_word).limit(RANK_AT_MOST + 1)
    count = connection.execute(select(func.count()).select_from(matches.subquery())).scalar_one()
    return int(count) > RANK_AT_MOST


def ranked_numbers(
    connection: Connection,
    terms: Sequence[str],
    *,
    any_word: bool = False,
    where: Sequence[ColumnElement[bool]] = (),
    limit: int = 20,
    always_rank: bool = False,
) -> list[int]:
    """Issue numbers matching `terms`, best match first (title matches weigh more).

    When more than RANK_AT_MOST issues match (a word nearly every issue uses), ranking them all
    would cost more than it tells: the newest matches come first instead, unless `always_rank`.
    """
    if not terms:
        return []
    if not always_rank and _broad(connection, terms, any_word):
        newest = (
            select(issues.c.number)
            .where(issues.c.number.in_(matching_numbers(connection, terms, any_word=any_word)))
            .where(*where)
            .order_by(issues.c.number.desc())
            .limit(limit)
        )
        return [int(n) for n in connection.execute(newest).scalars()]
    if connection.dialect.name == "sqlite":
        query = _fts5_query(terms, "OR" if any_word else "AND")
        fts = text(
            f"SELECT rowid AS number, bm25({FTS_TABLE}, 10.0, 1.0) AS rank FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH :fts_query"
        ).bindparams(fts_query=query)
        hits = fts.columns(
            literal_column("number", type_=issues.c.number.type),
            literal_column("rank"),
        ).subquery("hits")
        stmt = (
            select(hits.c.number)
            .join(issues, issues.c.number == hits.c.number)
            .where(*where)
            .order_by(hits.c.rank, hits.c.number)
            .limit(limit)
        )
        return [int(n) for n in connection.execute(stmt).scalars()]
    tsq = _ts_query(terms, "|" if any_word else "&")
    rank = func.ts_rank(issues.c.search_vector, tsq)
    pg_stmt = (
        select(issues.c.number)
        .where(issues.c.search_vector.op("@@")(tsq), *where)
        .order_by(rank.desc(), issues.c.number)
        .limit(limit)
    )
    return [int(n) for n in connection.execute(pg_stmt).scalars()]
