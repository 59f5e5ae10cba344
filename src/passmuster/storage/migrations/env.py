"""Alembic environment: runs on the connection passmuster hands over (see storage/migrate.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from passmuster.storage.schema import load_all_tables

config = context.config
target_metadata = load_all_tables()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("passmuster runs its migrations through passmuster.storage.migrate")
_run(connection)
