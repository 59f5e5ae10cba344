"""The monitor's tables: targets with their health and leases, probe history, flips, the outbox.

Times here are epoch milliseconds (BIGINT): the scheduler compares them on every tick, and
integer arithmetic buckets samples into minutes and hours the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from passmuster.storage.schema import metadata

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL needs BIGINT for sample ids.
_ID = BigInteger().with_variant(Integer(), "sqlite")

monitor_targets = Table(
    "monitor_targets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("service", String(128), nullable=True),
    Column("url", Text, nullable=False),
    Column("spec", Text, nullable=False),  # the Target as JSON
    Column("digest", String(64), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("next_due", BigInteger, nullable=False),
    Column("lease_owner", String(80), nullable=True),
    Column("lease_until", BigInteger, nullable=True),
    Column("health", String(16), nullable=False, default="unknown"),
    Column("failures", Integer, nullable=False, default=0),
    Column("successes", Integer, nullable=False, default=0),
    Column("recent_failures", Text, nullable=False, default="[]"),
    Column("since", BigInteger, nullable=True),
    Column("flips", Integer, nullable=False, default=0),
    Column("incident", Integer, nullable=True),
    Column("incident_open", Boolean, nullable=False, default=False),
    Column("incident_closed_at", BigInteger, nullable=True),
    Column("last_at", BigInteger, nullable=True),
    Column("last_ok", Boolean, nullable=True),
    Column("last_latency", Float, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_reason", Text, nullable=True),
    Column("probes", BigInteger, nullable=False, default=0),
    Column("probe_failures", BigInteger, nullable=False, default=0),
    # The probe-duration histogram, kept in the store so every process exports the same one:
    # h0..hN count probes per bucket of LATENCY_BUCKETS (not cumulative), the rest in none.
    Column("latency_sum", Float, nullable=False, default=0.0),
    *(Column(f"h{i}", BigInteger, nullable=False, default=0) for i in range(11)),
    Index("ix_monitor_targets_due", "active", "next_due"),
)

monitor_samples = Table(
    "monitor_samples",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("target", String(200), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("degraded", Boolean, nullable=False, default=False),
    Column("latency", Float, nullable=False),
    Column("status", Integer, nullable=True),
    Column("reason", Text, nullable=True),
    Index("ix_monitor_samples_at", "at"),
    Index("ix_monitor_samples_target_at", "target", "at"),
)

# Per-minute ("m") and per-hour ("h") roll-ups of samples older than the raw window.
monitor_rollups = Table(
    "monitor_rollups",
    metadata,
    Column("target", String(200), primary_key=True),
    Column("resolution", String(1), primary_key=True),
    Column("bucket", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("ok", Integer, nullable=False),
    Column("latency_sum", Float, nullable=False),
    Column("latency_max", Float, nullable=False),
)

# Every probe sample ever recorded, counted by target and day: what the status page's 90-day bars
# show, read as one row per target and day. Derived, never a second truth: it equals the day
# roll-ups ("d") plus the raw samples not compacted yet, so record() adds to it what it adds to
# the samples, compaction (which only moves samples from raw into roll-ups) leaves it alone, and
# migration 0012 builds it from the roll-ups and samples already there.
monitor_uptime_days = Table(
    "monitor_uptime_days",
    metadata,
    Column("target", String(200), primary_key=True),
    Column("day", BigInteger, primary_key=True),  # the day's start, epoch ms (UTC)
    Column("count", Integer, nullable=False),
    Column("ok", Integer, nullable=False),
)

monitor_flips = Table(
    "monitor_flips",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("target", String(200), nullable=False),
    Column("service", String(128), nullable=True),
    Column("at", BigInteger, nullable=False),
    Column("old", String(16), nullable=False),
    Column("new", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("incident", Integer, nullable=True),
    Column("suppressed_by", String(128), nullable=True),
    Index("ix_monitor_flips_target", "target", "id"),
)

# One row per notification per channel. `key` makes enqueueing idempotent: a retried tick or a
# second monitor worker enqueueing the same flip finds the row already there.
monitor_outbox = Table(
    "monitor_outbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("incident", Integer, nullable=True),
    # pending → sending → sent; or failed (gave up), suppressed (held back for a root cause)
    Column("status", String(12), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", BigInteger, nullable=False),
    Column("lease_owner", String(80), nullable=True),
    Column("lease_until", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger, nullable=True),
    UniqueConstraint("key", "channel", name="uq_monitor_outbox_key_channel"),
    Index("ix_monitor_outbox_due", "status", "not_before"),
)

monitor_channels = Table(
    "monitor_channels",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("disabled_reason", Text, nullable=True),
    Column("disabled_at", BigInteger, nullable=True),
    Column("sent", BigInteger, nullable=False, default=0),
    Column("failed", BigInteger, nullable=False, default=0),
    # SHA-256 of the channel's configuration: a change enables a disabled channel again.
    Column("config_digest", String(64), nullable=True),
)

# Background jobs that exactly one monitor worker should run at a time (compaction, the
# escalation feed), with a cursor where the job needs one.
monitor_jobs = Table(
    "monitor_jobs",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("cursor", BigInteger, nullable=False, default=0),
    Column("lease_owner", String(80), nullable=True),
    Column("lease_until", BigInteger, nullable=True),
)
