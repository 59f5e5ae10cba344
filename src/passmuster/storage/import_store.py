"""Reading and writing what logs said at their last import (storage/import_tables.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from passmuster.core.merge import ImportRecord
from passmuster.storage.import_tables import import_records

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
        connection.execute(insert(import_records), rows[start : start + _BATCH])
