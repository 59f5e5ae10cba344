"""Uptime days: every probe sample counted by target and day, for the status page's bars.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

Adds `monitor_uptime_days` and fills it with what the bars read until now: the day roll-ups
("d") plus the raw samples not compacted yet. From here on the monitor adds each sample to its
day as it stores it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitor_uptime_days",
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("day", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("target", "day", name=op.f("pk_monitor_uptime_days")),
    )
    from passmuster.storage.uptime_store import rebuild_uptime_days

    rebuild_uptime_days(op.get_bind())


def downgrade() -> None:
    op.drop_table("monitor_uptime_days")
