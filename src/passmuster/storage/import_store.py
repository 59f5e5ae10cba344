"""Reading and writing what logs said at their last import (storage/import_tables.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from passmuster.core.merge import ImportRecord
from passmuster.core.notes import LogNote
from passmuster.storage.bulk import insert_rows
from passmuster.storage.import_tables import import_records, log_notes

# Bounded batches keep every statement under the drivers' parameter limits.
_BATCH = 5_000


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
    return [ImportRecord(row[0], source, row[1], row[2], row[3]) for row in rows]


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
            "digests": dict(record.digests),
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
