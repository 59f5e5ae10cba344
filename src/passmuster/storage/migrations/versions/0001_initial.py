"""The initial desk: issues, services, links, comments, events, search, and every other table.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

While passmuster is young this revision builds the whole current schema from the table modules
(`load_all_tables()`); later revisions are explicit, and a desk created at 0001 upgrades from here.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from passmuster.storage.issue_tables import desk_counters
from passmuster.storage.schema import load_all_tables
from passmuster.storage.search import create_search_objects

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    load_all_tables().create_all(connection)
    create_search_objects(connection)
    op.bulk_insert(desk_counters, [{"name": "issues", "value": 0}])


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("DROP TABLE IF EXISTS issues_fts")
    load_all_tables().drop_all(connection)
