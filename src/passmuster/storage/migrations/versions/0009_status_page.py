"""The status page: maintenance windows, incident updates and day roll-ups of probe history.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

Day roll-ups ("d") are added to `monitor_rollups` as raw samples are compacted from now on;
the history already rolled into minutes and hours is summed into days here, so the uptime bars
show the past at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from passmuster.storage.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY_MS = 86_400_000


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("services", sa.Text(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("recurrence", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
    )
    op.create_index(
        "ix_maintenance_windows_cancelled", "maintenance_windows", ["cancelled_at"], unique=False
    )
    op.create_table(
        "incident_updates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident"],
            ["issues.number"],
            name=op.f("fk_incident_updates_incident_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_updates")),
    )
    op.create_index(
        "ix_incident_updates_incident", "incident_updates", ["incident", "id"], unique=False
    )
    op.create_index("ix_incident_updates_at", "incident_updates", ["at"], unique=False)
    op.execute(
        sa.text(
            "INSERT INTO monitor_rollups "
            "(target, resolution, bucket, count, ok, latency_sum, latency_max) "
            "SELECT target, 'd', bucket - bucket % :day, SUM(count), SUM(ok), "
            "SUM(latency_sum), MAX(latency_max) FROM monitor_rollups "
            "WHERE resolution IN ('m', 'h') GROUP BY target, bucket - bucket % :day"
        ).bindparams(day=DAY_MS)
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM monitor_rollups WHERE resolution = 'd'"))
    op.drop_index("ix_incident_updates_at", table_name="incident_updates")
    op.drop_index("ix_incident_updates_incident", table_name="incident_updates")
    op.drop_table("incident_updates")
    op.drop_index("ix_maintenance_windows_cancelled", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
