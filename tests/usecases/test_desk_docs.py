"""The Python example in docs/tracker.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "tracker.md"


def test_the_documented_python_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks, "docs/tracker.md has no Python example"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    exec(compile(blocks[0], str(DOC), "exec"), {})
    assert (tmp_path / ".passmuster" / "desk.db").is_file()
    assert '"total": 1' in capsys.readouterr().out
