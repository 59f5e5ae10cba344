"""`passmuster.__all__` is the public Python API: every name in it resolves."""

from __future__ import annotations

from pathlib import Path

import passmuster


def test_every_public_name_resolves() -> None:
    for name in passmuster.__all__:
        assert getattr(passmuster, name) is not None, name


def test_the_documented_example_runs(tmp_path: Path) -> None:
    with passmuster.Desk.init(tmp_path) as desk:
        issue = desk.file(passmuster.IssueDraft(title="Login fails"), actor="alice")
        assert desk.get(issue.number).title == "Login fails"
