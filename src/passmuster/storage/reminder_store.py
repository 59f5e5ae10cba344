"""What reminders need from the outbox: when each channel was first told of an incident's
current opening."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, func, select

from passmuster.storage.engine import read_transaction
from passmuster.storage.monitor_tables import monitor_outbox


def latest_openings(
    engine: Engine, incidents: Sequence[int]
) -> dict[tuple[int, str], tuple[int, int]]:
    """(incident, channel) -> (outbox id, created at ms) of the latest `opened` or `reopened`
    notification that was not held back. An incident never announced on a channel is absent."""
    if not incidents:
        return {}
    o = monitor_outbox
    latest = (
        select(func.max(o.c.id))
        .where(
            o.c.incident.in_(list(incidents)),
            o.c.kind.in_(("opened", "reopened")),
            o.c.status != "suppressed",
        )
        .group_by(o.c.incident, o.c.channel)
    )
    stmt = select(o.c.incident, o.c.channel, o.c.id, o.c.created_at).where(o.c.id.in_(latest))
    with read_transaction(engine) as conn:
        return {(int(r[0]), str(r[1])): (int(r[2]), int(r[3])) for r in conn.execute(stmt)}
