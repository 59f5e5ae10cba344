"""Scheduling maintenance windows: what the CLI, the API and the services page all call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from passmuster.core.maintenance import MaintenanceWindow, check_window
from passmuster.storage.maintenance_store import MaintenanceStore
from passmuster.storage.target_store import TargetStore


def known_services(desk: Any) -> list[str]:
    """Services a window may name: the catalog and every service the monitor probes."""
    names = [s.name for s in desk.services()]
    for row in TargetStore(desk.engine).target_rows(active_only=False):
        names.append(row.service or row.name)
    return sorted(set(names))


def schedule(
    desk: Any,
    *,
    message: str,
    services: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    recurrence: str | None = None,
    actor: str,
) -> MaintenanceWindow:
    """Store a window after checking it (times, rule, services known): InvalidValue if not."""
    services = list(dict.fromkeys(s.strip() for s in services if s.strip()))
    recurrence = recurrence.strip() if recurrence and recurrence.strip() else None
    check_window(
        message=message,
        services=services,
        starts_at=starts_at,
        ends_at=ends_at,
        recurrence=recurrence,
        known_services=known_services(desk),
    )
    return MaintenanceStore(desk.engine).add(
        message=message.strip(),
        services=services,
        starts_at=starts_at,
        ends_at=ends_at,
        recurrence=recurrence,
        created_by=actor,
        now=desk.clock(),
    )


def upcoming(desk: Any, *, now: datetime | None = None) -> list[MaintenanceWindow]:
    """Windows under way or still to come, soonest first."""
    at = now or desk.clock()
    windows = [w for w in MaintenanceStore(desk.engine).active() if not w.is_over(at)]
    return sorted(windows, key=lambda w: (w.next_after(at) or (w.starts_at,))[0])


def cancel(desk: Any, window_id: int, *, actor: str) -> MaintenanceWindow:
    return MaintenanceStore(desk.engine).cancel(window_id, actor=actor, now=desk.clock())
