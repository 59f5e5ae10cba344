"""Column types shared by the desk's tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Text
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always gives back an aware UTC datetime.

    SQLite keeps no zone, so values are normalised to UTC before they are written; a naive value
    is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return utc_datetime(value)


def utc_datetime(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime: SQLite gives the ISO text written above (or,
    through SQLAlchemy's own conversion, a naive datetime), PostgreSQL an aware datetime.
    Bulk reads that select the raw column call this themselves (storage.issue_store)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class SearchVector(TypeDecorator[Any]):
    """A tsvector on PostgreSQL; SQLite searches through a separate FTS5 table instead, and keeps
    a plain (unused) text column. PostgreSQL's type is loaded only for a PostgreSQL desk: the
    dialect's modules are a good part of every command's start-up on a SQLite desk."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import TSVECTOR

            return dialect.type_descriptor(TSVECTOR())
        return dialect.type_descriptor(Text())


def search_vector_type() -> TypeEngine[Any]:
    """A tsvector on PostgreSQL; SQLite searches through a separate FTS5 table instead."""
    return SearchVector()
