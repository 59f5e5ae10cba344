"""Leases on the monitor's periodic jobs (escalations, reminders): one worker runs a job at a
time, and its cursor says where the last run stopped."""

from __future__ import annotations

from sqlalchemy import (
    Engine,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from passmuster.storage.engine import write_transaction
from passmuster.storage.monitor_tables import (
    monitor_jobs,
)


class JobStore:
    """Job leases and cursors."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def acquire_job(self, name: str, owner: str, now: int, lease_ms: int) -> int | None:
        """Take the job's lease; its cursor, or None when another worker holds it."""
        j = monitor_jobs
        with write_transaction(self.engine) as conn:
            if conn.execute(select(j.c.name).where(j.c.name == name)).first() is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(j).values(name=name, cursor=0))
                except IntegrityError:
                    pass
            result = conn.execute(
                update(j)
                .where(
                    j.c.name == name,
                    or_(j.c.lease_until.is_(None), j.c.lease_until < now, j.c.lease_owner == owner),
                )
                .values(lease_owner=owner, lease_until=now + lease_ms)
                .returning(j.c.cursor)
            ).first()
        return None if result is None else int(result[0])

    def set_job_cursor(self, name: str, owner: str, cursor: int) -> None:
        j = monitor_jobs
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(j).where(j.c.name == name, j.c.lease_owner == owner).values(cursor=cursor)
            )
