"""What the rule tests share: where the fixture trees are, and the type of `scan_tree`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from passmuster.scanner.engine import ScanResult

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

ScanTree = Callable[[Path], ScanResult]
