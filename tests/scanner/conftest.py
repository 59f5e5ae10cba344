"""Helpers for scanner tests: write a small platform tree from a dict of files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.scanner.helpers import WriteTree


@pytest.fixture
def write_tree(tmp_path: Path) -> WriteTree:
    def write(files: dict[str, str]) -> Path:
        root = tmp_path / "platform"
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        root.mkdir(exist_ok=True)
        return root

    return write
