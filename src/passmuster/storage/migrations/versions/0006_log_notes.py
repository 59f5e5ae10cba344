"""The notes of imported logs: what a log says besides its issues.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Creates `log_notes` (storage/import_tables.py); nothing existing changes. Logs imported before
this revision have no notes until their next import.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from passmuster.storage.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_notes")),
    )
    op.create_index("ix_log_notes_source", "log_notes", ["source", "position"])


def downgrade() -> None:
    op.drop_index("ix_log_notes_source", table_name="log_notes")
    op.drop_table("log_notes")
