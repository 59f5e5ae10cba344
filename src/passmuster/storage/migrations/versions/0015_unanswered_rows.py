"""Indexes for the rows the timeline sums cannot answer alone.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

Both reports ask for the issues whose sums cannot answer at the report's moment (recorded out
of order, or changed after it): `regular = 0 OR last_start > moment`. With an index on each, the
databases read those few rows (PostgreSQL a bitmap OR, SQLite a multi-index OR) instead of
scanning every issue's sums for them.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_issue_timelines_regular", "issue_timelines", ["regular"])
    op.create_index("ix_issue_timelines_last_start", "issue_timelines", ["last_start"])


def downgrade() -> None:
    op.drop_index("ix_issue_timelines_last_start", table_name="issue_timelines")
    op.drop_index("ix_issue_timelines_regular", table_name="issue_timelines")
