"""What the scanner tests share: the type of the `write_tree` fixture (conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

WriteTree = Callable[[dict[str, str]], Path]
