"""Finding, creating and migrating desks; refusing desks that must not be touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from passmuster.core.issues import IssueDraft
from passmuster.errors import DeskError, DeskNotFound
from passmuster.storage.engine import create_desk_engine, write_transaction
from passmuster.storage.migrate import _script, current_revision, head_revision, upgrade
from passmuster.usecases.desk import Desk


def _earlier_revisions() -> list[str]:
    """ "base" (an empty database) and every revision before head."""
    revisions = [r.revision for r in _script().walk_revisions()]
    return ["base", *[r for r in reversed(revisions) if r != head_revision()]]


def test_init_creates_a_desk_that_open_finds_by_walking_up(tmp_path: Path) -> None:
    with Desk.init(tmp_path) as desk:
        desk.file(IssueDraft(title="t"), actor="a")
    assert (tmp_path / ".passmuster" / "desk.db").is_file()
    nested = tmp_path / "services" / "identity"
    nested.mkdir(parents=True)
    with Desk.open(start=nested) as desk:
        assert desk.get(1).title == "t"
    with Desk.open(tmp_path) as desk:
        assert desk.count() == 1


def test_open_without_a_desk_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    with pytest.raises(DeskNotFound, match="passmuster init"):
        Desk.open(start=tmp_path)
    with pytest.raises(DeskNotFound, match="no desk at"):
        Desk.open(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_open_uses_the_database_url_from_the_environment(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Desk.connect(sqlite_url).close()
    monkeypatch.setenv("PASSMUSTER_DATABASE_URL", sqlite_url)
    with Desk.open(start=tmp_path) as desk:
        assert desk.url == sqlite_url


def test_sqlite_desks_run_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    with Desk.init(tmp_path) as desk, desk.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 30_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_corrupt_file_gives_a_clear_error_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    garbage = b"this is not a database, it is a shopping list\n" * 200
    path.write_bytes(garbage)
    with pytest.raises(DeskError, match=r"desk\.db: cannot be used as a desk"):
        Desk.open(path)
    assert path.read_bytes() == garbage


def test_an_empty_sqlite_file_is_not_a_desk(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    path.touch()
    with pytest.raises(DeskError, match="not a passmuster desk"):
        Desk.open(path)


@pytest.mark.parametrize("revision", _earlier_revisions())
def test_a_desk_at_every_earlier_revision_upgrades_on_open(
    database_url: str, revision: str
) -> None:
    engine = create_desk_engine(database_url)
    try:
        if revision != "base":
            with write_transaction(engine) as connection:
                upgrade(connection, revision)
        with Desk.connect(database_url) as desk:
            desk.file(IssueDraft(title="after upgrade"), actor="a")
            assert desk.get(1).title == "after upgrade"
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
    finally:
        engine.dispose()


def test_a_desk_from_a_newer_passmuster_is_refused_and_not_touched(database_url: str) -> None:
    with Desk.connect(database_url) as desk:
        desk.file(IssueDraft(title="keep me"), actor="a")
        with desk.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(DeskError, match="created by a newer passmuster") as caught:
        Desk.open(database_url)
    assert "9999_future" in str(caught.value)
    engine = create_desk_engine(database_url)
    try:
        with engine.connect() as connection:
            assert current_revision(connection) == "9999_future"
            titles = connection.execute(text("SELECT title FROM issues")).scalars().all()
            assert titles == ["keep me"]
    finally:
        engine.dispose()


def test_opening_a_current_desk_twice_keeps_its_issues(database_url: str) -> None:
    with Desk.connect(database_url) as desk:
        desk.file(IssueDraft(title="t"), actor="a")
    with Desk.connect(database_url) as desk:
        assert desk.count() == 1
        assert desk.file(IssueDraft(title="u"), actor="a").number == 2


def test_an_unreachable_server_gives_a_clear_error_without_the_password() -> None:
    # Port 9 (discard) on 127.0.0.1: nothing listens there, so the connection is refused.
    with pytest.raises(DeskError) as caught:
        Desk.open("postgresql://alice:s3cret@127.0.0.1:9/desk?connect_timeout=3")
    message = str(caught.value)
    assert message.startswith("cannot open the desk at postgresql")
    assert "s3cret" not in message
