"""The four real logs the importer must read: ../shared/seeds beside the repository."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from passmuster.logs.model import ParsedLog
from passmuster.logs.reader import read_file

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


def seed_path(prefix: str) -> Path:
    if not SEEDS.is_dir():
        pytest.fail(f"the seed logs are missing: expected them in {SEEDS}")
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if len(matches) != 1:
        pytest.fail(f"expected one seed log {prefix}_*.txt in {SEEDS}, found {len(matches)}")
    return matches[0]


@pytest.fixture
def seed() -> Callable[[str], ParsedLog]:
    """`seed("002")` reads that seed log."""

    def read(prefix: str) -> ParsedLog:
        return read_file(seed_path(prefix))

    return read


@pytest.fixture
def seeds_dir() -> Path:
    """The folder of seed logs (fails clearly when ../shared/seeds is missing)."""
    seed_path("000")
    return SEEDS
