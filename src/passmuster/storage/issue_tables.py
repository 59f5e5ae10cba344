"""The tracker's tables: issues, their services, labels, links, comments and the event log.

An issue's number is its primary key: numbers come from one counter row (`desk_counters`) that
every filer increments inside its own transaction, so they stay unique and without gaps even
when many processes file at once. Ordered list fields (tasks, files changed, error details, extra
sections, original values) are JSON on the issue row so a Markdown round trip keeps their order
and text; labels and services also get their own tables because listing filters on them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

from passmuster.core.issues import ACTIVE_STATUSES
from passmuster.storage.schema import metadata
from passmuster.storage.types import UTCDateTime, search_vector_type

desk_counters = Table(
    "desk_counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False, default=0),
)

services = Table(
    "services",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("owner", String(200)),
    Column("kind", String(40), nullable=False, default="service"),
    Column("depends_on", JSON, nullable=False, default=list),
    Column("health_url", Text),
    Column("ports", JSON, nullable=False, default=list),
    Column("source", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

issues = Table(
    "issues",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("title", Text, nullable=False),
    Column("type", String(20), nullable=False),
    Column("severity", String(10), nullable=False),
    # Ranks are stored so "most urgent first" sorts on an index rather than a CASE expression.
    Column("severity_rank", SmallInteger, nullable=False),
    Column("priority", String(20)),
    Column("priority_rank", SmallInteger, nullable=False),
    Column("status", String(20), nullable=False),
    # 1 while the status needs work: "active, most urgent first" reads one index range in order.
    Column("is_active", SmallInteger, nullable=False),
    Column("close_reason", String(20)),
    Column("component", Text),
    Column("reporter", Text),
    Column("assignee", String(200)),
    Column("reported_at", UTCDateTime),
    # reported_at when the log gave one, else created_at: the issue's age for sorting and SLAs.
    Column("opened_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("description", Text, nullable=False, default=""),
    Column("impact", Text, nullable=False, default=""),
    Column("attempted_solutions", Text, nullable=False, default=""),
    Column("root_cause", Text, nullable=False, default=""),
    Column("resolution", Text, nullable=False, default=""),
    Column("workaround", Text, nullable=False, default=""),
    Column("prevention", Text, nullable=False, default=""),
    Column("test_results", Text, nullable=False, default=""),
    Column("error_details", JSON, nullable=False, default=list),
    Column("files_changed", JSON, nullable=False, default=list),
    Column("tasks", JSON, nullable=False, default=list),
    Column("extra_sections", JSON, nullable=False, default=list),
    Column("original_values", JSON, nullable=False, default=dict),
    Column("original_id", String(200)),
    Column("source", Text),
    Column("fingerprint", String(200)),
    Column("search_vector", search_vector_type()),
    # The claim lease (core.leases): who holds the issue, since and until when. Never part of
    # the version: renewing a lease is no change to the issue.
    Column("lease_holder", String(200)),
    Column("leased_at", UTCDateTime),
    Column("lease_until", UTCDateTime),
    # (status, number) and (is_active, number) serve filtered lists in number order.
    Index("ix_issues_status", "status", "number"),
    Index("ix_issues_active", "is_active", "number"),
    Index("ix_issues_status_urgency", "status", "severity_rank", "priority_rank", "opened_at"),
    Index("ix_issues_active_urgency", "is_active", "severity_rank", "priority_rank", "opened_at"),
    Index("ix_issues_urgency", "severity_rank", "priority_rank", "opened_at"),
    Index("ix_issues_active_updated", "is_active", "updated_at"),
    Index("ix_issues_updated_at", "updated_at"),
    Index("ix_issues_severity_rank", "severity_rank"),
    Index("ix_issues_type", "type"),
    Index("ix_issues_assignee", "assignee"),
    Index("ix_issues_source_original_id", "source", "original_id"),
    Index("ix_issues_fingerprint", "fingerprint"),
    Index("ix_issues_lease_until", "lease_until"),
)

issue_services = Table(
    "issue_services",
    metadata,
    Column(
        "issue_number",
        Integer,
        ForeignKey("issues.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "service_id",
        Integer,
        ForeignKey("services.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", SmallInteger, nullable=False, default=0),
    Index("ix_issue_services_service_id", "service_id", "issue_number"),
)

issue_labels = Table(
    "issue_labels",
    metadata,
    Column(
        "issue_number",
        Integer,
        ForeignKey("issues.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("label", String(200), primary_key=True),
    Column("position", SmallInteger, nullable=False, default=0),
    Index("ix_issue_labels_label", "label", "issue_number"),
)

issue_links = Table(
    "issue_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "issue_number",
        Integer,
        ForeignKey("issues.number", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String(20), nullable=False),
    # No foreign key: an imported log may point at an issue filed later in the same import.
    Column("target", Integer, nullable=False),
    Index("ix_issue_links_issue_number", "issue_number"),
    Index("ix_issue_links_target_kind", "target", "kind"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "issue_number",
        Integer,
        ForeignKey("issues.number", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("author", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_comments_issue_number", "issue_number", "id"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "issue_number",
        Integer,
        ForeignKey("issues.number", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("field", String(64)),
    Column("old", Text),
    Column("new", Text),
    Index("ix_events_issue_number", "issue_number", "id"),
    Index("ix_events_kind", "kind", "id"),
)

# How often the scanner has seen the finding behind an issue: a count with the first and the last
# sighting (time and scan). The timeline records what changed (opened, resolved, reopened); a
# scan that merely sees the finding again bumps this row instead of appending an event.
occurrences = Table(
    "occurrences",
    metadata,
    Column(
        "issue_number",
        Integer,
        ForeignKey("issues.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("times_seen", Integer, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("first_seen_in", Text, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_in", Text, nullable=False),
)


def _per_status(prefix: str) -> list[Column[int]]:
    return [
        Column(f"{prefix}_{status.value}", BigInteger, nullable=False, default=0)
        for status in ACTIVE_STATUSES
    ]


# Derived from the event log and the issue row (core.timeline_sums), rewritten in the same
# transaction as every change to either: what the whole-desk reports add up in SQL. Times are
# UTC microseconds since the epoch so that sums and comparisons are exact.
issue_timelines = Table(
    "issue_timelines",
    metadata,
    Column(
        "issue_number",
        Integer,
        ForeignKey("issues.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("title", Text, nullable=False),
    Column("assignee", String(200)),
    Column("priority", String(20)),
    Column("status", String(20), nullable=False),
    Column("is_active", SmallInteger, nullable=False),
    Column("severity", String(10), nullable=False),
    Column("severity_rank", SmallInteger, nullable=False),
    Column("type", String(20), nullable=False),
    Column("opened", BigInteger, nullable=False),
    Column("opened_month", String(10), nullable=False),
    Column("resolved", BigInteger),
    Column("clock_start", BigInteger, nullable=False),
    Column("acknowledged", BigInteger),
    Column("finished", BigInteger),
    Column("last_start", BigInteger, nullable=False),
    Column("last_status", String(20), nullable=False),
    Column("regular", SmallInteger, nullable=False),
    *_per_status("in"),
    *_per_status("to_ack"),
    Column("segments", Text, nullable=False),
    Index("ix_issue_timelines_opened", "opened"),
    # The statistics count by these four in this order, reading the index instead of sorting.
    Index("ix_issue_timelines_counts", "opened_month", "severity", "status", "type", "resolved"),
    # The priority matrix and the SLA report list active issues most severe first.
    Index("ix_issue_timelines_active", "is_active", "severity_rank", "issue_number"),
    # The few rows the sums cannot answer alone at a moment (irregular, or changed since).
    Index("ix_issue_timelines_regular", "regular"),
    Index("ix_issue_timelines_last_start", "last_start"),
    # The statistics' acknowledgement times, read from this index alone. Migration 0016 makes it
    # partial on both databases (WHERE acknowledged IS NOT NULL: only the acknowledged issues);
    # the predicate is not repeated here, for a dialect's option (postgresql_where) would make
    # SQLAlchemy import that dialect in every command that loads these tables.
    Index("ix_issue_timelines_acknowledged", "acknowledged", "clock_start", "opened"),
)

# The services of active issues, with each issue's report time (timeline sums' `opened`): derived
# from issue_services and the sums in the same transaction as they are (storage.timeline_sums),
# so the statistics count active issues per service from one index instead of looking up the
# state of every issue of every service.
active_issue_services = Table(
    "active_issue_services",
    metadata,
    Column("service_id", Integer, ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "issue_number",
        Integer,
        ForeignKey("issues.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("opened", BigInteger, nullable=False),
)
