"""A small platform of real processes (fake_service.py) for the deploy tests.

Every service runs `python fake_service.py PORT …` through the command runner, on a free port,
with its health probe on that port; what a test leaves running is stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.helpers import FakePlatform
from passmuster.usecases.desk import Desk


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[FakePlatform]:
    root = tmp_path / "platform"
    root.mkdir()
    found = FakePlatform(root)
    yield found
    from passmuster.deploy import state
    from passmuster.deploy.configuration import DESK_DIR, STATE_DIR

    state_dir = root / DESK_DIR / STATE_DIR
    for tracked in state.every(state_dir):
        state.stop(state_dir, tracked.service, grace=1.0)


@pytest.fixture
def desk(platform: FakePlatform) -> Iterator[Desk]:
    with Desk.init(platform.root) as opened:
        yield opened
