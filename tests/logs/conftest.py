"""The project's own fixture logs, written in the layouts real coordination logs use.

tests/fixtures/logs/ holds one log per layout family, so a fresh clone tests every format the
importer reads. The real logs (../shared/seeds) are read by test_log_seeds.py when present.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURE_LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


@pytest.fixture
def fixture_log() -> Callable[[str], Path]:
    """`fixture_log("category-sections")`: the path of one of the fixture logs."""

    def path(name: str) -> Path:
        found = FIXTURE_LOGS / f"{name}.md"
        assert found.is_file(), f"no fixture log {found}"
        return found

    return path


@pytest.fixture
def fixture_logs_dir() -> Path:
    return FIXTURE_LOGS
