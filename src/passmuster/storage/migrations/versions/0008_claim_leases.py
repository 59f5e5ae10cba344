"""Claim leases: who holds a claimed issue, since and until when.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

Adds three nullable columns to `issues` and an index on the lease's end (what the sweep that
returns lapsed claims reads). Issues claimed before this revision have no lease: they stay
assigned, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from passmuster.storage.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("issues") as batch:
        batch.add_column(sa.Column("lease_holder", sa.String(200), nullable=True))
        batch.add_column(sa.Column("leased_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("lease_until", UTCDateTime(), nullable=True))
    op.create_index("ix_issues_lease_until", "issues", ["lease_until"])


def downgrade() -> None:
    op.drop_index("ix_issues_lease_until", table_name="issues")
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("leased_at")
        batch.drop_column("lease_holder")
