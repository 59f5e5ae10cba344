"""What each imported log said at its last import: about each of its issues, and besides them.

A re-import merges three ways (core.merge): the log then (`import_records`), the desk now and
the log now. One row per issue that came from a log: the log, the key the log matches the issue
by (its ID, else its title, as the log wrote them), the line, and a digest of every merged
field. `log_notes` keeps the log's other sections (core.notes), replaced at each import.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Table, Text

from passmuster.storage.schema import metadata
from passmuster.storage.types import UTCDateTime

import_records = Table(
    "import_records",
    metadata,
    Column(
        "issue_number",
        Integer,
        ForeignKey("issues.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("source", Text, nullable=False),
    Column("log_key", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("digests", JSON, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Index("ix_import_records_source", "source"),
)

log_notes = Table(
    "log_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Index("ix_log_notes_source", "source", "position"),
)
