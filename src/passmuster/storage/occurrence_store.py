"""The count of scans that saw each finding (`occurrences`): one row per scan-born issue.

A scan that sees many findings again bumps all their rows in one executemany, not one write
(and one timeline event) per finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from passmuster.storage.issue_store import upsert_statement
from passmuster.storage.issue_tables import occurrences

if TYPE_CHECKING:
    from passmuster.core.findings import Occurrences

_CHUNK = 500


def record(connection: Connection, numbers: Sequence[int], *, at: datetime, seen_in: str) -> None:
    """Count one more sighting for each issue of `numbers` (seen at `at` by `seen_in`); the
    first sighting of an issue starts its row. One upsert, so two scans recorded at once both
    count."""
    wanted = list(dict.fromkeys(numbers))
    if not wanted:
        return
    stmt = upsert_statement(connection)(occurrences)
    stmt = stmt.on_conflict_do_update(
        index_elements=["issue_number"],
        set_={
            "times_seen": occurrences.c.times_seen + 1,
            "last_seen_at": stmt.excluded.last_seen_at,
            "last_seen_in": stmt.excluded.last_seen_in,
        },
    )
    connection.execute(
        stmt,
        [
            {
                "issue_number": n,
                "times_seen": 1,
                "first_seen_at": at,
                "first_seen_in": seen_in,
                "last_seen_at": at,
                "last_seen_in": seen_in,
            }
            for n in wanted
        ],
    )


def _to_occurrences(row: Any) -> Occurrences:
    # Imported here: `show` asks every issue, and most were never seen by a scan.
    from passmuster.core.findings import Occurrences

    return Occurrences(
        count=int(row.times_seen),
        first_seen_at=row.first_seen_at,
        first_seen_in=row.first_seen_in,
        last_seen_at=row.last_seen_at,
        last_seen_in=row.last_seen_in,
    )


def for_issues(connection: Connection, numbers: Sequence[int]) -> dict[int, Occurrences]:
    """The occurrences of those issues of `numbers` that a scan has seen."""
    found: dict[int, Occurrences] = {}
    wanted = list(dict.fromkeys(numbers))
    for start in range(0, len(wanted), _CHUNK):
        rows = connection.execute(
            select(occurrences).where(
                occurrences.c.issue_number.in_(wanted[start : start + _CHUNK])
            )
        )
        found.update((row.issue_number, _to_occurrences(row)) for row in rows)
    return found
