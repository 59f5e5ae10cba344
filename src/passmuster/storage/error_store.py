"""Reads and writes of the runtime-error tables (storage/error_tables.py).

Plain functions on a `Connection`: the caller (usecases/runtime_errors.py) runs them inside the
desk's transactions, next to the desk's own calls that file and reopen issues. Writes take rows
already folded per group, so a batch of events costs a few statements, not a few per event.
Counters are incremented in the database (`count = count + n`), so several server processes on
one PostgreSQL desk never lose an increment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from passmuster.storage.error_tables import (
    error_event_ids,
    error_events,
    error_group_hours,
    error_group_users,
    error_group_values,
    error_groups,
    error_keys,
)
from passmuster.storage.issue_tables import issues, services
from passmuster.storage.types import UTCDateTime

# SQLite takes at most 32,766 bound values in one statement; stay well below it.
_CHUNK = 400


@dataclass(frozen=True, slots=True)
class KeyRow:
    id: int
    service_id: int
    service: str
    public_key: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class GroupState:
    """A group with what the ingestion needs to know of its issue."""

    id: int
    service_id: int
    key: str
    issue_number: int | None
    status: str | None
    close_reason: str | None
    resolved_at: datetime | None
    resolve_mode: str | None
    resolve_release: str | None
    resolved_marker: datetime | None


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: int
    service_id: int
    service: str
    key: str
    issue_number: int | None
    title: str
    culprit: str | None
    level: str
    first_seen: datetime
    last_seen: datetime
    event_count: int
    last_event_id: str | None
    resolve_mode: str | None
    resolve_release: str | None
    resolved_marker: datetime | None


@dataclass(frozen=True, slots=True)
class ValueRow:
    kind: str
    value: str
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    event_id: str
    received_at: datetime
    release: str | None
    environment: str | None
    payload: bytes


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert(c: Connection, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if c.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def service_id(c: Connection, name: str) -> int | None:
    """The id of the service named `name` (a Sentry project's id), or None."""
    found = c.execute(select(services.c.id).where(services.c.name == name)).scalar()
    return int(found) if found is not None else None


# --- keys ---------------------------------------------------------------------------------------


def _key_query() -> Any:
    return select(
        error_keys.c.id,
        error_keys.c.service_id,
        services.c.name,
        error_keys.c.public_key,
        error_keys.c.created_at,
        error_keys.c.created_by,
        error_keys.c.revoked_at,
    ).join(services, services.c.id == error_keys.c.service_id)


def _key_row(row: Any) -> KeyRow:
    return KeyRow(
        id=int(row[0]),
        service_id=int(row[1]),
        service=str(row[2]),
        public_key=str(row[3]),
        created_at=row[4],
        created_by=str(row[5]),
        revoked_at=row[6],
    )


def active_key(c: Connection, service_id: int) -> KeyRow | None:
    query = _key_query().where(
        error_keys.c.service_id == service_id, error_keys.c.revoked_at.is_(None)
    )
    row = c.execute(query.order_by(error_keys.c.id.desc()).limit(1)).first()
    return _key_row(row) if row is not None else None


def find_key(c: Connection, public_key: str) -> KeyRow | None:
    row = c.execute(_key_query().where(error_keys.c.public_key == public_key)).first()
    return _key_row(row) if row is not None else None


def insert_key(
    c: Connection, service_id: int, public_key: str, *, now: datetime, created_by: str
) -> None:
    c.execute(
        insert(error_keys).values(
            service_id=service_id, public_key=public_key, created_at=now, created_by=created_by
        )
    )


def revoke_keys(c: Connection, service_id: int, *, now: datetime) -> int:
    result = c.execute(
        update(error_keys)
        .where(error_keys.c.service_id == service_id, error_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)


# --- ingestion ----------------------------------------------------------------------------------


def seen_event_ids(c: Connection, pairs: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (service id, event id) pairs the desk has already taken."""
    found: set[tuple[int, str]] = set()
    for chunk in _chunks(pairs):
        found.update((int(s), str(e)) for s, e in c.execute(_seen_query(), {"pairs": list(chunk)}))
    return found


# The per-batch queries are built once, their lists bound when they run: building one (and
# working out its cache key) costs more than running it on SQLite.


@cache
def _seen_query() -> Any:
    ids = error_event_ids
    return select(ids.c.service_id, ids.c.event_id).where(
        tuple_(ids.c.service_id, ids.c.event_id).in_(bindparam("pairs", expanding=True))
    )


@cache
def _states_query() -> Any:
    g = error_groups
    return (
        select(
            g.c.id,
            g.c.service_id,
            g.c.key,
            g.c.issue_number,
            issues.c.status,
            issues.c.close_reason,
            issues.c.resolved_at,
            g.c.resolve_mode,
            g.c.resolve_release,
            g.c.resolved_marker,
        )
        .select_from(g.outerjoin(issues, issues.c.number == g.c.issue_number))
        .where(tuple_(g.c.service_id, g.c.key).in_(bindparam("keys", expanding=True)))
    )


def remember_event_ids(c: Connection, pairs: Sequence[tuple[int, str]]) -> None:
    if pairs:
        c.execute(_REMEMBER_EVENT_IDS, [{"service_id": s, "event_id": e} for s, e in pairs])


def group_states(
    c: Connection, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], GroupState]:
    """The groups with these (service id, key) pairs that exist, with their issues' state."""
    found: dict[tuple[int, str], GroupState] = {}
    for chunk in _chunks(keys):
        for row in c.execute(_states_query(), {"keys": list(chunk)}):
            state = GroupState(
                id=int(row[0]),
                service_id=int(row[1]),
                key=str(row[2]),
                issue_number=row[3],
                status=row[4],
                close_reason=row[5],
                resolved_at=row[6],
                resolve_mode=row[7],
                resolve_release=row[8],
                resolved_marker=row[9],
            )
            found[(state.service_id, state.key)] = state
    return found


def insert_group(c: Connection, values: Mapping[str, Any]) -> int | None:
    """A new group's id, or None when another process made the same group meanwhile."""
    statement = (
        _insert(c, error_groups)
        .values(**values, event_count=0)
        .on_conflict_do_nothing(index_elements=["service_id", "key"])
        .returning(error_groups.c.id)
    )
    found = c.execute(statement).scalar()
    return int(found) if found is not None else None


def set_group_issue(c: Connection, group_id: int, number: int) -> None:
    c.execute(update(error_groups).where(error_groups.c.id == group_id).values(issue_number=number))


def count_events(c: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add `n` events to each group: count, last seen, the last event's id and level.

    Rows: group_id, n, last_seen, last_event_id, level; in group id order (a fixed lock order
    keeps two PostgreSQL writers from deadlocking).
    """
    if not rows:
        return
    c.execute(
        _count_update(),
        [
            {
                "b_group": r["group_id"],
                "b_n": r["n"],
                "b_last_seen": r["last_seen"],
                "b_event": r["last_event_id"],
                "b_level": r["level"],
            }
            for r in sorted(rows, key=lambda r: int(r["group_id"]))
        ],
    )


def count_hours(c: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows: group_id, hour, count (added to what the hour has)."""
    if rows:
        c.execute(_HOURS_UPSERT, sorted(rows, key=lambda r: (r["group_id"], r["hour"])))


# The upserts as plain SQL, which SQLite and PostgreSQL both speak (`ON CONFLICT … excluded`).
# SQLAlchemy's dialect INSERTs that know ON CONFLICT cannot be cached, so each batch would
# compile them again (about a millisecond a batch, more than running them on SQLite); a text
# statement compiles once. Datetimes keep the column type, so they are stored as elsewhere.

_HOURS_UPSERT = text(
    "INSERT INTO error_group_hours (group_id, hour, count) VALUES (:group_id, :hour, :count) "
    "ON CONFLICT (group_id, hour) DO UPDATE SET count = error_group_hours.count + excluded.count"
)

_VALUES_UPSERT = text(
    "INSERT INTO error_group_values (group_id, kind, value, count, first_seen, last_seen) "
    "VALUES (:group_id, :kind, :value, :count, :first_seen, :last_seen) "
    "ON CONFLICT (group_id, kind, value) DO UPDATE SET "
    "count = error_group_values.count + excluded.count, last_seen = excluded.last_seen"
).bindparams(
    bindparam("first_seen", type_=UTCDateTime()),
    bindparam("last_seen", type_=UTCDateTime()),
)

_REMEMBER_EVENT_IDS = text(
    "INSERT INTO error_event_ids (service_id, event_id) VALUES (:service_id, :event_id) "
    "ON CONFLICT DO NOTHING"
)

_ADD_USERS = text(
    "INSERT INTO error_group_users (group_id, user_hash) VALUES (:group_id, :user_hash) "
    "ON CONFLICT DO NOTHING"
)


@cache
def _count_update() -> Any:
    g = error_groups
    return (
        update(g)
        .where(g.c.id == bindparam("b_group"))
        .values(
            event_count=g.c.event_count + bindparam("b_n"),
            last_seen=bindparam("b_last_seen", type_=g.c.last_seen.type),
            last_event_id=bindparam("b_event"),
            level=bindparam("b_level"),
        )
    )


def known_values(
    c: Connection, triples: Sequence[tuple[int, str, str]]
) -> set[tuple[int, str, str]]:
    """Which (group, kind, value) triples already have a row."""
    v = error_group_values
    known: set[tuple[int, str, str]] = set()
    columns = tuple_(v.c.group_id, v.c.kind, v.c.value)
    for chunk in _chunks(triples, _CHUNK // 3):
        query = select(v.c.group_id, v.c.kind, v.c.value).where(columns.in_(list(chunk)))
        known.update((int(g), str(k), str(val)) for g, k, val in c.execute(query))
    return known


def count_values(c: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows: group_id, kind, value, count, first_seen, last_seen (first_seen only counts for a
    new row)."""
    if not rows:
        return
    c.execute(
        _VALUES_UPSERT,
        sorted(rows, key=lambda r: (r["group_id"], r["kind"], r["value"])),
    )


def add_users(c: Connection, rows: Sequence[tuple[int, str]]) -> None:
    if rows:
        c.execute(_ADD_USERS, [{"group_id": g, "user_hash": h} for g, h in sorted(set(rows))])


_INSERT_EVENTS = insert(error_events)


def add_events(c: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        c.execute(_INSERT_EVENTS, list(rows))


def prune_events(c: Connection, group_ids: Iterable[int], *, keep: int) -> None:
    """Keep only the `keep` newest whole events of each of these groups (one statement)."""
    ids = sorted(set(group_ids))
    if not ids:
        return
    for chunk in _chunks(ids):
        c.execute(_prune_statement(), {"groups": list(chunk), "keep": keep})


@cache
def _prune_statement() -> Any:
    e = error_events
    ranked = (
        select(
            e.c.id,
            func.row_number().over(partition_by=e.c.group_id, order_by=e.c.id.desc()).label("rank"),
        )
        .where(e.c.group_id.in_(bindparam("groups", expanding=True)))
        .subquery()
    )
    old = select(ranked.c.id).where(ranked.c.rank > bindparam("keep"))
    return delete(e).where(e.c.id.in_(old))


def release_first_seen(c: Connection, service_id: int) -> dict[str, datetime]:
    """When each release of a service was first seen, over all its groups."""
    v, g = error_group_values, error_groups
    query = (
        select(v.c.value, func.min(v.c.first_seen))
        .join(g, g.c.id == v.c.group_id)
        .where(g.c.service_id == service_id, v.c.kind == "release")
        .group_by(v.c.value)
    )
    return {str(value): first for value, first in c.execute(query)}


def set_resolve_mode(
    c: Connection, group_id: int, *, mode: str | None, release: str | None, marker: datetime | None
) -> None:
    c.execute(
        update(error_groups)
        .where(error_groups.c.id == group_id)
        .values(resolve_mode=mode, resolve_release=release, resolved_marker=marker)
    )


# --- reading ------------------------------------------------------------------------------------


def _group_query() -> Any:
    g = error_groups
    return select(
        g.c.id,
        g.c.service_id,
        services.c.name,
        g.c.key,
        g.c.issue_number,
        g.c.title,
        g.c.culprit,
        g.c.level,
        g.c.first_seen,
        g.c.last_seen,
        g.c.event_count,
        g.c.last_event_id,
        g.c.resolve_mode,
        g.c.resolve_release,
        g.c.resolved_marker,
    ).join(services, services.c.id == g.c.service_id)


def _group_row(row: Any) -> GroupRow:
    return GroupRow(
        id=int(row[0]),
        service_id=int(row[1]),
        service=str(row[2]),
        key=str(row[3]),
        issue_number=row[4],
        title=str(row[5]),
        culprit=row[6],
        level=str(row[7]),
        first_seen=row[8],
        last_seen=row[9],
        event_count=int(row[10]),
        last_event_id=row[11],
        resolve_mode=row[12],
        resolve_release=row[13],
        resolved_marker=row[14],
    )


def group_of_issue(c: Connection, number: int) -> GroupRow | None:
    row = c.execute(_group_query().where(error_groups.c.issue_number == number)).first()
    return _group_row(row) if row is not None else None


def groups(c: Connection, *, service_id: int | None = None) -> list[GroupRow]:
    query = _group_query().order_by(error_groups.c.last_seen.desc())
    if service_id is not None:
        query = query.where(error_groups.c.service_id == service_id)
    return [_group_row(r) for r in c.execute(query)]


def user_count(c: Connection, group_id: int) -> int:
    query = select(func.count()).where(error_group_users.c.group_id == group_id)
    return int(c.execute(query).scalar() or 0)


def group_values(c: Connection, group_id: int) -> list[ValueRow]:
    v = error_group_values
    query = (
        select(v.c.kind, v.c.value, v.c.count, v.c.first_seen, v.c.last_seen)
        .where(v.c.group_id == group_id)
        .order_by(v.c.kind, v.c.first_seen.desc())
    )
    return [ValueRow(str(k), str(val), int(n), f, last) for k, val, n, f, last in c.execute(query)]


def group_hours(c: Connection, group_id: int, *, since_hour: int) -> dict[int, int]:
    h = error_group_hours
    query = select(h.c.hour, h.c.count).where(h.c.group_id == group_id, h.c.hour >= since_hour)
    return {int(hour): int(n) for hour, n in c.execute(query)}


def service_hours(c: Connection, *, since_hour: int) -> dict[str, dict[int, int]]:
    """Events per service name and hour since `since_hour`."""
    h, g = error_group_hours, error_groups
    query = (
        select(services.c.name, h.c.hour, func.sum(h.c.count))
        .select_from(
            h.join(g, g.c.id == h.c.group_id).join(services, services.c.id == g.c.service_id)
        )
        .where(h.c.hour >= since_hour)
        .group_by(services.c.name, h.c.hour)
    )
    found: dict[str, dict[int, int]] = {}
    for name, hour, n in c.execute(query):
        found.setdefault(str(name), {})[int(hour)] = int(n)
    return found


def latest_events(c: Connection, group_id: int, *, limit: int) -> list[StoredEvent]:
    e = error_events
    query = (
        select(e.c.id, e.c.event_id, e.c.received_at, e.c.release, e.c.environment, e.c.payload)
        .where(e.c.group_id == group_id)
        .order_by(e.c.id.desc())
        .limit(limit)
    )
    return [
        StoredEvent(int(i), str(ev), at, rel, env, bytes(payload))
        for i, ev, at, rel, env, payload in c.execute(query)
    ]


def stored_event_count(c: Connection, group_id: int) -> int:
    query = select(func.count()).where(error_events.c.group_id == group_id)
    return int(c.execute(query).scalar() or 0)
