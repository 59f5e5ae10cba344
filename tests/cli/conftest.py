"""Drive the real `passmuster` command group on real desks in a temporary folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import Run, run_cli


@pytest.fixture
def run() -> Run:
    return run_cli


@pytest.fixture
def run_json(run: Run) -> Callable[..., Any]:
    def go(*args: str, code: int = 0) -> Any:
        return json.loads(run(*args, "--json", code=code).stdout)

    return go


@pytest.fixture
def desk_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run) -> Path:
    """An initialised desk in tmp_path, which is the working directory; the actor is alice."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PASSMUSTER_ACTOR", "alice")
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    run("init")
    return tmp_path
