"""Incidents' public updates, in the order they were posted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from passmuster.core.incident_updates import IncidentUpdate, UpdateStage
from passmuster.storage.engine import read_transaction, write_transaction
from passmuster.storage.status_tables import incident_updates


class IncidentUpdateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self, incident: int, stage: UpdateStage, message: str, *, author: str, at: datetime
    ) -> IncidentUpdate:
        u = incident_updates
        with write_transaction(self.engine) as conn:
            row_id = conn.execute(
                insert(u)
                .values(incident=incident, stage=stage.value, message=message, author=author, at=at)
                .returning(u.c.id)
            ).scalar_one()
        return IncidentUpdate(row_id, incident, stage, message, author, at)

    def for_incident(self, incident: int) -> list[IncidentUpdate]:
        return self.for_incidents([incident]).get(incident, [])

    def for_incidents(self, incidents: Iterable[int]) -> dict[int, list[IncidentUpdate]]:
        wanted = list(incidents)
        if not wanted:
            return {}
        u = incident_updates
        out: dict[int, list[IncidentUpdate]] = defaultdict(list)
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(u).where(u.c.incident.in_(wanted)).order_by(u.c.id))
            for row in rows:
                out[row.incident].append(_update(row))
        return dict(out)

    def incidents_since(self, since: datetime) -> set[int]:
        """Incidents with an update posted at or after `since`."""
        u = incident_updates
        with read_transaction(self.engine) as conn:
            return {
                int(n)
                for n in conn.execute(
                    select(u.c.incident).where(u.c.at >= since).distinct()
                ).scalars()
            }


def _update(row: Any) -> IncidentUpdate:
    return IncidentUpdate(
        id=row.id,
        incident=row.incident,
        stage=UpdateStage(row.stage),
        message=row.message,
        author=row.author,
        at=row.at,
    )
