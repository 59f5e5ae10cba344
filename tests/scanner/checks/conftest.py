"""Scanning the fixture trees under tests/fixtures/<RULE>/{bad,good}/ with every rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import ScanResult, scan
from passmuster.settings import load_config
from tests.scanner.checks.helpers import FIXTURES, ScanTree


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def scan_tree() -> ScanTree:
    """Every rule over a tree, with the tree's own passmuster.toml when it has one."""

    def run(root: Path) -> ScanResult:
        config_file = root / "passmuster.toml"
        config = (
            ScanConfig.from_project(load_config(config_file))
            if config_file.exists()
            else ScanConfig()
        )
        return scan(root, config)

    return run
