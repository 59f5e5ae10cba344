"""Occurrences: a scan that sees a finding again counts, instead of adding a timeline event.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

Creates `occurrences` (per scan-born issue: how many scans saw its finding, the first and the
last of them) and converts what older desks recorded: every `detected` event of a scan-born
issue (source `scan`) was one scan seeing its finding, and every `regressed` event one scan
seeing it come back. They become the count, first and last seen; the first `detected` event of
each issue (the scan that opened it) and every `regressed` event stay on the timeline, and the
repeated `detected` events, which said only "seen again", are removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from passmuster.storage.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 500


def upgrade() -> None:
    occurrences = op.create_table(
        "occurrences",
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("first_seen_in", sa.Text(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_in", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_number"],
            ["issues.number"],
            name="fk_occurrences_issue_number_issues",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_number", name="pk_occurrences"),
    )
    _convert_detected_events(occurrences)


def _convert_detected_events(occurrences: sa.Table) -> None:
    connection = op.get_bind()
    issues = sa.table("issues", sa.column("number"), sa.column("source"))
    events = sa.table(
        "events",
        sa.column("id", sa.Integer()),
        sa.column("issue_number", sa.Integer()),
        sa.column("at", UTCDateTime()),
        sa.column("kind", sa.String()),
        sa.column("new", sa.Text()),
    )
    sightings = connection.execute(
        sa.select(events.c.id, events.c.issue_number, events.c.at, events.c.kind, events.c.new)
        .join(issues, issues.c.number == events.c.issue_number)
        .where(issues.c.source == "scan", events.c.kind.in_(["detected", "regressed"]))
        .order_by(events.c.issue_number, events.c.id)
    ).all()
    rows: dict[int, dict[str, Any]] = {}
    repeated: list[int] = []
    for event_id, number, at, kind, new in sightings:
        row = rows.get(number)
        if row is None:
            rows[number] = {
                "issue_number": number,
                "times_seen": 1,
                "first_seen_at": at,
                "first_seen_in": new or "",
                "last_seen_at": at,
                "last_seen_in": new or "",
                "opened": kind == "detected",
            }
            continue
        row.update(times_seen=row["times_seen"] + 1, last_seen_at=at, last_seen_in=new or "")
        if kind == "detected":
            if row["opened"]:
                repeated.append(event_id)
            row["opened"] = True
    if rows:
        for row in rows.values():
            del row["opened"]
        op.bulk_insert(occurrences, list(rows.values()))
    for start in range(0, len(repeated), _CHUNK):
        connection.execute(
            sa.delete(events).where(events.c.id.in_(repeated[start : start + _CHUNK]))
        )


def downgrade() -> None:
    op.drop_table("occurrences")
