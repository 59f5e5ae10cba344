"""Notification channels as `passmuster notify`, `status`, the API and the services page show
them: state, sent and failed counts, what waits, the last error; and enabling a channel that a
permanent error disabled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from passmuster.core.epoch_ms import moment_or_none
from passmuster.errors import NotFound
from passmuster.storage.channel_store import ChannelStore
from passmuster.storage.outbox_store import OutboxStore
from passmuster.usecases.desk import Desk


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    name: str
    kind: str
    state: str  # enabled, or disabled (by a permanent error, until enabled again)
    disabled_reason: str | None
    disabled_at: datetime | None
    sent: int
    failed: int
    pending: int  # waiting to be sent (kept while the channel is disabled)
    last_error: str | None  # of its most recent notification that had one


def channels(desk: Desk) -> list[ChannelStatus]:
    """Notification channels: state, sent and failed counts, pending ones, the last error."""
    store = ChannelStore(desk.engine)
    depth = OutboxStore(desk.engine).outbox_depth()
    errors = store.last_errors()
    return [
        ChannelStatus(
            name=row.name,
            kind=row.kind,
            state="disabled" if row.disabled_reason else "enabled",
            disabled_reason=row.disabled_reason,
            disabled_at=moment_or_none(row.disabled_at),
            sent=row.sent,
            failed=row.failed,
            pending=depth.get((row.name, "pending"), 0) + depth.get((row.name, "sending"), 0),
            last_error=errors.get(row.name),
        )
        for row in store.channels()
    ]


def enable_channel(desk: Desk, name: str) -> bool:
    """Enable a channel a permanent error disabled; its waiting notifications go out on the
    monitor's next delivery round. False when it was not disabled; NotFound when unknown."""
    store = ChannelStore(desk.engine)
    row = next((r for r in store.channels() if r.name == name), None)
    if row is None:
        known = ", ".join(r.name for r in store.channels()) or "none yet"
        raise NotFound(f"no notification channel {name!r} (known: {known})", field="name")
    if row.disabled_reason is None:
        return False
    store.enable_channel(name)
    return True
