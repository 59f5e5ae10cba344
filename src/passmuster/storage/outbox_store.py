"""The notification outbox: notifications wait here until a worker leases and delivers them,
in order per incident and channel; a lease expires, so a worker killed mid-delivery only delays
a notification, never loses it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Engine,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from passmuster.storage.claims import claim_rows
from passmuster.storage.engine import read_transaction, write_transaction
from passmuster.storage.monitor_tables import (
    monitor_channels,
    monitor_outbox,
    monitor_targets,
)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A notification to enqueue on one channel."""

    key: str
    channel: str
    kind: str
    payload: Mapping[str, Any]
    incident: int | None = None
    not_before: int = 0
    status: str = "pending"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    key: str
    channel: str
    kind: str
    payload: dict[str, Any]
    incident: int | None
    status: str
    attempts: int
    not_before: int
    last_error: str | None
    created_at: int
    sent_at: int | None


class OutboxStore:
    """Notifications waiting, being sent, sent, failed or held back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def enqueue(self, items: Sequence[Outgoing], now: int) -> int:
        """Add notifications; one already there (same key and channel) is left alone."""
        if not items:
            return 0
        o = monitor_outbox
        rows = [
            {
                "key": i.key,
                "channel": i.channel,
                "kind": i.kind,
                "payload": json.dumps(dict(i.payload), sort_keys=True, default=str),
                "incident": i.incident,
                "status": i.status,
                "attempts": 0,
                "not_before": i.not_before or now,
                "created_at": now,
            }
            for i in items
        ]
        dialect_insert = (
            postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        )
        stmt = (
            dialect_insert(o)
            .on_conflict_do_nothing(index_elements=["key", "channel"])
            .returning(o.c.id)
        )
        with write_transaction(self.engine) as conn:
            # RETURNING counts what was inserted; executemany's rowcount is not reliable.
            return len(conn.execute(stmt, rows).all())

    def claim_outbox(
        self, owner: str, now: int, *, limit: int, lease_ms: int, channels: Sequence[str]
    ) -> list[OutboxRow]:
        """Lease due notifications on enabled channels. A notification waits for earlier ones
        of the same incident on its channel, so "resolved" never overtakes "opened"."""
        if not channels:
            return []
        o = monitor_outbox
        earlier = o.alias("earlier")
        ready = or_(
            and_(o.c.status == "pending", o.c.not_before <= now),
            and_(o.c.status == "sending", o.c.lease_until < now),
        )
        blocked = exists().where(
            earlier.c.channel == o.c.channel,
            earlier.c.incident == o.c.incident,
            earlier.c.id < o.c.id,
            earlier.c.status.in_(("pending", "sending")),
        )
        stmt = claim_rows(
            o,
            o.c.id,
            free=ready,
            due=[o.c.channel.in_(list(channels)), ~blocked],
            order=o.c.id,
            limit=limit,
            values={
                "status": "sending",
                "lease_owner": owner,
                "lease_until": now + lease_ms,
                "attempts": o.c.attempts + 1,
            },
        ).returning(o)
        with write_transaction(self.engine) as conn:
            return [_outbox(r) for r in conn.execute(stmt)]

    def mark_sent(self, row_id: int, owner: str, now: int) -> bool:
        return self._finish(row_id, owner, "sent", status="sent", sent_at=now)

    def mark_retry(self, row_id: int, owner: str, not_before: int, error: str) -> None:
        self._finish(row_id, owner, None, status="pending", not_before=not_before, last_error=error)

    def mark_failed(self, row_id: int, owner: str, error: str) -> None:
        self._finish(row_id, owner, "failed", status="failed", last_error=error)

    def _finish(self, row_id: int, owner: str, counter: str | None, **values: Any) -> bool:
        """End `owner`'s delivery of a notification it holds, setting `values` and adding one to
        the channel's `counter` ("sent", "failed"); False when its lease was lost meanwhile."""
        o = monitor_outbox
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(o)
                .where(o.c.id == row_id, o.c.lease_owner == owner, o.c.status == "sending")
                .values(lease_owner=None, lease_until=None, **values)
            )
            finished = result.rowcount == 1
            if finished and counter is not None:
                self._count(conn, row_id, counter)
        return finished

    def hold(self, row_id: int, owner: str, error: str) -> None:
        """Put a claimed notification back untouched (its channel was just disabled)."""
        o = monitor_outbox
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(o)
                .where(o.c.id == row_id, o.c.lease_owner == owner)
                .values(
                    status="pending",
                    attempts=o.c.attempts - 1,
                    last_error=error,
                    lease_owner=None,
                    lease_until=None,
                )
            )

    def _count(self, conn: Connection, row_id: int, column: str) -> None:
        o, c = monitor_outbox, monitor_channels
        channel = select(o.c.channel).where(o.c.id == row_id).scalar_subquery()
        conn.execute(update(c).where(c.c.name == channel).values({column: c.c[column] + 1}))

    def suppress(self, incidents: Sequence[int], kinds: Sequence[str]) -> int:
        """Hold back pending notifications of these incidents (a root cause explains them)."""
        if not incidents:
            return 0
        o = monitor_outbox
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(o)
                .where(
                    o.c.incident.in_(list(incidents)),
                    o.c.kind.in_(list(kinds)),
                    o.c.status == "pending",
                )
                .values(status="suppressed")
            )
        return int(result.rowcount or 0)

    def drop_delivered(self, before: int) -> int:
        """Delete the notifications sent or held back before `before`, except those of
        incidents still open: reminders count from the opening they follow and key each one by
        it, however long the incident lasts. Returns how many went."""
        o, t = monitor_outbox, monitor_targets
        still_open = select(t.c.incident).where(
            t.c.incident_open.is_(True), t.c.incident.is_not(None)
        )
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                delete(o).where(
                    o.c.status.in_(("sent", "suppressed")),
                    o.c.created_at < before,
                    or_(o.c.incident.is_(None), o.c.incident.not_in(still_open)),
                )
            )
        return int(result.rowcount or 0)

    def was_notified(self, incident: int, kinds: Sequence[str]) -> bool:
        """Whether an opening of this incident went (or is going) out, i.e. was not held back."""
        o = monitor_outbox
        stmt = select(o.c.id).where(
            o.c.incident == incident, o.c.kind.in_(list(kinds)), o.c.status != "suppressed"
        )
        with read_transaction(self.engine) as conn:
            return conn.execute(stmt.limit(1)).first() is not None

    def outbox(self, *, status: str | None = None, limit: int = 1000) -> list[OutboxRow]:
        o = monitor_outbox
        stmt = select(o).order_by(o.c.id).limit(limit)
        if status is not None:
            stmt = stmt.where(o.c.status == status)
        with read_transaction(self.engine) as conn:
            return [_outbox(r) for r in conn.execute(stmt)]

    def outbox_depth(self) -> dict[tuple[str, str], int]:
        """Count of notifications by (channel, status)."""
        o = monitor_outbox
        stmt = select(o.c.channel, o.c.status, func.count()).group_by(o.c.channel, o.c.status)
        with read_transaction(self.engine) as conn:
            return {(r[0], r[1]): int(r[2]) for r in conn.execute(stmt)}


def _outbox(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row.id,
        key=row.key,
        channel=row.channel,
        kind=row.kind,
        payload=json.loads(row.payload),
        incident=row.incident,
        status=row.status,
        attempts=row.attempts,
        not_before=row.not_before,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )
