"""The one bulk insert: many rows of one table in one executemany, for every store.

On SQLite the rows go straight to the driver after each column type's own bind conversion:
SQLAlchemy's per-row parameter building cost more than SQLite's work for a 10,000-issue import.
Values are converted exactly as SQLAlchemy would, so what is stored is the same. Anything else
(PostgreSQL, or a column left to a Python-side default) takes SQLAlchemy's ordinary path.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Column, Connection, Table, insert

from passmuster.storage.types import UTCDateTime

_UNSET = object()


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT `rows` (all with the same keys) into `table` in one executemany."""
    if not rows:
        return
    keys = list(rows[0])
    if connection.dialect.name != "sqlite" or any(
        c.default is not None and c.name not in keys for c in table.columns
    ):
        connection.execute(insert(table), rows)
        return
    dialect = connection.dialect
    names = ", ".join(dialect.identifier_preparer.quote(k) for k in keys)
    marks = ", ".join("?" * len(keys))
    if len(keys) > 1:
        pick = operator.itemgetter(*keys)  # a tuple of the values, in C
        params = [list(pick(row)) for row in rows]
    else:
        params = [[row[keys[0]]] for row in rows]
    for index, key in enumerate(keys):
        column = table.c[key]
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            _convert(params, index, column, process)
    connection.exec_driver_sql(
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) VALUES ({marks})",
        [tuple(values) for values in params],
    )


def _convert(
    params: list[list[Any]], index: int, column: Column[Any], process: Callable[[Any], Any]
) -> None:
    """Convert one column of `params` in place, each distinct value once where that is safe.

    Converters are pure. A bulk filing repeats the same object down a column (its `now`, None):
    each run of one object is converted once. A UTC time is stored by its instant alone, and
    equal datetimes are the same instant, so those are converted once per value (a log gives
    many issues the same day). JSON of an empty list or mapping is the same text every time.
    """
    memo: dict[Any, Any] = {}
    by_value = isinstance(column.type, UTCDateTime)
    empties = isinstance(column.type, JSON)
    last_in: object = _UNSET
    last_out: object = None
    for values in params:
        value = values[index]
        if value is last_in:
            values[index] = last_out
            continue
        if by_value:
            out = memo.get(value, _UNSET)
            if out is _UNSET:
                out = memo[value] = process(value)
        elif empties and not value and type(value) in (list, dict):
            out = memo.get(type(value), _UNSET)
            if out is _UNSET:
                out = memo[type(value)] = process(value)
        else:
            out = process(value)
        last_in, last_out = value, out
        values[index] = out
