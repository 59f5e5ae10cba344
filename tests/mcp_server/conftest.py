"""MCP fixtures: the SDK's own client, over stdio against `passmuster mcp` processes and over
streamable HTTP against a real `passmuster serve` (or the app in a uvicorn thread)."""

from __future__ import annotations

from pathlib import Path

import pytest

from passmuster.usecases.desk import Desk


@pytest.fixture(params=["sqlite", "postgres"])
def desk_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A desk in tmp_path/.passmuster (so tmp_path/passmuster.toml is its project's
    configuration), or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        Desk.init(tmp_path).close()
        return f"sqlite:///{tmp_path / '.passmuster' / 'desk.db'}"
    url = str(request.getfixturevalue("postgres_url"))
    Desk.connect(url).close()
    return url
