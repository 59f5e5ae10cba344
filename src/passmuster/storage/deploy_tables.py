"""The deployments' tables: runs (one rollout each) and attempts (one service in one run, or one
deployment a CI system reported)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from passmuster.storage.schema import metadata
from passmuster.storage.types import UTCDateTime

deploy_runs = Table(
    "deploy_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("status", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("source", String(16), nullable=False),
    Column("commit", String(64), nullable=True),
    Column("services", Text, nullable=False, default=""),  # the plan's services, space-separated
    Column("options", Text, nullable=False, default=""),
    # The process running it (host:pid:start), and until when it vouches for the run: a run
    # whose owner is gone is marked interrupted by the next deploy.
    Column("owner", String(200), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
)
Index("ix_deploy_runs_status", deploy_runs.c.status)

deploy_attempts = Table(
    "deploy_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run", Integer, ForeignKey("deploy_runs.id", ondelete="CASCADE"), nullable=True),
    Column("service", String(128), nullable=False),
    Column("result", String(16), nullable=False),
    Column("wave", Integer, nullable=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("duration", Float, nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("commit", String(64), nullable=True),
    Column("service_commit", String(64), nullable=True),
    Column("service_commit_at", UTCDateTime(), nullable=True),
    Column("failure", String(64), nullable=True),
    Column("reason", Text, nullable=False, default=""),
    Column("excerpt", Text, nullable=False, default=""),
    Column("output", Text, nullable=False, default=""),
    Column("logs", Text, nullable=False, default=""),
    Column("issue", Integer, nullable=True),
    Column("source", String(16), nullable=False, default="cli"),
    Column("environment", String(128), nullable=False, default=""),
    Column("external_id", String(128), nullable=True),
    Column("url", Text, nullable=True),
    Column("actor", String(200), nullable=False, default=""),
    # The process group the attempt started (pgid, and its leader's identity), so a deploy that
    # died mid-attempt has its half-started processes stopped by the next one.
    Column("pgid", Integer, nullable=True),
    Column("process", String(200), nullable=True),
    UniqueConstraint("source", "external_id", "service"),
)
Index("ix_deploy_attempts_service", deploy_attempts.c.service, deploy_attempts.c.id)
Index("ix_deploy_attempts_result", deploy_attempts.c.result)
Index("ix_deploy_attempts_finished_at", deploy_attempts.c.finished_at)
