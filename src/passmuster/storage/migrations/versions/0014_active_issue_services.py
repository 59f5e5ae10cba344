"""Active issues by service: what the statistics count their top services from.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

Adds `active_issue_services`, the issue_services rows of active issues with each issue's report
time, and fills it from those rows and the timeline sums; a desk from before 0011 gets its sums
here, derived from its events. The store keeps both in the transaction of every change from then
on (storage.timeline_sums).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "active_issue_services",
        sa.Column(
            "service_id",
            sa.Integer(),
            sa.ForeignKey("services.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "issue_number",
            sa.Integer(),
            sa.ForeignKey("issues.number", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("opened", sa.BigInteger(), nullable=False),
    )
    op.execute(
        "INSERT INTO active_issue_services (service_id, issue_number, opened)"
        " SELECT x.service_id, x.issue_number, t.opened"
        " FROM issue_services x JOIN issue_timelines t ON t.issue_number = x.issue_number"
        " WHERE t.is_active = 1"
    )
    # A desk that comes from before 0011 has no sums yet: every issue's, from its events, the
    # way new changes keep them (with its active services). Written with today's sums code, so
    # it belongs to the newest migration that changes what the sums keep.
    from passmuster.storage.issue_tables import issue_timelines, issues
    from passmuster.storage.timeline_sums import refresh

    connection = op.get_bind()
    missing = sa.select(issues.c.number).where(
        ~sa.exists().where(issue_timelines.c.issue_number == issues.c.number)
    )
    refresh(connection, [n for (n,) in connection.execute(missing)])


def downgrade() -> None:
    op.drop_table("active_issue_services")
