"""Runtime errors: the keys services send them with, their groups and what each group saw.

One group per (service, grouping key) with exactly one tracker issue. Counts live on the group
row and in small per-group tables (per hour, per release and environment, per user), so a
million events cost a few rows each, not a million issue events; only the last few events of a
group are kept whole (`error_events`, zlib-compressed JSON as sent). `error_event_ids` remembers
every event id a service sent, so a client that retries a delivery is not counted twice.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from passmuster.storage.schema import metadata
from passmuster.storage.types import UTCDateTime

# An id column that is a 64-bit integer on PostgreSQL and SQLite's rowid on SQLite.
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

error_keys = Table(
    "error_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", Integer, ForeignKey("services.id", ondelete="CASCADE"), nullable=False),
    # The DSN's public key: it only ingests, so it is stored as it is (the DSN is printed again).
    Column("public_key", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_error_keys_service_id", "service_id"),
)

error_groups = Table(
    "error_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", Integer, ForeignKey("services.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(64), nullable=False),
    # Null only between the group's first insert and the filing of its issue (one transaction).
    Column("issue_number", Integer, ForeignKey("issues.number", ondelete="CASCADE"), nullable=True),
    Column("title", Text, nullable=False),
    Column("culprit", Text, nullable=True),
    Column("level", String(16), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("event_count", BigInteger, nullable=False, default=0),
    Column("last_event_id", String(32), nullable=True),
    # How the issue was last resolved through the errors' own resolve (in the next release):
    # valid while the resolved_at still equals resolved_marker.
    Column("resolve_mode", String(20), nullable=True),
    Column("resolve_release", Text, nullable=True),
    Column("resolved_marker", UTCDateTime, nullable=True),
    UniqueConstraint("service_id", "key", name="uq_error_groups_service_id_key"),
    Index("ix_error_groups_issue_number", "issue_number"),
)

# Per group and hour (hours since the epoch, UTC): the histogram and errors per hour.
error_group_hours = Table(
    "error_group_hours",
    metadata,
    Column(
        "group_id",
        Integer,
        ForeignKey("error_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("hour", Integer, primary_key=True, autoincrement=False),
    Column("count", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Releases and environments a group was seen in ("release" / "environment").
error_group_values = Table(
    "error_group_values",
    metadata,
    Column(
        "group_id",
        Integer,
        ForeignKey("error_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(16), primary_key=True),
    Column("value", String(200), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,
)

# Users affected: a hash of the user's id (or name, e-mail, address), never the value itself.
error_group_users = Table(
    "error_group_users",
    metadata,
    Column(
        "group_id",
        Integer,
        ForeignKey("error_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_hash", String(32), primary_key=True),
    sqlite_with_rowid=False,
)

error_event_ids = Table(
    "error_event_ids",
    metadata,
    Column(
        "service_id",
        Integer,
        ForeignKey("services.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("event_id", String(32), primary_key=True),
    sqlite_with_rowid=False,
)

error_events = Table(
    "error_events",
    metadata,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("error_groups.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(32), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("release", String(200), nullable=True),
    Column("environment", String(200), nullable=True),
    Column("payload", LargeBinary, nullable=False),
    Index("ix_error_events_group_id", "group_id", "id"),
)
