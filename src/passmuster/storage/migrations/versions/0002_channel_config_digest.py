"""Notification channels remember a digest of their configuration.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

A channel disabled by a permanent error (a 4xx from its receiver) is enabled again when its
configuration changes; the digest is how the monitor sees that it did, across restarts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("monitor_channels") as batch:
        batch.add_column(sa.Column("config_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitor_channels") as batch:
        batch.drop_column("config_digest")
