"""Bad input a new user is likely to type: each gets one clear line and the documented exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Run


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("bogus://x", "not bogus"),
        ("mysql://me:hunter2@db/desk", "not mysql"),
        ("postgresql://me:hunter2@db:notaport/desk", "cannot be read"),
    ],
)
def test_an_unsupported_database_url_is_bad_input_not_a_traceback(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("--database-url", url, "list", code=2)
    assert expected in result.stderr
    assert "hunter2" not in result.output
    assert result.stderr.startswith("error: database URL")
