from __future__ import annotations

from collections.abc import Iterator

import pytest

from passmuster.storage.engine import create_desk_engine
from passmuster.storage.monitor_store import MonitorStore


@pytest.fixture
def store(database_url: str) -> Iterator[MonitorStore]:
    """A monitor store on a fresh SQLite file or PostgreSQL schema."""
    from passmuster.storage import monitor_tables
    from passmuster.storage.schema import metadata

    engine = create_desk_engine(database_url)
    tables = [t for t in metadata.sorted_tables if t.name.startswith("monitor_")]
    assert monitor_tables.monitor_targets in tables
    metadata.create_all(engine, tables=tables)
    yield MonitorStore(engine)
    engine.dispose()
