"""Shared fixtures: real SQLite files and real PostgreSQL schemas, one per test, and the desk on
them (`desk`: once on each database; a module that needs one database only overrides
`database_url`).

PostgreSQL: PASSMUSTER_TEST_POSTGRES_URL (default postgresql://root@127.0.0.1:5432/test). Without a
server the PostgreSQL tests skip with a message, unless PASSMUSTER_REQUIRE_POSTGRES=1 (set by CI),
which turns a missing server into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from passmuster.settings import env_flag

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk

DEFAULT_PG = "postgresql://root@127.0.0.1:5432/test"


def _pg_base_url() -> str:
    return os.environ.get("PASSMUSTER_TEST_POSTGRES_URL", DEFAULT_PG)


def _pg_available(url: str) -> str | None:
    """None when the server answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as exc:  # any failure to connect means "no server here"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The base URL of a reachable PostgreSQL server, or skip (fail in CI)."""
    url = _pg_base_url()
    problem = _pg_available(url)
    if problem is not None:
        message = f"PostgreSQL not reachable at {url}: {problem}"
        if env_flag("PASSMUSTER_REQUIRE_POSTGRES"):
            pytest.fail(message + " (PASSMUSTER_REQUIRE_POSTGRES is set)")
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for this test, as a SQLAlchemy URL; dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    base = postgres_server.replace("postgresql://", "postgresql+psycopg://", 1)
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'drop schema "{schema}" cascade')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on a SQLite file and once on a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'desk.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    """An empty desk on the test's database, closed after the test."""
    from passmuster.usecases.desk import Desk

    with Desk.connect(database_url) as opened:
        yield opened
