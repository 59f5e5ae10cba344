"""Deployments: rollout runs and their per-service attempts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from passmuster.storage.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deploy_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=True),
        sa.Column("services", sa.Text(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deploy_runs")),
    )
    op.create_index("ix_deploy_runs_status", "deploy_runs", ["status"], unique=False)
    op.create_table(
        "deploy_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run", sa.Integer(), nullable=True),
        sa.Column("service", sa.String(length=128), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("commit", sa.String(length=64), nullable=True),
        sa.Column("service_commit", sa.String(length=64), nullable=True),
        sa.Column("service_commit_at", UTCDateTime(), nullable=True),
        sa.Column("failure", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("logs", sa.Text(), nullable=False),
        sa.Column("issue", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("environment", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("pgid", sa.Integer(), nullable=True),
        sa.Column("process", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["run"],
            ["deploy_runs.id"],
            name=op.f("fk_deploy_attempts_run_deploy_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deploy_attempts")),
        sa.UniqueConstraint(
            "source", "external_id", "service", name=op.f("uq_deploy_attempts_source")
        ),
    )
    op.create_index(
        "ix_deploy_attempts_service", "deploy_attempts", ["service", "id"], unique=False
    )
    op.create_index("ix_deploy_attempts_result", "deploy_attempts", ["result"], unique=False)
    op.create_index(
        "ix_deploy_attempts_finished_at", "deploy_attempts", ["finished_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("deploy_attempts")
    op.drop_table("deploy_runs")
