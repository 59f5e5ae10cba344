"""The desk's files on disk: owner-only from the start, and an empty file left untouched."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from passmuster.core.issues import IssueDraft
from passmuster.errors import DeskError
from passmuster.usecases.desk import Desk


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_the_desk_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual default, under which SQLite makes files 0644
    try:
        with Desk.init(tmp_path) as desk:
            desk.file(IssueDraft(title="written"), actor="me")
            folder = tmp_path / ".passmuster"
            assert _mode(folder) == 0o700
            files = sorted(p.name for p in folder.iterdir())
            assert "desk.db" in files and "desk.db-wal" in files
            for name in files:  # the WAL and shared-memory files too
                assert _mode(folder / name) == 0o600, name
    finally:
        os.umask(old)


def test_a_desk_made_by_url_is_owner_only_too(tmp_path: Path) -> None:
    with Desk.connect(f"sqlite:///{tmp_path / 'team' / 'desk.db'}"):
        pass
    assert _mode(tmp_path / "team" / "desk.db") == 0o600


def test_opening_an_empty_desk_file_writes_nothing_into_it(tmp_path: Path) -> None:
    empty = tmp_path / ".passmuster" / "desk.db"
    empty.parent.mkdir()
    empty.touch()
    with pytest.raises(DeskError, match="is empty, not a passmuster desk"):
        Desk.open(empty)
    with pytest.raises(DeskError, match="is empty"):
        Desk.connect(f"sqlite:///{empty}", create=False)
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in empty.parent.iterdir()) == ["desk.db"]
    done = subprocess.run(
        [sys.executable, "-m", "passmuster", "list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 5 and "is empty" in done.stderr
    assert empty.stat().st_size == 0
