"""The one SQLAlchemy MetaData every table of the desk belongs to.

Tables live in one module per concept (`storage/issue_tables.py`, `storage/monitor_tables.py`, …)
and all attach to `metadata`. `load_all_tables()` imports every such module so that Alembic and
the tests see the whole schema.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

# Alembic batch mode on SQLite recreates tables; named constraints make that reliable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Every module that defines tables. Add yours here (one line) when you add a table module.
TABLE_MODULES: tuple[str, ...] = (
    "passmuster.storage.issue_tables",
    "passmuster.storage.auth_tables",
    "passmuster.storage.monitor_tables",
    "passmuster.storage.error_tables",
    "passmuster.storage.import_tables",
    "passmuster.storage.deploy_tables",
    "passmuster.storage.status_tables",
)


def load_all_tables() -> MetaData:
    for module in TABLE_MODULES:
        importlib.import_module(module)
    return metadata
