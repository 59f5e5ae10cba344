"""Leasing rows to one worker among many: the monitor's due targets, the outbox's due
notifications. One statement picks and marks them, so two workers never lease the same row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, Update, select, update


def claim_rows(
    table: Table,
    key: Column[Any],
    *,
    free: ColumnElement[bool],
    due: Sequence[ColumnElement[bool]],
    order: ColumnElement[Any],
    limit: int,
    values: Mapping[str, Any],
) -> Update:
    """An UPDATE setting `values` (the lease) on the first `limit` rows, by `order`, that are
    `due` and `free`; `free` is asked again as the rows are written, and on PostgreSQL rows
    another transaction is claiming are skipped (FOR UPDATE SKIP LOCKED), not waited for.
    Add `.returning(...)` for what the caller reads back."""
    picked = (
        select(key).where(*due, free).order_by(order).limit(limit).with_for_update(skip_locked=True)
    )
    return update(table).where(key.in_(picked.scalar_subquery()), free).values(dict(values))
