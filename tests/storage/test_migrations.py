from __future__ import annotations

from passmuster.storage import migrate


def test_the_fast_path_head_matches_alembics_head() -> None:
    assert migrate.head_revision() == migrate.HEAD


def _drift(url: str) -> list[object]:
    """Differences between the migrated schema and the table modules, search objects aside."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from passmuster.storage.schema import load_all_tables
    from passmuster.usecases.desk import Desk

    Desk.connect(url, create=True).close()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": _not_search_object}
            )
            return list(compare_metadata(context, load_all_tables()))
    finally:
        engine.dispose()


def _not_search_object(name: str | None, type_: str, parent: object) -> bool:
    # The FTS5 table (and its shadow tables) and the GIN index are made by hand in 0001.
    return not (name or "").startswith(("issues_fts", "ix_issues_search_vector"))


def test_the_migrations_build_exactly_the_schema_the_code_uses(database_url: str) -> None:
    assert _drift(database_url) == []
