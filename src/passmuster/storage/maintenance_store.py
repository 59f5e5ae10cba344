"""Maintenance windows: scheduled, listed, cancelled. A cancelled window is kept (who, when) but
no longer silences anything."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from passmuster.core.maintenance import MaintenanceWindow
from passmuster.errors import NotFound
from passmuster.storage.engine import read_transaction, write_transaction
from passmuster.storage.status_tables import maintenance_windows


class MaintenanceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        *,
        message: str,
        services: Sequence[str],
        starts_at: datetime,
        ends_at: datetime,
        recurrence: str | None,
        created_by: str,
        now: datetime,
    ) -> MaintenanceWindow:
        w = maintenance_windows
        with write_transaction(self.engine) as conn:
            row_id = conn.execute(
                insert(w)
                .values(
                    message=message,
                    services=" ".join(services),
                    starts_at=starts_at,
                    ends_at=ends_at,
                    recurrence=recurrence,
                    created_by=created_by,
                    created_at=now,
                )
                .returning(w.c.id)
            ).scalar_one()
            row = conn.execute(select(w).where(w.c.id == row_id)).one()
        return _window(row)

    def get(self, window_id: int) -> MaintenanceWindow:
        w = maintenance_windows
        with read_transaction(self.engine) as conn:
            row = conn.execute(
                select(w).where(w.c.id == window_id, w.c.cancelled_at.is_(None))
            ).first()
        if row is None:
            raise NotFound(f"no maintenance window {window_id}")
        return _window(row)

    def active(self) -> list[MaintenanceWindow]:
        """Every window not cancelled, past ones included (the caller knows what `now` is)."""
        w = maintenance_windows
        with read_transaction(self.engine) as conn:
            rows = conn.execute(
                select(w).where(w.c.cancelled_at.is_(None)).order_by(w.c.starts_at, w.c.id)
            )
            return [_window(row) for row in rows]

    def every(self) -> list[MaintenanceWindow]:
        """Every window, cancelled ones too: what silenced an outage stays known."""
        w = maintenance_windows
        with read_transaction(self.engine) as conn:
            return [_window(row) for row in conn.execute(select(w).order_by(w.c.id))]

    def cancel(self, window_id: int, *, actor: str, now: datetime) -> MaintenanceWindow:
        window = self.get(window_id)
        w = maintenance_windows
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(w)
                .where(w.c.id == window_id, w.c.cancelled_at.is_(None))
                .values(cancelled_at=now, cancelled_by=actor)
            )
        if result.rowcount != 1:
            raise NotFound(f"no maintenance window {window_id}")
        return window


def _window(row: Any) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=row.id,
        message=row.message,
        services=tuple(row.services.split()),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        recurrence=row.recurrence,
        created_by=row.created_by,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
    )
