"""The bulk insert stores exactly what SQLAlchemy's own INSERT stores, on both databases, also
where it converts a repeated value once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    insert,
    select,
)

from passmuster.storage.bulk import insert_rows
from passmuster.storage.engine import create_desk_engine, write_transaction
from passmuster.storage.types import UTCDateTime

PLUS_TWO = timezone(timedelta(hours=2))
NOON = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)


def _table(metadata: MetaData, name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("at", UTCDateTime),
        Column("wall", DateTime),
        Column("items", JSON),
        Column("text", Text),
    )


def _rows() -> list[dict[str, Any]]:
    shared = [{"path": "a.py", "note": ""}]
    moments = [
        NOON,
        NOON.astimezone(PLUS_TWO),  # the same instant in another zone: equal to NOON
        NOON.replace(tzinfo=None),  # naive: taken as UTC by UTCDateTime, never equal to NOON
        None,
        NOON,
        NOON + timedelta(microseconds=1),
    ]
    values: list[Any] = [[], {}, shared, shared, ["é", "x"], None]
    return [
        {"id": n, "at": at, "wall": at, "items": items, "text": f"t{n % 2}"}
        for n, (at, items) in enumerate(zip(moments, values, strict=True))
    ]


def test_bulk_rows_are_stored_as_sqlalchemys_insert_stores_them(database_url: str) -> None:
    metadata = MetaData()
    bulk, plain = _table(metadata, "bulk_rows"), _table(metadata, "plain_rows")
    engine = create_desk_engine(database_url)
    try:
        metadata.create_all(engine)
        with write_transaction(engine) as connection:
            insert_rows(connection, bulk, _rows())
            connection.execute(insert(plain), _rows())
        with engine.connect() as connection:
            stored = [connection.execute(select(t).order_by(t.c.id)).all() for t in (bulk, plain)]
            # What the database holds, not what SQLAlchemy makes of it on the way back.
            raw = [
                connection.exec_driver_sql(
                    f"SELECT at, wall, CAST(items AS TEXT) FROM {t.name} ORDER BY id"
                ).all()
                for t in (bulk, plain)
            ]
    finally:
        metadata.drop_all(engine)
        engine.dispose()
    assert stored[0] == stored[1]
    assert raw[0] == raw[1]
    if engine.dialect.name == "sqlite":
        # A plain DateTime keeps the wall clock: the two equal instants are stored apart, so a
        # conversion shared between equal values would have shown above.
        assert raw[0][0][1] != raw[0][1][1]
