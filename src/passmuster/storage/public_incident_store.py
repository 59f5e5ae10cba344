"""The few columns of incidents a status page shows, read without hydrating whole issues: the
page lists hundreds of incidents on every view and needs none of their text fields."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, or_, select

from passmuster.storage.engine import read_transaction
from passmuster.storage.issue_tables import issue_services, issues, services


@dataclass(frozen=True, slots=True)
class IncidentRow:
    number: int
    title: str
    severity: str
    active: bool
    opened_at: datetime
    resolved_at: datetime | None
    services: tuple[str, ...]


def recent_incidents(engine: Engine, since: datetime) -> list[IncidentRow]:
    """Incidents still active, or resolved or changed since `since` (type incident only)."""
    i = issues
    stmt = select(
        i.c.number, i.c.title, i.c.severity, i.c.is_active, i.c.opened_at, i.c.resolved_at
    ).where(
        i.c.type == "incident",
        or_(i.c.is_active == 1, i.c.resolved_at >= since, i.c.updated_at >= since),
    )
    links = (
        select(issue_services.c.issue_number, services.c.name)
        .join(services, services.c.id == issue_services.c.service_id)
        .join(i, i.c.number == issue_services.c.issue_number)
        .where(
            i.c.type == "incident",
            or_(i.c.is_active == 1, i.c.resolved_at >= since, i.c.updated_at >= since),
        )
        .order_by(issue_services.c.issue_number, issue_services.c.position)
    )
    with read_transaction(engine) as conn:
        rows = conn.execute(stmt).all()
        named: dict[int, list[str]] = defaultdict(list)
        for number, name in conn.execute(links):
            named[int(number)].append(str(name))
    return [
        IncidentRow(
            number=int(r.number),
            title=r.title,
            severity=r.severity,
            active=bool(r.is_active),
            opened_at=r.opened_at,
            resolved_at=r.resolved_at,
            services=tuple(named.get(int(r.number), ())),
        )
        for r in rows
    ]
