"""Timeline sums carry what the reports list: title, assignee, priority and severity rank.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

The SLA report and the statistics' priority matrix list every active issue of a desk by number,
title, severity, status, assignee and priority. With these in `issue_timelines` beside the
sums, the reports read that one narrow table instead of joining the issues table row by row.
Two indexes let SQLite count and list in their order instead of sorting every row. The columns
are copied from each issue's row here, and the store keeps them with the other sums in the
transaction of every change from then on (storage.timeline_sums).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("issue_timelines") as batch:
        batch.add_column(sa.Column("title", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("assignee", sa.String(200)))
        batch.add_column(sa.Column("priority", sa.String(20)))
        batch.add_column(
            sa.Column("severity_rank", sa.SmallInteger(), nullable=False, server_default="0")
        )
    copied = ("title", "assignee", "priority", "severity_rank")
    op.execute(
        "UPDATE issue_timelines SET "
        + ", ".join(
            f"{name} = (SELECT i.{name} FROM issues i"
            " WHERE i.number = issue_timelines.issue_number)"
            for name in copied
        )
    )
    op.create_index(
        "ix_issue_timelines_counts",
        "issue_timelines",
        ["opened_month", "severity", "status", "type", "resolved"],
    )
    op.create_index(
        "ix_issue_timelines_active",
        "issue_timelines",
        ["is_active", "severity_rank", "issue_number"],
    )
    # A desk from before 0011 gets its sums derived by 0014, which adds the last table they
    # keep (storage.timeline_sums writes both).


def downgrade() -> None:
    op.drop_index("ix_issue_timelines_active", table_name="issue_timelines")
    op.drop_index("ix_issue_timelines_counts", table_name="issue_timelines")
    with op.batch_alter_table("issue_timelines") as batch:
        batch.drop_column("severity_rank")
        batch.drop_column("priority")
        batch.drop_column("assignee")
        batch.drop_column("title")
