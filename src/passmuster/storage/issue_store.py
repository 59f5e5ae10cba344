"""Small store functions over one connection: the Desk composes them into transactions.

Every function takes the connection it runs on, so a caller decides what commits together.
Rows become `core.issues` objects here and nowhere else.

The per-issue timeline sums (`storage/timeline_sums.py`, which brings the SLA rules) and the
catalog are imported by the functions that write or read them: a listing needs neither.
"""

from __future__ import annotations

import dataclasses
import json
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Row,
    Select,
    Text,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from passmuster.core.issues import (
    EVENT_KINDS,
    CloseReason,
    Comment,
    Event,
    ExtraSection,
    FileChange,
    Issue,
    IssueDraft,
    IssueQuery,
    IssueType,
    Lease,
    Link,
    LinkKind,
    Priority,
    Severity,
    Status,
    Task,
    format_number,
)
from passmuster.errors import Conflict, DeskError, InvalidValue, NotFound
from passmuster.storage import search
from passmuster.storage.bulk import insert_rows
from passmuster.storage.issue_tables import (
    comments,
    desk_counters,
    events,
    issue_labels,
    issue_links,
    issue_services,
    issue_timelines,
    issues,
    services,
)
from passmuster.storage.types import UTCDateTime, utc_datetime

if TYPE_CHECKING:
    from passmuster.core.catalog import Service

ISSUE_COUNTER = "issues"
_CHUNK = 500
_NO_PRIORITY_RANK = len(Priority)
# The vocabularies' `rank` properties list the enum on every call; a bulk filing asks 10,000 times.
_SEVERITY_RANK = {s: s.rank for s in Severity}
_PRIORITY_RANK = {p: p.rank for p in Priority}
_V = TypeVar("_V", IssueType, Severity, Priority, Status, CloseReason)

# --- prebuilt statements ------------------------------------------------------------------------


class _Statements:
    """The write path's statements, built once: constructing a statement costs about as much as
    running it on SQLite, and filing an issue runs seven of them."""

    @cached_property
    def next_numbers(self) -> Any:
        return (
            update(desk_counters)
            .where(desk_counters.c.name == ISSUE_COUNTER)
            .values(value=desk_counters.c.value + bindparam("b_count"))
            .returning(desk_counters.c.value)
        )

    @cached_property
    def insert_issues_pg(self) -> Any:
        return insert(issues).values(search_vector=search.pg_vector())

    @cached_property
    def service_ids(self) -> Any:
        return select(services.c.name, services.c.id).where(
            services.c.name.in_(bindparam("b_names", expanding=True))
        )


_STATEMENTS = _Statements()


# --- numbers -------------------------------------------------------------------------------


def next_numbers(connection: Connection, count: int = 1) -> list[int]:
    """Take `count` consecutive issue numbers.

    The counter row is updated in the caller's transaction: concurrent filers queue on its row
    lock (SQLite: on the write lock), and a rolled-back filing gives its number back.
    """
    last = connection.execute(_STATEMENTS.next_numbers, {"b_count": count}).scalar_one_or_none()
    if last is None:
        raise DeskError("the desk has no issue counter; it was not created by passmuster init")
    return list(range(int(last) - count + 1, int(last) + 1))


def lock_counter(connection: Connection, name: str) -> None:
    """Hold the named counter row for this transaction: a lock for work that must not overlap."""
    connection.execute(
        upsert_statement(connection)(desk_counters)
        .values(name=name, value=0)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    stmt = select(desk_counters.c.value).where(desk_counters.c.name == name)
    connection.execute(stmt.with_for_update()).scalar_one()


# --- issues: writing ------------------------------------------------------------------------


def _plain(items: Iterable[Any]) -> list[dict[str, Any]]:
    # Task, FileChange and ExtraSection are flat slotted records: no need for asdict's deep copy.
    return [{name: getattr(i, name) for name in i.__slots__} for i in items]


def issue_values(item: IssueDraft) -> dict[str, Any]:
    """The issues-table columns of a draft or issue (without number, times and version)."""
    return {
        "title": item.title,
        "type": item.type.value,
        "severity": item.severity.value,
        "severity_rank": _SEVERITY_RANK[item.severity],
        "priority": item.priority.value if item.priority else None,
        "priority_rank": _PRIORITY_RANK[item.priority] if item.priority else _NO_PRIORITY_RANK,
        "status": item.status.value,
        "is_active": 1 if item.status.is_active else 0,
        "close_reason": item.close_reason.value if item.close_reason else None,
        "component": item.component,
        "reporter": item.reporter,
        "assignee": item.assignee,
        "reported_at": item.reported_at,
        "acknowledged_at": item.acknowledged_at,
        "resolved_at": item.resolved_at,
        "description": item.description,
        "impact": item.impact,
        "attempted_solutions": item.attempted_solutions,
        "root_cause": item.root_cause,
        "resolution": item.resolution,
        "workaround": item.workaround,
        "prevention": item.prevention,
        "test_results": item.test_results,
        "error_details": list(item.error_details),
        "files_changed": _plain(item.files_changed),
        "tasks": _plain(item.tasks),
        "extra_sections": _plain(item.extra_sections),
        "original_values": dict(item.original_values),
        "original_id": item.original_id,
        "source": item.source,
        "fingerprint": item.fingerprint,
    }


_DRAFT_FIELDS = tuple(f.name for f in dataclasses.fields(IssueDraft))
_draft_values = operator.attrgetter(*_DRAFT_FIELDS)


def insert_issues(
    connection: Connection, drafts: Sequence[IssueDraft], *, actor: str, now: datetime
) -> list[Issue]:
    """File drafts as new issues with consecutive numbers; one `created` event each."""
    from passmuster.storage import timeline_sums

    if not drafts:
        return []
    numbers = next_numbers(connection, len(drafts))
    filed: list[Issue] = []
    rows: list[dict[str, Any]] = []
    for number, draft in zip(numbers, drafts, strict=True):
        issue = Issue(
            **dict(zip(_DRAFT_FIELDS, _draft_values(draft), strict=True)),
            number=number,
            created_at=now,
            updated_at=now,
            version=1,
        )
        row = issue_values(issue)
        row.update(
            number=number,
            opened_at=issue.reported_at or now,
            created_at=now,
            updated_at=now,
            version=1,
        )
        rows.append(row)
        filed.append(issue)
    if connection.dialect.name == "postgresql":
        # The search vector is computed by the INSERT itself: one statement, no second pass.
        for row, issue in zip(rows, filed, strict=True):
            row["b_title"] = issue.title
            row["b_body"] = search.search_body(issue)
        connection.execute(_STATEMENTS.insert_issues_pg, rows)
    else:
        insert_rows(connection, issues, rows)
    _write_services(connection, filed, now=now, replace=False)
    _write_labels(connection, filed, replace=False)
    link_rows = [
        {"issue_number": i.number, "kind": link.kind.value, "target": link.target}
        for i in filed
        for link in i.links
    ]
    insert_rows(connection, issue_links, link_rows)
    search.index_rows(
        connection, [(i.number, i.title, search.search_body(i)) for i in filed], fresh=True
    )
    insert_rows(
        connection,
        events,
        [
            {
                "issue_number": i.number,
                "actor": actor,
                "at": now,
                "kind": "created",
                "field": None,
                "old": None,
                "new": i.status.value,
            }
            for i in filed
        ],
    )
    insert_rows(connection, issue_timelines, timeline_sums.created_rows(filed))
    timeline_sums.add_active_services(connection, [i.number for i in filed if i.status.is_active])
    return filed


def _write_services(
    connection: Connection, filed: Sequence[Issue], *, now: datetime, replace: bool
) -> None:
    if replace:
        connection.execute(
            delete(issue_services).where(
                issue_services.c.issue_number.in_([i.number for i in filed])
            )
        )
    names = list(dict.fromkeys(n for i in filed for n in i.services))
    if not names:
        return
    ids = service_ids(connection, names, now=now)
    insert_rows(
        connection,
        issue_services,
        [
            {"issue_number": i.number, "service_id": ids[name], "position": pos}
            for i in filed
            for pos, name in enumerate(i.services)
        ],
    )


def _write_labels(connection: Connection, filed: Sequence[Issue], *, replace: bool) -> None:
    if replace:
        connection.execute(
            delete(issue_labels).where(issue_labels.c.issue_number.in_([i.number for i in filed]))
        )
    rows = [
        {"issue_number": i.number, "label": label, "position": pos}
        for i in filed
        for pos, label in enumerate(i.labels)
    ]
    insert_rows(connection, issue_labels, rows)


def write_issue(
    connection: Connection,
    issue: Issue,
    *,
    expected_version: int,
    now: datetime,
    changed: Iterable[str],
) -> Issue:
    """Store `issue` over its row if the row is still at `expected_version` (compare-and-set)."""
    from passmuster.storage import timeline_sums

    changed = set(changed)
    values = issue_values(issue)
    values.update(
        opened_at=issue.reported_at or issue.created_at or now,
        updated_at=now,
        version=expected_version + 1,
    )
    result = connection.execute(
        update(issues)
        .where(issues.c.number == issue.number, issues.c.version == expected_version)
        .values(**values)
    )
    if result.rowcount != 1:
        raise Conflict(
            f"issue {format_number(issue.number)} changed meanwhile "
            f"(expected version {expected_version}); reload it and try again"
        )
    stored = dataclasses.replace(issue, updated_at=now, version=expected_version + 1)
    if "services" in changed:
        _write_services(connection, [stored], now=now, replace=True)
    if "labels" in changed:
        _write_labels(connection, [stored], replace=True)
    search.index_rows(connection, [(stored.number, stored.title, search.search_body(stored))])
    timeline_sums.refresh(connection, [stored.number])
    return stored


# --- issues: reading ------------------------------------------------------------------------


def _vocabulary(kind: type[_V]) -> Callable[[str], _V]:
    """`kind(value)` through a dict: an enum's own call costs several times a dict lookup, and
    reading 10,000 issues makes 50,000 of them. An unknown value still raises as the enum does."""
    members = {m.value: m for m in kind}

    def member(value: str) -> _V:
        found = members.get(value)
        return kind(value) if found is None else found

    return member


_TYPE_OF = _vocabulary(IssueType)
_SEVERITY_OF = _vocabulary(Severity)
_PRIORITY_OF = _vocabulary(Priority)
_STATUS_OF = _vocabulary(Status)
_CLOSE_REASON_OF = _vocabulary(CloseReason)


def _scalars(m: Any) -> dict[str, Any]:
    """The fields every reading of an issue row fills, summaries included."""
    return {
        "number": m["number"],
        "title": m["title"],
        "type": _TYPE_OF(m["type"]),
        "severity": _SEVERITY_OF(m["severity"]),
        "priority": _PRIORITY_OF(m["priority"]) if m["priority"] else None,
        "status": _STATUS_OF(m["status"]),
        "close_reason": _CLOSE_REASON_OF(m["close_reason"]) if m["close_reason"] else None,
        "component": m["component"],
        "reporter": m["reporter"],
        "assignee": m["assignee"],
        "reported_at": m["reported_at"],
        "acknowledged_at": m["acknowledged_at"],
        "resolved_at": m["resolved_at"],
        "created_at": m["created_at"],
        "updated_at": m["updated_at"],
        "version": m["version"],
        "original_id": m["original_id"],
        "source": m["source"],
        "fingerprint": m["fingerprint"],
        "lease": (
            Lease(m["lease_holder"], m["leased_at"], m["lease_until"])
            if m["lease_holder"] is not None
            else None
        ),
    }


class _RawValues:
    """Turns the raw JSON and time columns of issue rows into values, for one read.

    Full issue rows select those columns without SQLAlchemy's result conversion (see
    `_ISSUE_COLUMNS`): its per-value conversion functions were half the time of reading
    10,000 issues. The values come out the same: times through `utc_datetime`, the function
    the column type itself converts with, each distinct text once (an import stamps thousands
    of issues with one clock); JSON decoded with `json.loads` where the driver hands over text
    (SQLite, as SQLAlchemy's JSON type does there), taken as given where the driver already
    decodes it (PostgreSQL through psycopg, where SQLAlchemy does nothing either).
    """

    def __init__(self, connection: Connection) -> None:
        self.times: dict[Any, datetime | None] = {}
        self.decode = connection.dialect.name == "sqlite"

    def convert(self, m: dict[str, Any]) -> None:
        times = self.times
        for name in _TIME_NAMES:
            value = m[name]
            if value is not None:
                moment = times.get(value)
                if moment is None:
                    moment = times[value] = utc_datetime(value)
                m[name] = moment
        if self.decode:
            texts = [m[name] for name in _JSON_NAMES]
            # The row's JSON texts decoded as one array: one call instead of five, and the same
            # values, since each is a whole JSON text. Anything else (a NULL) goes one by one.
            values = json.loads(f"[{','.join(texts)}]") if None not in texts else []
            if len(values) != len(texts):
                values = [None if t is None else json.loads(t) for t in texts]
            m.update(zip(_JSON_NAMES, values, strict=True))


def _row_to_issue(row: Row[Any], raw: _RawValues) -> Issue:
    # A plain dict of the row (every caller selects _ISSUE_COLUMNS): a row mapping's lookup by
    # name costs ten times a dict's, and hydrating 10,000 issues looks up 400,000 names.
    m = dict(zip(_ISSUE_NAMES, row, strict=True))
    raw.convert(m)
    return Issue(
        **_scalars(m),
        description=m["description"],
        impact=m["impact"],
        attempted_solutions=m["attempted_solutions"],
        root_cause=m["root_cause"],
        resolution=m["resolution"],
        workaround=m["workaround"],
        prevention=m["prevention"],
        test_results=m["test_results"],
        error_details=list(m["error_details"] or []),
        files_changed=[FileChange(**f) for f in m["files_changed"] or []],
        tasks=[Task(**t) for t in m["tasks"] or []],
        extra_sections=[ExtraSection(**s) for s in m["extra_sections"] or []],
        original_values=dict(m["original_values"] or {}),
    )


# The JSON and time columns are selected as plain text columns (`type_coerce` renders no SQL,
# it only leaves SQLAlchemy's result conversion out) and converted by `_RawValues`.
_ISSUE_COLUMNS = [
    type_coerce(c, Text()).label(c.name) if isinstance(c.type, JSON | UTCDateTime) else c
    for c in issues.c
    if c.name not in ("search_vector", "opened_at", "is_active")
]
_ISSUE_NAMES = tuple(c.name for c in _ISSUE_COLUMNS)
_TIME_NAMES = tuple(
    c.name for c in issues.c if isinstance(c.type, UTCDateTime) and c.name in _ISSUE_NAMES
)
_JSON_NAMES = tuple(c.name for c in issues.c if isinstance(c.type, JSON))

# An issue read whose numbers fill at least half of their range reads the side tables (services,
# labels, links) over that range, skipping the rows of issues it did not select: for a whole
# desk, three plain queries instead of three with 500 bound numbers for every 500 issues, which
# took a quarter of the time of reading 10,000 issues.
_RANGE_SPREAD = 2


def _hydrate(connection: Connection, rows: Sequence[Row[Any]]) -> list[Issue]:
    raw = _RawValues(connection)
    found = [_row_to_issue(r, raw) for r in rows]
    if not found:
        return found
    by_number = {i.number: i for i in found}
    numbers = sorted(by_number)
    low, high = numbers[0], numbers[-1]
    if len(numbers) > _CHUNK and high - low < _RANGE_SPREAD * len(numbers):
        _add_side_rows(connection, by_number, range(low, high + 1))
    else:
        for start in range(0, len(numbers), _CHUNK):
            _add_side_rows(connection, by_number, numbers[start : start + _CHUNK])
    return found


def _add_side_rows(
    connection: Connection, by_number: dict[int, Issue], numbers: list[int] | range
) -> None:
    """Fill the services, labels and links of the issues in `by_number` from the side rows of
    `numbers` (a list, or a whole range); rows of issues not in `by_number` are skipped."""

    def where(column: ColumnElement[int]) -> ColumnElement[bool]:
        if isinstance(numbers, range):
            return column.between(numbers.start, numbers.stop - 1)
        return column.in_(numbers)

    svc = connection.execute(
        select(issue_services.c.issue_number, services.c.name)
        .join(services, services.c.id == issue_services.c.service_id)
        .where(where(issue_services.c.issue_number))
        .order_by(issue_services.c.issue_number, issue_services.c.position)
    ).all()
    for number, name in svc:
        issue = by_number.get(number)
        if issue is not None:
            issue.services.append(name)
    lab = connection.execute(
        select(issue_labels.c.issue_number, issue_labels.c.label)
        .where(where(issue_labels.c.issue_number))
        .order_by(issue_labels.c.issue_number, issue_labels.c.position)
    ).all()
    for number, label in lab:
        issue = by_number.get(number)
        if issue is not None:
            issue.labels.append(label)
    lnk = connection.execute(
        select(issue_links.c.issue_number, issue_links.c.kind, issue_links.c.target)
        .where(where(issue_links.c.issue_number))
        .order_by(issue_links.c.id)
    ).all()
    for number, kind, target in lnk:
        issue = by_number.get(number)
        if issue is not None:
            issue.links.append(Link(LinkKind(kind), target))


_SUMMARY_COLUMNS = [
    issues.c[name]
    for name in (
        "number", "title", "type", "severity", "priority", "status", "close_reason",
        "component", "reporter", "assignee", "reported_at", "acknowledged_at", "resolved_at",
        "created_at", "updated_at", "version", "original_id", "source", "fingerprint",
        "lease_holder", "leased_at", "lease_until",
    )
]  # fmt: skip


def _row_to_summary(row: Row[Any]) -> Issue:
    return Issue(**_scalars(row._mapping))


def _where(
    connection: Connection,
    query: IssueQuery,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ColumnElement[bool]]:
    where = _conditions(connection, query)
    if since is not None:
        where.append(issues.c.opened_at >= since)
    if until is not None:
        where.append(issues.c.opened_at < until)
    return where


def issue_summaries(
    connection: Connection,
    query: IssueQuery,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    with_services: bool = False,
) -> list[Issue]:
    """Issues matching `query` (reported in [since, until)) with their scalar fields only.

    Texts, lists, labels and links stay empty; services are filled with `with_services`. For
    SLAs and statistics, which read every active issue and would otherwise spend most of their
    time decoding fields they never look at.
    """
    where = _where(connection, query, since, until)
    rows = connection.execute(
        select(*_SUMMARY_COLUMNS).where(*where).order_by(issues.c.number)
    ).all()
    found = [_row_to_summary(r) for r in rows]
    if with_services and found:
        by_number = {i.number: i for i in found}
        links = connection.execute(
            select(issue_services.c.issue_number, services.c.name)
            .join(services, services.c.id == issue_services.c.service_id)
            .where(issue_services.c.issue_number.in_(select(issues.c.number).where(*where)))
            .order_by(issue_services.c.issue_number, issue_services.c.position)
        )
        for number, name in links:
            by_number[number].services.append(name)
    return found


def timelines(
    connection: Connection,
    query: IssueQuery,
    *,
    kinds: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[int, list[Event]]:
    """The events of `kinds` of every issue matching `query`, in one query, oldest first."""
    numbers = select(issues.c.number).where(*_where(connection, query, since, until))
    stmt = (
        select(events)
        .where(events.c.issue_number.in_(numbers), events.c.kind.in_(list(kinds)))
        .order_by(events.c.id)
    )
    out: dict[int, list[Event]] = defaultdict(list)
    for r in connection.execute(stmt):
        out[r.issue_number].append(_row_to_event(r))
    return out


def get_issue(connection: Connection, number: int, *, for_update: bool = False) -> Issue:
    stmt = select(*_ISSUE_COLUMNS).where(issues.c.number == number)
    if for_update:
        stmt = stmt.with_for_update()
    rows = connection.execute(stmt).all()
    if not rows:
        raise NotFound(f"no issue {format_number(number)}")
    return _hydrate(connection, rows)[0]


def find_issue(
    connection: Connection,
    *,
    source: str | None = None,
    original_id: str | None = None,
    fingerprint: str | None = None,
) -> Issue | None:
    conditions: list[ColumnElement[bool]] = []
    if source is not None:
        conditions.append(issues.c.source == source)
    if original_id is not None:
        conditions.append(issues.c.original_id == original_id)
    if fingerprint is not None:
        conditions.append(issues.c.fingerprint == fingerprint)
    if not conditions:
        return None
    rows = connection.execute(
        select(*_ISSUE_COLUMNS).where(*conditions).order_by(issues.c.number).limit(1)
    ).all()
    found = _hydrate(connection, rows)
    return found[0] if found else None


def _conditions(connection: Connection, query: IssueQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.statuses:
        where.append(issues.c.status.in_([s.value for s in query.statuses]))
    if query.active_only:
        where.append(issues.c.is_active == 1)
    if query.severities:
        where.append(issues.c.severity_rank.in_([s.rank for s in query.severities]))
    if query.types:
        where.append(issues.c.type.in_([t.value for t in query.types]))
    if query.assignee is not None:
        where.append(issues.c.assignee == query.assignee)
    if query.source is not None:
        where.append(issues.c.source == query.source)
    if query.services:
        wanted = select(services.c.id).where(services.c.name.in_(query.services))
        where.append(
            issues.c.number.in_(
                select(issue_services.c.issue_number).where(issue_services.c.service_id.in_(wanted))
            )
        )
    for label in query.labels:
        where.append(
            exists().where(
                issue_labels.c.issue_number == issues.c.number, issue_labels.c.label == label
            )
        )
    if query.label_prefix:
        # Case-insensitive on SQLite for ASCII letters (LIKE's rule there): a caller that
        # needs the exact case tests the labels it gets back.
        where.append(
            exists().where(
                issue_labels.c.issue_number == issues.c.number,
                issue_labels.c.label.startswith(query.label_prefix, autoescape=True),
            )
        )
    if query.text:
        terms = search.words(query.text)
        if terms:
            where.append(issues.c.number.in_(search.matching_numbers(connection, terms)))
    return where


def _order(sort: str) -> list[ColumnElement[Any]]:
    c = issues.c
    orders: dict[str, list[ColumnElement[Any]]] = {
        "number": [c.number.asc()],
        "-number": [c.number.desc()],
        "updated": [c.updated_at.asc(), c.number.asc()],
        "-updated": [c.updated_at.desc(), c.number.desc()],
        "severity": [c.severity_rank.asc(), c.number.asc()],
        "reported": [c.opened_at.asc(), c.number.asc()],
        "urgency": [c.severity_rank.asc(), c.priority_rank.asc(), c.opened_at.asc(), c.number],
    }
    return orders[sort]


def list_issues(connection: Connection, query: IssueQuery) -> list[Issue]:
    stmt = select(*_ISSUE_COLUMNS).where(*_conditions(connection, query))
    stmt = stmt.order_by(*_order(query.sort))
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    if query.offset:
        stmt = stmt.offset(query.offset)
    return _hydrate(connection, connection.execute(stmt).all())


def count_issues(connection: Connection, query: IssueQuery) -> int:
    stmt = select(func.count()).select_from(issues).where(*_conditions(connection, query))
    return int(connection.execute(stmt).scalar_one())


def issues_by_numbers(connection: Connection, numbers: Sequence[int]) -> list[Issue]:
    """Issues in the order of `numbers` (missing ones left out)."""
    found: dict[int, Issue] = {}
    for start in range(0, len(numbers), _CHUNK):
        chunk = list(numbers[start : start + _CHUNK])
        rows = connection.execute(select(*_ISSUE_COLUMNS).where(issues.c.number.in_(chunk))).all()
        found.update((i.number, i) for i in _hydrate(connection, rows))
    return [found[n] for n in numbers if n in found]


def search_issues(connection: Connection, text: str, *, limit: int) -> list[Issue]:
    numbers = search.ranked_numbers(connection, search.words(text), limit=limit)
    return issues_by_numbers(connection, numbers)


def known_fixes(connection: Connection, draft: IssueDraft, *, limit: int) -> list[Issue]:
    """Resolved issues that look like `draft` (title and error details), best first."""
    terms = search.distinctive_words(" ".join([draft.title, *draft.error_details]))
    numbers = search.ranked_numbers(
        connection,
        terms,
        any_word=True,
        where=[
            issues.c.status.in_([Status.RESOLVED.value, Status.CLOSED.value]),
            issues.c.resolution != "",
        ],
        limit=limit * _CANDIDATES_PER_FIX,
        always_rank=True,
    )
    # Any-word ranking finds candidates; one shared word ("service", "error") is no look-alike,
    # so a fix is shown only when enough of the draft's distinctive words appear in it.
    wanted = {_stem(t) for t in terms}
    needed = min(_SHARED_WORDS_NEEDED, len(wanted))
    fixes = []
    for issue in issues_by_numbers(connection, numbers):
        text = " ".join([issue.title, *issue.error_details, issue.description, issue.root_cause])
        own = {_stem(w) for w in search.distinctive_words(text, limit=500)}
        if len(wanted & own) >= needed:
            fixes.append(issue)
    return fixes[:limit]


_CANDIDATES_PER_FIX = 4
_SHARED_WORDS_NEEDED = 2


def _stem(word: str) -> str:
    """A light stem so "imported" meets "import"; the search index does the real stemming."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _ready_statement(*, now: datetime, claimable: bool) -> Select[Any]:
    """Active, unblocked issues nobody holds a live claim on, most urgent first.

    `claimable` keeps only those free to claim: unassigned, or whose claim has run out.
    """
    blocker = issues.alias("blocker")
    blocked_by_open = exists().where(
        issue_links.c.target == issues.c.number,
        issue_links.c.kind == LinkKind.BLOCKS.value,
        blocker.c.number == issue_links.c.issue_number,
        blocker.c.is_active == 1,
    )
    lapsed = issues.c.lease_until <= now
    stmt = select(*_ISSUE_COLUMNS).where(
        issues.c.is_active == 1,
        issues.c.status != Status.BLOCKED.value,
        ~blocked_by_open,
        or_(issues.c.lease_until.is_(None), lapsed),
    )
    if claimable:
        stmt = stmt.where(or_(issues.c.assignee.is_(None), lapsed))
    return stmt.order_by(*_order("urgency"))


def ready_issues(connection: Connection, *, limit: int, now: datetime) -> list[Issue]:
    stmt = _ready_statement(now=now, claimable=False).limit(limit)
    return _hydrate(connection, connection.execute(stmt).all())


def next_claimable(connection: Connection, *, now: datetime) -> Issue | None:
    """The most urgent ready issue free to claim, locked for this transaction.

    PostgreSQL skips rows another claimer holds, so concurrent claimers each get a different
    issue at once; SQLite's write lock already serialises them.
    """
    stmt = _ready_statement(now=now, claimable=True).limit(1)
    if connection.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=issues)
    found = _hydrate(connection, connection.execute(stmt).all())
    return found[0] if found else None


# --- claim leases -----------------------------------------------------------------------------


def set_lease(connection: Connection, number: int, lease: Lease | None) -> None:
    """Store (or, with None, end) the claim lease of an issue; its version stays."""
    connection.execute(
        update(issues)
        .where(issues.c.number == number)
        .values(
            lease_holder=lease.holder if lease else None,
            leased_at=lease.since if lease else None,
            lease_until=lease.until if lease else None,
        )
    )


def any_lapsed(connection: Connection, now: datetime) -> bool:
    """Whether some claim has run out: a read, so an idle sweep never takes the write lock."""
    stmt = select(issues.c.number).where(issues.c.lease_until <= now).limit(1)
    return connection.execute(stmt).first() is not None


def lapsed_leases(connection: Connection, now: datetime, *, limit: int) -> list[Issue]:
    """Issues whose claim has run out, oldest first, locked (others' locked rows skipped)."""
    stmt = (
        select(*_ISSUE_COLUMNS)
        .where(issues.c.lease_until <= now)
        .order_by(issues.c.lease_until, issues.c.number)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=issues)
    return _hydrate(connection, connection.execute(stmt).all())


def held_issues(connection: Connection) -> list[Issue]:
    """Every issue under a claim (lapsed ones not yet returned too), soonest to end first."""
    stmt = (
        select(*_SUMMARY_COLUMNS)
        .where(issues.c.lease_holder.is_not(None))
        .order_by(issues.c.lease_until, issues.c.number)
    )
    return [_row_to_summary(r) for r in connection.execute(stmt)]


# --- links, comments, events ------------------------------------------------------------------


def add_link(connection: Connection, number: int, kind: LinkKind, target: int) -> bool:
    """Add a link unless it is there already; True when added."""
    present = connection.execute(
        select(issue_links.c.id).where(
            issue_links.c.issue_number == number,
            issue_links.c.kind == kind.value,
            issue_links.c.target == target,
        )
    ).first()
    if present is not None:
        return False
    connection.execute(
        insert(issue_links).values(issue_number=number, kind=kind.value, target=target)
    )
    return True


def remove_link(connection: Connection, number: int, kind: LinkKind, target: int) -> bool:
    """Remove a link; True when there was one."""
    result = connection.execute(
        delete(issue_links).where(
            issue_links.c.issue_number == number,
            issue_links.c.kind == kind.value,
            issue_links.c.target == target,
        )
    )
    return bool(result.rowcount)


def issue_exists(connection: Connection, number: int) -> bool:
    return (
        connection.execute(select(issues.c.number).where(issues.c.number == number)).first()
        is not None
    )


def add_comment(
    connection: Connection, number: int, body: str, *, author: str, now: datetime
) -> Comment:
    new_id = connection.execute(
        insert(comments)
        .values(issue_number=number, author=author, body=body, created_at=now)
        .returning(comments.c.id)
    ).scalar_one()
    return Comment(id=int(new_id), issue=number, author=author, body=body, created_at=now)


def list_comments(connection: Connection, number: int) -> list[Comment]:
    rows = connection.execute(
        select(comments).where(comments.c.issue_number == number).order_by(comments.c.id)
    )
    return [
        Comment(
            id=r.id, issue=r.issue_number, author=r.author, body=r.body, created_at=r.created_at
        )
        for r in rows
    ]


def add_events(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Event]:
    """Append events: mappings with issue, actor, at, kind and optional field, old, new."""
    from passmuster.storage import timeline_sums

    out: list[Event] = []
    for row in rows:
        kind = row["kind"]
        if kind not in EVENT_KINDS:
            raise InvalidValue("event kind", kind, EVENT_KINDS)
        values = {
            "issue_number": row["issue"],
            "actor": row["actor"],
            "at": row["at"],
            "kind": kind,
            "field": row.get("field"),
            "old": row.get("old"),
            "new": row.get("new"),
        }
        new_id = connection.execute(
            insert(events).values(**values).returning(events.c.id)
        ).scalar_one()
        out.append(
            Event(
                id=int(new_id),
                issue=values["issue_number"],
                actor=values["actor"],
                at=values["at"],
                kind=kind,
                field=values["field"],
                old=values["old"],
                new=values["new"],
            )
        )
    timeline_sums.refresh(connection, timeline_sums.touches_timeline(rows))
    return out


def append_events(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append many events in one executemany (ids are not read back): mappings with issue,
    actor, at, kind and optional field, old, new."""
    from passmuster.storage import timeline_sums

    for row in rows:
        if row["kind"] not in EVENT_KINDS:
            raise InvalidValue("event kind", row["kind"], EVENT_KINDS)
    insert_rows(
        connection,
        events,
        [
            {
                "issue_number": row["issue"],
                "actor": row["actor"],
                "at": row["at"],
                "kind": row["kind"],
                "field": row.get("field"),
                "old": row.get("old"),
                "new": row.get("new"),
            }
            for row in rows
        ],
    )
    timeline_sums.refresh(connection, timeline_sums.touches_timeline(rows))


def _row_to_event(r: Row[Any]) -> Event:
    return Event(
        id=r.id,
        issue=r.issue_number,
        actor=r.actor,
        at=r.at,
        kind=r.kind,
        field=r.field,
        old=r.old,
        new=r.new,
    )


def list_events(
    connection: Connection,
    *,
    issue: int | None = None,
    after: int | None = None,
    limit: int | None = 100,
    kinds: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Event]:
    stmt = select(events)
    if issue is not None:
        stmt = stmt.where(events.c.issue_number == issue)
    if after is not None:
        stmt = stmt.where(events.c.id > after)
    if kinds:
        stmt = stmt.where(events.c.kind.in_(list(kinds)))
    if since is not None:
        stmt = stmt.where(events.c.at >= since)
    if until is not None:
        stmt = stmt.where(events.c.at < until)
    stmt = stmt.order_by(events.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_row_to_event(r) for r in connection.execute(stmt)]


def events_by_issue(connection: Connection, numbers: Sequence[int]) -> dict[int, list[Event]]:
    """Every event of each of these issues, oldest first: their timelines in one query per
    500 issues instead of one per issue. Issues without events are left out."""
    out: dict[int, list[Event]] = defaultdict(list)
    for start in range(0, len(numbers), _CHUNK):
        chunk = list(numbers[start : start + _CHUNK])
        stmt = select(events).where(events.c.issue_number.in_(chunk)).order_by(events.c.id)
        for r in connection.execute(stmt):
            out[r.issue_number].append(_row_to_event(r))
    return dict(out)


# --- services -------------------------------------------------------------------------------


def upsert_statement(connection: Connection) -> Any:
    """The dialect's `insert` that has `on_conflict_do_…` (PostgreSQL's or SQLite's)."""
    if connection.dialect.name == "postgresql":
        # Imported here: loading PostgreSQL's dialect costs every command on a SQLite desk.
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    return sqlite_insert


def service_ids(connection: Connection, names: Sequence[str], *, now: datetime) -> dict[str, int]:
    """Ids of the named services, creating bare ones for names not yet in the catalog."""
    ids: dict[str, int] = {}
    rows = connection.execute(_STATEMENTS.service_ids, {"b_names": list(names)})
    ids.update((name, int(i)) for name, i in rows)
    missing = [n for n in names if n not in ids]
    if missing:
        stmt = upsert_statement(connection)(services).on_conflict_do_nothing(
            index_elements=["name"]
        )
        connection.execute(
            stmt,
            [
                {
                    "name": n,
                    "description": "",
                    "kind": "service",
                    "depends_on": [],
                    "ports": [],
                    "created_at": now,
                    "updated_at": now,
                }
                for n in missing
            ],
        )
        rows = connection.execute(_STATEMENTS.service_ids, {"b_names": missing})
        ids.update((name, int(i)) for name, i in rows)
    return ids


def _row_to_service(r: Row[Any]) -> Service:
    from passmuster.core.catalog import Service

    return Service(
        name=r.name,
        description=r.description,
        owner=r.owner,
        kind=r.kind,
        depends_on=list(r.depends_on or []),
        health_url=r.health_url,
        ports=list(r.ports or []),
        source=r.source,
    )


def upsert_service(connection: Connection, service: Service, *, now: datetime) -> Service:
    values = {
        "description": service.description,
        "owner": service.owner,
        "kind": service.kind,
        "depends_on": list(service.depends_on),
        "health_url": service.health_url,
        "ports": list(service.ports),
        "source": service.source,
        "updated_at": now,
    }
    stmt = upsert_statement(connection)(services).values(
        name=service.name, created_at=now, **values
    )
    stmt = stmt.on_conflict_do_update(index_elements=["name"], set_=values)
    connection.execute(stmt)
    return get_service(connection, service.name)


def get_service(connection: Connection, name: str) -> Service:
    row = connection.execute(select(services).where(services.c.name == name)).first()
    if row is None:
        raise NotFound(f"no service {name!r}")
    return _row_to_service(row)


def list_services(connection: Connection) -> list[Service]:
    return [
        _row_to_service(r) for r in connection.execute(select(services).order_by(services.c.name))
    ]


def latest_event_id(conn: Connection) -> int:
    """The id of the newest event: it moves whenever anything on the desk changes."""
    from sqlalchemy import func

    return int(conn.execute(select(func.max(events.c.id))).scalar() or 0)


def open_counts_by_service(conn: Connection) -> tuple[dict[str, int], dict[str, int]]:
    """Active issues, and active incidents, per service name, in one grouped query."""
    from sqlalchemy import case, func

    active = [s.value for s in Status if s.is_active]
    incident = case((issues.c.type == IssueType.INCIDENT.value, 1), else_=0)
    # Grouping by the service's id and naming the ids afterwards is twice as fast as
    # grouping by name through a third join.
    grouped = (
        select(issue_services.c.service_id, func.count(), func.sum(incident))
        .select_from(
            issue_services.join(
                issues,
                (issues.c.number == issue_services.c.issue_number) & issues.c.status.in_(active),
            )
        )
        .group_by(issue_services.c.service_id)
    )
    names = dict(conn.execute(select(services.c.id, services.c.name)).tuples().all())
    open_counts: dict[str, int] = {}
    incident_counts: dict[str, int] = {}
    for service_id, total, incidents in conn.execute(grouped):
        name = names.get(service_id)
        if name is not None:
            open_counts[name] = int(total)
            incident_counts[name] = int(incidents or 0)
    return open_counts, incident_counts
