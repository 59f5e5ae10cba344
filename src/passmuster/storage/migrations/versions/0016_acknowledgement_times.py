"""An index for the statistics' acknowledgement times.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

The statistics read the time from each acknowledged issue's clock start to its acknowledgement
(for the mean time to acknowledge): `acknowledged IS NOT NULL`, a few issues of a large desk.
Without an index both databases scanned every issue's sums for them (15 ms on PostgreSQL, 9 ms
on SQLite at 100,000 issues with 1,200 acknowledged); this partial index holds only the
acknowledged issues, with what the query reads (both times and the report time its window
filters on), so it is read alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACKNOWLEDGED = sa.text("acknowledged IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_issue_timelines_acknowledged",
        "issue_timelines",
        ["acknowledged", "clock_start", "opened"],
        sqlite_where=_ACKNOWLEDGED,
        postgresql_where=_ACKNOWLEDGED,
    )


def downgrade() -> None:
    op.drop_index("ix_issue_timelines_acknowledged", table_name="issue_timelines")
