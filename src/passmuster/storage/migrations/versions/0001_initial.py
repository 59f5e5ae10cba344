"""The initial desk: issues, services, links, comments, events, search, tokens, the monitor.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written out in full (not built from the current table modules) so that this revision always
creates the same schema; every later change is a new revision. A test compares the migrated
schema with the table modules, so a table changed without a revision fails the tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from passmuster.storage.types import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "desk_counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_desk_counters")),
    )
    op.create_table(
        "issues",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("severity_rank", sa.SmallInteger(), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=True),
        sa.Column("priority_rank", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("is_active", sa.SmallInteger(), nullable=False),
        sa.Column("close_reason", sa.String(length=20), nullable=True),
        sa.Column("component", sa.Text(), nullable=True),
        sa.Column("reporter", sa.Text(), nullable=True),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("reported_at", UTCDateTime(), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("attempted_solutions", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("workaround", sa.Text(), nullable=False),
        sa.Column("prevention", sa.Text(), nullable=False),
        sa.Column("test_results", sa.Text(), nullable=False),
        sa.Column("error_details", sa.JSON(), nullable=False),
        sa.Column("files_changed", sa.JSON(), nullable=False),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("extra_sections", sa.JSON(), nullable=False),
        sa.Column("original_values", sa.JSON(), nullable=False),
        sa.Column("original_id", sa.String(length=200), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(length=200), nullable=True),
        sa.Column(
            "search_vector",
            sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_issues")),
    )
    op.create_index("ix_issues_active", "issues", ["is_active", "number"], unique=False)
    op.create_index("ix_issues_active_updated", "issues", ["is_active", "updated_at"], unique=False)
    op.create_index(
        "ix_issues_active_urgency",
        "issues",
        ["is_active", "severity_rank", "priority_rank", "opened_at"],
        unique=False,
    )
    op.create_index("ix_issues_assignee", "issues", ["assignee"], unique=False)
    op.create_index("ix_issues_fingerprint", "issues", ["fingerprint"], unique=False)
    op.create_index("ix_issues_severity_rank", "issues", ["severity_rank"], unique=False)
    op.create_index(
        "ix_issues_source_original_id", "issues", ["source", "original_id"], unique=False
    )
    op.create_index("ix_issues_status", "issues", ["status", "number"], unique=False)
    op.create_index(
        "ix_issues_status_urgency",
        "issues",
        ["status", "severity_rank", "priority_rank", "opened_at"],
        unique=False,
    )
    op.create_index("ix_issues_type", "issues", ["type"], unique=False)
    op.create_index("ix_issues_updated_at", "issues", ["updated_at"], unique=False)
    op.create_index(
        "ix_issues_urgency", "issues", ["severity_rank", "priority_rank", "opened_at"], unique=False
    )
    op.create_table(
        "monitor_channels",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("disabled_at", sa.BigInteger(), nullable=True),
        sa.Column("sent", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_monitor_channels")),
    )
    op.create_table(
        "monitor_flips",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=128), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("old", sa.String(length=16), nullable=False),
        sa.Column("new", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("incident", sa.Integer(), nullable=True),
        sa.Column("suppressed_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_flips")),
    )
    op.create_index("ix_monitor_flips_target", "monitor_flips", ["target", "id"], unique=False)
    op.create_table(
        "monitor_jobs",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_monitor_jobs")),
    )
    op.create_table(
        "monitor_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("incident", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_outbox")),
        sa.UniqueConstraint("key", "channel", name="uq_monitor_outbox_key_channel"),
    )
    op.create_index(
        "ix_monitor_outbox_due", "monitor_outbox", ["status", "not_before"], unique=False
    )
    op.create_table(
        "monitor_rollups",
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("resolution", sa.String(length=1), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Integer(), nullable=False),
        sa.Column("latency_sum", sa.Float(), nullable=False),
        sa.Column("latency_max", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("target", "resolution", "bucket", name=op.f("pk_monitor_rollups")),
    )
    op.create_table(
        "monitor_samples",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("latency", sa.Float(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_samples")),
    )
    op.create_index("ix_monitor_samples_at", "monitor_samples", ["at"], unique=False)
    op.create_index(
        "ix_monitor_samples_target_at", "monitor_samples", ["target", "at"], unique=False
    )
    op.create_table(
        "monitor_targets",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=128), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("next_due", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("health", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("recent_failures", sa.Text(), nullable=False),
        sa.Column("since", sa.BigInteger(), nullable=True),
        sa.Column("flips", sa.Integer(), nullable=False),
        sa.Column("incident", sa.Integer(), nullable=True),
        sa.Column("incident_open", sa.Boolean(), nullable=False),
        sa.Column("incident_closed_at", sa.BigInteger(), nullable=True),
        sa.Column("last_at", sa.BigInteger(), nullable=True),
        sa.Column("last_ok", sa.Boolean(), nullable=True),
        sa.Column("last_latency", sa.Float(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_reason", sa.Text(), nullable=True),
        sa.Column("probes", sa.BigInteger(), nullable=False),
        sa.Column("probe_failures", sa.BigInteger(), nullable=False),
        sa.Column("latency_sum", sa.Float(), nullable=False),
        sa.Column("h0", sa.BigInteger(), nullable=False),
        sa.Column("h1", sa.BigInteger(), nullable=False),
        sa.Column("h2", sa.BigInteger(), nullable=False),
        sa.Column("h3", sa.BigInteger(), nullable=False),
        sa.Column("h4", sa.BigInteger(), nullable=False),
        sa.Column("h5", sa.BigInteger(), nullable=False),
        sa.Column("h6", sa.BigInteger(), nullable=False),
        sa.Column("h7", sa.BigInteger(), nullable=False),
        sa.Column("h8", sa.BigInteger(), nullable=False),
        sa.Column("h9", sa.BigInteger(), nullable=False),
        sa.Column("h10", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_monitor_targets")),
    )
    op.create_index(
        "ix_monitor_targets_due", "monitor_targets", ["active", "next_due"], unique=False
    )
    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("depends_on", sa.JSON(), nullable=False),
        sa.Column("health_url", sa.Text(), nullable=True),
        sa.Column("ports", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("name", name=op.f("uq_services_name")),
    )
    op.create_table(
        "web_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_web_settings")),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_number"],
            ["issues.number"],
            name=op.f("fk_comments_issue_number_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index("ix_comments_issue_number", "comments", ["issue_number", "id"], unique=False)
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issue_number"],
            ["issues.number"],
            name=op.f("fk_events_issue_number_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_issue_number", "events", ["issue_number", "id"], unique=False)
    op.create_index("ix_events_kind", "events", ["kind", "id"], unique=False)
    op.create_table(
        "issue_labels",
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_number"],
            ["issues.number"],
            name=op.f("fk_issue_labels_issue_number_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_number", "label", name=op.f("pk_issue_labels")),
    )
    op.create_index(
        "ix_issue_labels_label", "issue_labels", ["label", "issue_number"], unique=False
    )
    op.create_table(
        "issue_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_number"],
            ["issues.number"],
            name=op.f("fk_issue_links_issue_number_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_links")),
    )
    op.create_index("ix_issue_links_issue_number", "issue_links", ["issue_number"], unique=False)
    op.create_index("ix_issue_links_target_kind", "issue_links", ["target", "kind"], unique=False)
    op.create_table(
        "issue_services",
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_number"],
            ["issues.number"],
            name=op.f("fk_issue_services_issue_number_issues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_issue_services_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_number", "service_id", name=op.f("pk_issue_services")),
    )
    op.create_index(
        "ix_issue_services_service_id",
        "issue_services",
        ["service_id", "issue_number"],
        unique=False,
    )

    _create_search_objects()
    counters = sa.table(
        "desk_counters", sa.column("name", sa.String), sa.column("value", sa.Integer)
    )
    op.bulk_insert(counters, [{"name": "issues", "value": 0}])


def _create_search_objects() -> None:
    """SQLite searches an FTS5 table kept beside `issues`; PostgreSQL a GIN-indexed tsvector."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS issues_fts USING fts5("
            "title, body, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
    elif bind.dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_issues_search_vector ON issues USING gin (search_vector)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS issues_fts")
    op.drop_index("ix_issue_services_service_id", table_name="issue_services")
    op.drop_table("issue_services")
    op.drop_index("ix_issue_links_target_kind", table_name="issue_links")
    op.drop_index("ix_issue_links_issue_number", table_name="issue_links")
    op.drop_table("issue_links")
    op.drop_index("ix_issue_labels_label", table_name="issue_labels")
    op.drop_table("issue_labels")
    op.drop_index("ix_events_kind", table_name="events")
    op.drop_index("ix_events_issue_number", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_comments_issue_number", table_name="comments")
    op.drop_table("comments")
    op.drop_table("web_settings")
    op.drop_table("services")
    op.drop_index("ix_monitor_targets_due", table_name="monitor_targets")
    op.drop_table("monitor_targets")
    op.drop_index("ix_monitor_samples_target_at", table_name="monitor_samples")
    op.drop_index("ix_monitor_samples_at", table_name="monitor_samples")
    op.drop_table("monitor_samples")
    op.drop_table("monitor_rollups")
    op.drop_index("ix_monitor_outbox_due", table_name="monitor_outbox")
    op.drop_table("monitor_outbox")
    op.drop_table("monitor_jobs")
    op.drop_index("ix_monitor_flips_target", table_name="monitor_flips")
    op.drop_table("monitor_flips")
    op.drop_table("monitor_channels")
    op.drop_index("ix_issues_urgency", table_name="issues")
    op.drop_index("ix_issues_updated_at", table_name="issues")
    op.drop_index("ix_issues_type", table_name="issues")
    op.drop_index("ix_issues_status_urgency", table_name="issues")
    op.drop_index("ix_issues_status", table_name="issues")
    op.drop_index("ix_issues_source_original_id", table_name="issues")
    op.drop_index("ix_issues_severity_rank", table_name="issues")
    op.drop_index("ix_issues_fingerprint", table_name="issues")
    op.drop_index("ix_issues_assignee", table_name="issues")
    op.drop_index("ix_issues_active_urgency", table_name="issues")
    op.drop_index("ix_issues_active_updated", table_name="issues")
    op.drop_index("ix_issues_active", table_name="issues")
    op.drop_table("issues")
    op.drop_table("desk_counters")
    op.drop_table("api_tokens")
