from __future__ import annotations

from passmuster.storage import migrate


def test_the_fast_path_head_matches_alembics_head() -> None:
    assert migrate.head_revision() == migrate.HEAD
