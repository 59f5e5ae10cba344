"""The status page's tables: scheduled maintenance windows and incidents' public updates.

Day roll-ups of probe history live beside the minute and hour roll-ups in `monitor_rollups`,
with resolution "d"; the day counts the 90-day uptime bars read are `monitor_uptime_days`
(monitor_tables.py).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from passmuster.storage.schema import metadata
from passmuster.storage.types import UTCDateTime

maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message", Text, nullable=False),
    Column("services", Text, nullable=False),  # space-separated service names
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("recurrence", Text, nullable=True),  # an RFC 5545 RRULE, None for a one-off window
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("cancelled_at", UTCDateTime(), nullable=True),
    Column("cancelled_by", String(200), nullable=True),
)
Index("ix_maintenance_windows_cancelled", maintenance_windows.c.cancelled_at)

incident_updates = Table(
    "incident_updates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "incident",
        Integer,
        ForeignKey("issues.number", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("stage", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)
Index("ix_incident_updates_incident", incident_updates.c.incident, incident_updates.c.id)
Index("ix_incident_updates_at", incident_updates.c.at)
