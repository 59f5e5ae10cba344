"""Timeline sums: what the whole-desk reports (stats, sla) add up in SQL.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

Adds `issue_timelines`, one row per issue derived from its row and its event log
(core.timeline_sums); 0013 fills it for every issue already on the desk from those same events.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from passmuster.core.issues import ACTIVE_STATUSES

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "issue_timelines",
        sa.Column(
            "issue_number",
            sa.Integer(),
            sa.ForeignKey("issues.number", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("is_active", sa.SmallInteger(), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("opened", sa.BigInteger(), nullable=False),
        sa.Column("opened_month", sa.String(10), nullable=False),
        sa.Column("resolved", sa.BigInteger()),
        sa.Column("clock_start", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged", sa.BigInteger()),
        sa.Column("finished", sa.BigInteger()),
        sa.Column("last_start", sa.BigInteger(), nullable=False),
        sa.Column("last_status", sa.String(20), nullable=False),
        sa.Column("regular", sa.SmallInteger(), nullable=False),
        *(
            sa.Column(f"{prefix}_{status.value}", sa.BigInteger(), nullable=False)
            for prefix in ("in", "to_ack")
            for status in ACTIVE_STATUSES
        ),
        sa.Column("segments", sa.Text(), nullable=False),
    )
    op.create_index("ix_issue_timelines_opened", "issue_timelines", ["opened"])
    # Every existing issue's sums are filled from its events by 0013, which adds the last
    # columns today's sums have (storage.timeline_sums writes them all).


def downgrade() -> None:
    op.drop_index("ix_issue_timelines_opened", table_name="issue_timelines")
    op.drop_table("issue_timelines")
