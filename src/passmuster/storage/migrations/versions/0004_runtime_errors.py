"""Runtime errors: ingest keys, error groups and what each group saw.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Creates the tables of storage/error_tables.py; nothing existing changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from passmuster.storage.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _group_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["group_id"],
        ["error_groups.id"],
        name=op.f(f"fk_{table}_group_id_error_groups"),
        ondelete="CASCADE",
    )


def _service_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["service_id"],
        ["services.id"],
        name=op.f(f"fk_{table}_service_id_services"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "error_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        _service_fk("error_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_error_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_error_keys_public_key")),
    )
    op.create_index("ix_error_keys_service_id", "error_keys", ["service_id"])
    op.create_table(
        "error_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("culprit", sa.Text(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("event_count", sa.BigInteger(), nullable=False),
        sa.Column("last_event_id", sa.String(length=32), nullable=True),
        sa.Column("resolve_mode", sa.String(length=20), nullable=True),
        sa.Column("resolve_release", sa.Text(), nullable=True),
        sa.Column("resolved_marker", UTCDateTime(), nullable=True),
        _service_fk("error_groups"),
        sa.ForeignKeyConstraint(
            ["issue_number"],
            ["issues.number"],
            name=op.f("fk_error_groups_issue_number_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_error_groups")),
        sa.UniqueConstraint("service_id", "key", name="uq_error_groups_service_id_key"),
    )
    op.create_index("ix_error_groups_issue_number", "error_groups", ["issue_number"])
    op.create_table(
        "error_group_hours",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        _group_fk("error_group_hours"),
        sa.PrimaryKeyConstraint("group_id", "hour", name=op.f("pk_error_group_hours")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "error_group_values",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        _group_fk("error_group_values"),
        sa.PrimaryKeyConstraint("group_id", "kind", "value", name=op.f("pk_error_group_values")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "error_group_users",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_hash", sa.String(length=32), nullable=False),
        _group_fk("error_group_users"),
        sa.PrimaryKeyConstraint("group_id", "user_hash", name=op.f("pk_error_group_users")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "error_event_ids",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        _service_fk("error_event_ids"),
        sa.PrimaryKeyConstraint("service_id", "event_id", name=op.f("pk_error_event_ids")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "error_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("release", sa.String(length=200), nullable=True),
        sa.Column("environment", sa.String(length=200), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        _group_fk("error_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_error_events")),
    )
    op.create_index("ix_error_events_group_id", "error_events", ["group_id", "id"])


def downgrade() -> None:
    for table in (
        "error_events",
        "error_event_ids",
        "error_group_users",
        "error_group_values",
        "error_group_hours",
        "error_groups",
        "error_keys",
    ):
        op.drop_table(table)
