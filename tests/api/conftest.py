"""API fixtures: a real desk (SQLite file or PostgreSQL schema), one token per role, and the app
served by uvicorn on a free 127.0.0.1 port, talked to over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.helpers import Api, running_api


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    with running_api(database_url) as running:
        yield running


@pytest.fixture
def sqlite_api(sqlite_url: str) -> Iterator[Api]:
    with running_api(sqlite_url) as running:
        yield running
