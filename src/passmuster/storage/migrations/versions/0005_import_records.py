"""What each imported log said about each issue at its last import, for three-way re-imports.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

Creates the table of storage/import_tables.py; nothing existing changes. Issues imported before
this revision have no row: their next re-import takes the desk's values as the log's last ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from passmuster.storage.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_records",
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("log_key", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("digests", sa.JSON(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_number"],
            ["issues.number"],
            name=op.f("fk_import_records_issue_number_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_number", name=op.f("pk_import_records")),
    )
    op.create_index("ix_import_records_source", "import_records", ["source"])


def downgrade() -> None:
    op.drop_index("ix_import_records_source", table_name="import_records")
    op.drop_table("import_records")
