"""Drive the real `passmuster` command group on real desks in a temporary folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from passmuster.cli.main import cli

Run = Callable[..., Result]


def _run(*args: str, code: int = 0, input: str | None = None) -> Result:
    """Run `passmuster ARGS` in-process; assert its exit code and that no traceback leaked."""
    result = CliRunner().invoke(cli, list(args), input=input)
    unexpected = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not unexpected, f"passmuster {' '.join(args)} raised {result.exception!r}"
    assert result.exit_code == code, (
        f"passmuster {' '.join(args)} exited {result.exit_code}, not {code}\n"
        f"stdout: {result.stdout}\nstderr: {result.stderr}"
    )
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def run() -> Run:
    return _run


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
