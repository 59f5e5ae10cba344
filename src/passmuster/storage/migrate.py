"""Bring a desk's schema to this passmuster's revision, or refuse to touch it.

A desk records its Alembic revision. Older revisions are upgraded in one transaction (under an
advisory lock on PostgreSQL and the write lock on SQLite, so two processes opening an old desk at
once do not both migrate it). A revision this code does not know means a newer passmuster made
the desk: it is refused, untouched.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from passmuster.errors import DeskError
from passmuster.storage.engine import read_transaction, write_transaction

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x7061_7373  # "pass": one advisory lock id for migrating a PostgreSQL desk

# The newest revision this code ships. Opening a desk already at HEAD reads one row and never
# imports Alembic (about 80 ms of every CLI command); a test keeps this equal to Alembic's head.
HEAD = "0016"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in _script().walk_revisions()}


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _at_head(connection: Connection) -> bool:
    """The fast path: the desk's recorded revision is HEAD (no Alembic, no inspection)."""
    try:
        with connection.begin_nested():
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return False
    return [row[0] for row in rows] == [HEAD]


def upgrade(connection: Connection, target: str = "head") -> None:
    """Run the migrations up to `target` on `connection` (inside the caller's transaction)."""
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)


def _state(connection: Connection, where: str, *, create: bool) -> str | None:
    """None when at head, else the revision to upgrade from ("" when empty).

    Raises DeskError for a database that must not be touched.
    """
    current = current_revision(connection)
    if current is None:
        tables = set(inspect(connection).get_table_names())
        if "issues" in tables:
            raise DeskError(
                f"{where}: has passmuster tables but no schema revision; not touching it"
            )
        if not create:
            raise DeskError(f"{where}: is empty, not a passmuster desk (run `passmuster init`)")
        return ""
    if current not in known_revisions():
        raise DeskError(
            f"{where}: created by a newer passmuster (schema revision {current}; this passmuster "
            f"knows up to {head_revision()}); upgrade passmuster to use it. Nothing was changed."
        )
    return None if current == head_revision() else current


def ensure_current(engine: Engine, where: str, *, create: bool) -> None:
    """Upgrade an older or empty desk to head; refuse a newer or foreign one."""
    with read_transaction(engine) as connection:
        if _at_head(connection) or _state(connection, where, create=create) is None:
            return
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        # Another process may have migrated it while we waited for the lock.
        if _state(connection, where, create=create) is None:
            return
        upgrade(connection)
