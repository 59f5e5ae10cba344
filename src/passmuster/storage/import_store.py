"""Reading and writing what logs said at their last import (storage/import_tables.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from passmuster.core.merge import MERGED_FIELDS, ImportRecord
from passmuster.core.notes import LogNote
from passmuster.storage.bulk import insert_rows
from passmuster.storage.import_tables import import_records, log_notes

# Bounded batches keep every statement under the drivers' parameter limits.
_BATCH = 5_000

# A record's digests are kept as one text, "<order>:<digest> <digest> …", the digests of the
# fields that order names, in its order: as a JSON object, the field names repeated in every
# record were over half its bytes, and a tenth of a 10,000-issue desk's. The order's name lets
# a later passmuster that merges other fields still read these; records kept as a JSON object
# (before this form) are read as they are.
DIGEST_ORDERS: dict[str, tuple[str, ...]] = {"m1": MERGED_FIELDS}
_ORDER_NOW = "m1"


def packed_digests(digests: Mapping[str, str]) -> str | dict[str, str]:
    """The stored form of a record's digests (a JSON object when they are not the merged
    fields in their order)."""
    if tuple(digests) == DIGEST_ORDERS[_ORDER_NOW]:
        text = " ".join(digests.values())
        if text.count(" ") == len(digests) - 1:  # no digest holds a space
            return f"{_ORDER_NOW}:{text}"
    return dict(digests)


def unpacked_digests(stored: Any) -> Mapping[str, str]:
    """A record's digests as stored, by field. An order this passmuster does not know (written
    by a later one) reads as no digests: the record then says nothing of the log's last values,
    as for an issue imported before logs were remembered."""
    if isinstance(stored, str):
        name, _, text = stored.partition(":")
        names = DIGEST_ORDERS.get(name)
        values = text.split(" ")
        if names is None or len(values) != len(names):
            return {}
        return dict(zip(names, values, strict=True))
    return stored  # type: ignore[no-any-return]


def records_for(connection: Connection, source: str) -> list[ImportRecord]:
    """Every issue the log `source` gave at its last import."""
    rows = connection.execute(
        select(
            import_records.c.issue_number,
            import_records.c.log_key,
            import_records.c.line,
            import_records.c.digests,
        ).where(import_records.c.source == source)
    ).all()
    return [ImportRecord(row[0], source, row[1], row[2], unpacked_digests(row[3])) for row in rows]


def save_records(connection: Connection, records: Sequence[ImportRecord], *, now: datetime) -> None:
    """Remember what the logs said now: one row per issue, replacing the one before."""
    numbers = [record.number for record in records]
    for start in range(0, len(numbers), _BATCH):
        batch = numbers[start : start + _BATCH]
        connection.execute(delete(import_records).where(import_records.c.issue_number.in_(batch)))
    rows = [
        {
            "issue_number": record.number,
            "source": record.source,
            "log_key": record.key,
            "line": record.line,
            "digests": packed_digests(record.digests),
            "imported_at": now,
        }
        for record in records
    ]
    for start in range(0, len(rows), _BATCH):
        # The bulk insert: straight to the driver on SQLite, values converted as SQLAlchemy
        # would (a 10,000-issue import remembers 10,000 records).
        insert_rows(connection, import_records, rows[start : start + _BATCH])


def replace_notes(
    connection: Connection, source: str, notes: Sequence[LogNote], *, now: datetime
) -> None:
    """The log `source`'s notes are now `notes` (its notes from before go)."""
    connection.execute(delete(log_notes).where(log_notes.c.source == source))
    rows = [
        {
            "source": source,
            "position": position,
            "line": note.line,
            "title": note.title,
            "body": note.body,
            "imported_at": now,
        }
        for position, note in enumerate(notes)
    ]
    for start in range(0, len(rows), _BATCH):
        connection.execute(insert(log_notes), rows[start : start + _BATCH])


def notes(connection: Connection, source: str | None = None) -> list[LogNote]:
    """The notes of one log, or of every log (by log, in each log's order)."""
    query = select(log_notes.c.source, log_notes.c.line, log_notes.c.title, log_notes.c.body)
    if source is not None:
        query = query.where(log_notes.c.source == source)
    rows = connection.execute(query.order_by(log_notes.c.source, log_notes.c.position)).all()
    return [LogNote(row[0], row[1], row[2], row[3]) for row in rows]
