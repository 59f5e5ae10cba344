"""Runtime errors into tracker issues: one issue per group, counts kept exact.

`ErrorIntake.record(batch)` takes events already read and grouped (core.grouping) and records
them in ONE transaction with the desk (the server's group commit hands it whatever arrived while
the previous batch was committing):

- an event id a service already sent is ignored (clients retry deliveries);
- a new group files one issue (type bug, severity from the level, the service, the stack
  trace, request and tags as error details, label `runtime-error`), with a `detected` event,
  a comment naming the known fixes the desk holds, and `relates_to` links to the scanner's
  open findings about the same cause in the same service;
- an event for a resolved issue reopens it as a regression (usecases/recurrence.py) unless it
  was resolved in the next release and the event comes from that release or an older one
  (core.regressions); a closed issue is only counted;
- every event counts on its group: exact count, first and last seen, per hour, per release and
  environment, the users affected; the last `keep` events of a group are kept whole. The first
  event of a new release refreshes the issue's error details, so they show the code that runs.

Per event the desk writes a few rows folded per group, never a timeline event: a million events
of one cause leave one issue with a short timeline.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection

from passmuster.core.error_events import (
    SOURCE,
    ErrorEvent,
    details_blocks,
    frames_for_display,
    read_event,
    storable,
)
from passmuster.core.grouping import Grouping, fingerprint_for, same_cause
from passmuster.core.issues import (
    Issue,
    IssueDraft,
    IssueQuery,
    IssueType,
    LinkKind,
    Status,
)
from passmuster.core.limits import STORED
from passmuster.core.regressions import ResolvedIn, ResolveMode, latest_release, regresses
from passmuster.errors import InvalidValue, NotFound
from passmuster.storage import error_store as store
from passmuster.usecases.desk import Desk
from passmuster.usecases.recurrence import reopen_as_regression

ACTOR = "errors"
LABEL = "runtime-error"
DEFAULT_KEEP = 50
HOUR = 3600


@dataclass(frozen=True, slots=True)
class Incoming:
    """One event on its way in: read, grouped, and the service its key belongs to."""

    service_id: int
    service: str
    event: ErrorEvent
    grouping: Grouping
    raw: bytes  # the event's JSON as sent


@dataclass(frozen=True, slots=True)
class Recorded:
    event_id: str
    issue: int | None = None
    duplicate: bool = False
    opened: bool = False
    reopened: bool = False


@dataclass(slots=True)
class _Group:
    """The events of one group within a batch."""

    state: store.GroupState | None
    items: list[Incoming] = field(default_factory=list)
    opened: bool = False
    reopened: bool = False


@dataclass(slots=True)
class _Learned:
    """What a batch taught the intake, applied once the batch has committed."""

    values: list[tuple[int, str, str]] = field(default_factory=list)
    added: dict[int, int] = field(default_factory=dict)
    pruned: list[int] = field(default_factory=list)


def _issue_order(group: _Group) -> int:
    return group.state.issue_number or 0 if group.state is not None else 0


def hour_of(moment: datetime) -> int:
    return int(moment.timestamp()) // HOUR


def user_hash(user: str) -> str:
    return hashlib.sha256(user.encode("utf-8")).hexdigest()[:32]


class ErrorIntake:
    """Records batches of events; safe to call from one thread at a time per process."""

    def __init__(
        self,
        desk: Desk,
        *,
        keep: int = DEFAULT_KEEP,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if keep < 1:
            raise InvalidValue("events kept per issue", keep, ["a number of at least 1"])
        self.desk = desk
        self.keep = keep
        self.clock = clock or (lambda: datetime.now(UTC))
        # What this process knows is on the desk already, to spare a query per batch: the
        # releases and environments each group has a row for, and how many whole events each
        # group gained since its last clean-up (pruned once that reaches a fifth of `keep`,
        # so a group holds between `keep` and 1.2 × `keep` whole events).
        self._known_values: set[tuple[int, str, str]] = set()
        self._unpruned: dict[int, int] = {}

    def record(self, batch: Sequence[Incoming]) -> list[Recorded]:
        """Record `batch` in one transaction; the result is in the batch's order."""
        if not batch:
            return []
        now = self.clock()
        learned = _Learned()
        with self.desk.transaction():
            result: list[Recorded] = self.desk.write(lambda c: self._record(c, batch, now, learned))
        # Only once the batch has committed: a rolled-back batch teaches nothing.
        self._known_values.update(learned.values)
        for group_id, added in learned.added.items():
            self._unpruned[group_id] = self._unpruned.get(group_id, 0) + added
        for group_id in learned.pruned:
            self._unpruned[group_id] = 0
        return result

    # -- one batch -----------------------------------------------------------------------------

    def _record(
        self, c: Connection, batch: Sequence[Incoming], now: datetime, learned: _Learned
    ) -> list[Recorded]:
        pairs = [(i.service_id, i.event.event_id) for i in batch]
        seen = store.seen_event_ids(c, list(dict.fromkeys(pairs)))
        fresh: list[Incoming] = []
        duplicate = [False] * len(batch)
        for position, (item, pair) in enumerate(zip(batch, pairs, strict=True)):
            if pair in seen:
                duplicate[position] = True
                continue
            seen.add(pair)
            fresh.append(item)
        store.remember_event_ids(c, [(i.service_id, i.event.event_id) for i in fresh])
        by_key: dict[tuple[int, str], _Group] = {}
        for item in fresh:
            by_key.setdefault((item.service_id, item.grouping.key), _Group(None)).items.append(item)
        states = store.group_states(c, list(by_key))
        for key, group in by_key.items():
            group.state = states.get(key)
        # New groups first (they take the issue counter), then reopenings, then the counts in
        # group order: the same lock order in every process.
        for key, group in by_key.items():
            if group.state is None:
                self._open(c, key, group, now)
        for group in sorted(by_key.values(), key=_issue_order):
            if not group.opened:
                self._maybe_reopen(c, group)
        self._count(c, by_key.values(), now, learned)
        issue_of = {
            (i.service_id, i.event.event_id): g.state.issue_number if g.state else None
            for g in by_key.values()
            for i in g.items
        }
        flags = {
            (i.service_id, i.event.event_id): (g.opened and i is g.items[0], g.reopened)
            for g in by_key.values()
            for i in g.items
        }
        out = []
        for position, (item, pair) in enumerate(zip(batch, pairs, strict=True)):
            if duplicate[position]:
                out.append(Recorded(item.event.event_id, duplicate=True))
                continue
            opened, reopened = flags[pair]
            out.append(Recorded(item.event.event_id, issue_of[pair], False, opened, reopened))
        return out

    def _open(self, c: Connection, key: tuple[int, str], group: _Group, now: datetime) -> None:
        first = group.items[0]
        values = {
            "service_id": first.service_id,
            "key": first.grouping.key,
            "title": storable(first.grouping.title),
            "culprit": storable(first.grouping.culprit) if first.grouping.culprit else None,
            "level": first.event.level,
            "first_seen": now,
            "last_seen": now,
        }
        group_id = store.insert_group(c, values)
        if group_id is None:
            # Another server process made this group a moment ago: count into theirs.
            group.state = store.group_states(c, [key]).get(key)
            return
        issue = self.desk.file(_draft(first), actor=ACTOR, limits=STORED)
        store.set_group_issue(c, group_id, issue.number)
        self.desk.record_event(
            issue.number, "detected", actor=ACTOR, new=_seen_in(first.event, "first seen")
        )
        self._mention_known_fixes(issue)
        self._link_findings(issue, first)
        group.opened = True
        group.state = store.GroupState(
            id=group_id,
            service_id=first.service_id,
            key=first.grouping.key,
            issue_number=issue.number,
            status=issue.status.value,
            close_reason=None,
            resolved_at=None,
            resolve_mode=None,
            resolve_release=None,
            resolved_marker=None,
        )

    def _maybe_reopen(self, c: Connection, group: _Group) -> None:
        state = group.state
        if state is None or state.issue_number is None or state.status != Status.RESOLVED.value:
            return  # active (nothing to do) or closed (claims no fix: only counted)
        resolved = ResolvedIn(ResolveMode.ANY)
        if (
            state.resolve_mode == ResolveMode.NEXT_RELEASE.value
            and state.resolved_marker is not None
            and state.resolved_marker == state.resolved_at
        ):
            resolved = ResolvedIn(ResolveMode.NEXT_RELEASE, state.resolve_release)
        first_seen: dict[str, datetime] | None = None
        for item in group.items:
            if resolved.mode is ResolveMode.NEXT_RELEASE and first_seen is None:
                first_seen = store.release_first_seen(c, state.service_id)
            if not regresses(resolved, item.event.release, first_seen or {}):
                continue
            reopen_as_regression(
                self.desk,
                state.issue_number,
                actor=ACTOR,
                fixed_in=(
                    f"the next release after {resolved.release or 'none'}"
                    if resolved.mode is ResolveMode.NEXT_RELEASE
                    else "a resolution without a release"
                ),
                seen_in=_seen_in(item.event, "seen again"),
                seen_by=_seen_in(item.event, "seen again"),
                fields={"error_details": _details(item)},
            )
            group.reopened = True
            return

    def _count(
        self, c: Connection, groups: Collection[_Group], now: datetime, learned: _Learned
    ) -> None:
        hour = hour_of(now)
        counts: list[dict[str, Any]] = []
        hours: list[dict[str, Any]] = []
        values: list[dict[str, Any]] = []
        users: list[tuple[int, str]] = []
        events: list[dict[str, Any]] = []
        pruned: list[int] = []
        newest: dict[int, Incoming] = {}
        for group in groups:
            state = group.state
            if state is None:
                continue
            last = group.items[-1]
            newest[state.id] = last
            counts.append(
                {
                    "group_id": state.id,
                    "n": len(group.items),
                    "last_seen": now,
                    "last_event_id": last.event.event_id,
                    "level": last.event.level,
                }
            )
            hours.append({"group_id": state.id, "hour": hour, "count": len(group.items)})
            tally: dict[tuple[str, str], int] = {}
            for item in group.items:
                for kind, value in (
                    ("release", item.event.release),
                    ("environment", item.event.environment),
                ):
                    if value:
                        tally[(kind, storable(value))] = tally.get((kind, storable(value)), 0) + 1
                if item.event.user:
                    users.append((state.id, user_hash(item.event.user)))
            values += [
                {
                    "group_id": state.id,
                    "kind": kind,
                    "value": value,
                    "count": n,
                    "first_seen": now,
                    "last_seen": now,
                }
                for (kind, value), n in tally.items()
            ]
            for item in group.items[-self.keep :]:
                events.append(
                    {
                        "group_id": state.id,
                        "event_id": item.event.event_id,
                        "received_at": now,
                        "release": item.event.release,
                        "environment": item.event.environment,
                        "payload": zlib.compress(item.raw, 1),
                    }
                )
            pruned.append(state.id)
        store.count_events(c, counts)
        store.count_hours(c, hours)
        triples: list[tuple[int, str, str]] = [
            (int(v["group_id"]), str(v["kind"]), str(v["value"])) for v in values
        ]
        unknown = [t for t in triples if t not in self._known_values]
        new_values = (
            [t for t in unknown if t not in store.known_values(c, unknown)] if unknown else []
        )
        store.count_values(c, values)
        store.add_users(c, users)
        store.add_events(c, events)
        adding: dict[int, int] = {}
        for event in events:
            group_id = int(event["group_id"])
            adding[group_id] = adding.get(group_id, 0) + 1
        threshold = max(1, self.keep // 5)
        due = [g for g in pruned if self._unpruned.get(g, 0) + adding.get(g, 0) >= threshold]
        store.prune_events(c, due, keep=self.keep)
        self._refresh_on_new_release(groups, new_values, newest)
        learned.values = triples
        learned.added = adding
        learned.pruned = due

    def _refresh_on_new_release(
        self,
        groups: Collection[_Group],
        new_values: list[tuple[int, str, str]],
        newest: dict[int, Incoming],
    ) -> None:
        """A release's first event shows the code that runs now: its details replace the
        issue's (not for a group opened or reopened in this batch, which already has them)."""
        fresh = {g for g, kind, _ in new_values if kind == "release"}
        for group in groups:
            state = group.state
            if state is None or state.id not in fresh or group.opened or group.reopened:
                continue
            if state.issue_number is None or state.status in (Status.CLOSED.value,):
                continue
            item = newest[state.id]
            self.desk.update(
                state.issue_number,
                {"error_details": _details(item)},
                actor=ACTOR,
                limits=STORED,
            )

    def _mention_known_fixes(self, issue: Issue) -> None:
        fixes = [f for f in self.desk.known_fixes(issue, limit=3) if f.number != issue.number]
        if not fixes:
            return
        lines = [f"- {f.ref} {f.title}: {f.resolution.strip()[:300]}" for f in fixes]
        self.desk.comment(
            issue.number,
            "Known fixes of issues like this one:\n" + "\n".join(lines),
            actor=ACTOR,
        )

    def _link_findings(self, issue: Issue, item: Incoming) -> None:
        """Link the scanner's open findings about the same cause in the same service."""
        findings = self.desk.issues(
            IssueQuery(source="scan", services=[item.service], active_only=True)
        )
        for finding in findings:
            path, line = finding_location(finding)
            if path and same_cause(item.event, path, line, finding.title):
                self.desk.link(issue.number, LinkKind.RELATES_TO, finding.number, actor=ACTOR)


def link_finding(desk: Desk, finding: Issue) -> list[int]:
    """Link the runtime-error issues of the finding's services whose latest event has the same
    cause as this scanner finding (a finding filed after the errors arrived). Returns the
    runtime-error issues linked."""
    return link_findings(desk, [finding]).get(finding.number, [])


def link_findings(desk: Desk, findings: Sequence[Issue]) -> dict[int, list[int]]:
    """`link_finding` for many findings at once (a scan's new ones): the error groups of their
    services are read once. Returns, per finding linked, the runtime-error issues linked."""
    located: list[tuple[Issue, str, int | None]] = []
    for finding in findings:
        path, line = finding_location(finding)
        if path and finding.services:
            located.append((finding, path, line))
    names = {service for f, _, _ in located for service in f.services}
    if not names:
        return {}

    def candidates(c: Connection) -> dict[str, list[tuple[int, bytes, str]]]:
        found: dict[str, list[tuple[int, bytes, str]]] = {}
        for group in store.groups(c):
            if group.service not in names or group.issue_number is None:
                continue
            latest = store.latest_events(c, group.id, limit=1)
            if latest:
                found.setdefault(group.service, []).append(
                    (group.issue_number, latest[0].payload, latest[0].event_id)
                )
        return found

    by_service = desk.read(candidates)
    if not by_service:
        return {}
    events: dict[tuple[bytes, str], ErrorEvent] = {}
    linked: dict[int, list[int]] = {}
    for finding, path, line in located:
        for service in finding.services:
            for number, payload, event_id in by_service.get(service, ()):
                key = (payload, event_id)
                if key not in events:
                    events[key] = read_event(orjson.loads(zlib.decompress(payload)), event_id)
                if same_cause(events[key], path, line, finding.title):
                    desk.link(number, LinkKind.RELATES_TO, finding.number, actor=ACTOR)
                    linked.setdefault(finding.number, []).append(number)
    return linked


_WHERE = re.compile(r"At `([^`]+?)(?::(\d+))?`")


def finding_location(issue: Issue) -> tuple[str | None, int | None]:
    """The file and line a scan-born issue points at (its description says `At `path:line``)."""
    match = _WHERE.search(issue.description)
    if match is not None:
        return match.group(1), int(match.group(2)) if match.group(2) else None
    return issue.component, None


def _seen_in(event: ErrorEvent, what: str) -> str:
    parts = [f"event {event.event_id}"]
    if event.release:
        parts.append(f"release {event.release}")
    if event.environment:
        parts.append(f"environment {event.environment}")
    return f"{what}: " + ", ".join(parts)


def _details(item: Incoming) -> list[str]:
    return [storable(block) for block in details_blocks(item.event, item.service)]


def _draft(item: Incoming) -> IssueDraft:
    event, grouping = item.event, item.grouping
    how = "its fingerprint" if event.fingerprint else "exception type and in-app frames"
    description = (
        f"A runtime error reported by {item.service} through its Sentry DSN"
        + (f", raised in {grouping.culprit}" if grouping.culprit else "")
        + f". Events are grouped by {how}; this issue counts every one of them and reopens "
        "when one arrives after it is resolved (see docs/errors.md)."
    )
    return IssueDraft(
        title=storable(f"{item.service}: {grouping.title}")[:300],
        type=IssueType.BUG,
        severity=event.severity,
        services=[item.service],
        component=storable(grouping.culprit)[:2000] if grouping.culprit else None,
        reporter=ACTOR,
        description=description,
        error_details=_details(item),
        labels=[LABEL],
        source=SOURCE,
        fingerprint=fingerprint_for(item.service, grouping.key),
    )


# --- resolving in the next release --------------------------------------------------------------


def resolve_in_next_release(
    desk: Desk,
    number: int,
    *,
    actor: str,
    fields: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> Issue:
    """Resolve a runtime-error issue as fixed in the release after the latest one seen: events
    from that release or older ones are only counted; one from a later release reopens it.

    `fields` are edits made in the same step (resolution, root cause …); without a resolution
    one saying "Fixed in the next release after …" is written.
    """
    with desk.transaction():
        group = desk.read(lambda c: store.group_of_issue(c, number))
        if group is None:
            raise InvalidValue(
                "issue",
                f"#{number:03d}",
                ["an issue opened by runtime errors (label runtime-error)"],
            )
        # The service's newest release, whether or not this error was seen in it yet.
        latest = latest_release(desk.read(lambda c: store.release_first_seen(c, group.service_id)))
        values = dict(fields or {})
        if not str(values.get("resolution") or "").strip():
            values["resolution"] = (
                f"Fixed in the next release after {latest}."
                if latest
                else "Fixed in the next release."
            )
        resolved = desk.transition(
            number,
            Status.RESOLVED,
            actor=actor,
            fields=values,
            expected_version=expected_version,
        )
        marker = resolved.resolved_at
        desk.write(
            lambda c: store.set_resolve_mode(
                c,
                group.id,
                mode=ResolveMode.NEXT_RELEASE.value,
                release=latest,
                marker=marker,
            )
        )
        desk.record_event(
            number,
            "changed",
            actor=actor,
            field="resolved_in",
            new=ResolvedIn(ResolveMode.NEXT_RELEASE, latest).describe(),
        )
    return desk.get(number)


# --- what pages, the API and the CLI show -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LatestEvent:
    event: ErrorEvent
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ErrorSummary:
    """A runtime-error issue's counts, releases, histogram and latest event."""

    group: store.GroupRow
    users: int
    releases: list[store.ValueRow]
    environments: list[store.ValueRow]
    hours: list[tuple[int, int]]  # (hour since the epoch, events), oldest first, gaps as 0
    latest: LatestEvent | None
    kept: int

    @property
    def resolved_in(self) -> ResolvedIn | None:
        if self.group.resolve_mode == ResolveMode.NEXT_RELEASE.value:
            return ResolvedIn(ResolveMode.NEXT_RELEASE, self.group.resolve_release)
        return None

    def line(self) -> str:
        """One line for a terminal: counts, when, and the releases."""
        g = self.group
        releases = ", ".join(f"{r.value} ({r.count:,})" for r in self.releases[:5]) or "none"
        more = f" and {len(self.releases) - 5} more" if len(self.releases) > 5 else ""
        return (
            f"{g.event_count:,} events, {self.users:,} users, first seen "
            f"{g.first_seen:%Y-%m-%d %H:%M} UTC, last seen {g.last_seen:%Y-%m-%d %H:%M} UTC; "
            f"releases: {releases}{more}"
        )

    def to_dict(self) -> dict[str, Any]:
        latest = None
        if self.latest is not None:
            event = self.latest.event
            latest = {
                "event_id": event.event_id,
                "received_at": self.latest.received_at.isoformat(),
                "level": event.level,
                "release": event.release,
                "environment": event.environment,
                "request": event.request,
                "tags": dict(event.tags),
                "exceptions": [
                    {
                        "type": exc.type,
                        "value": exc.value,
                        "frames": [
                            {
                                "filename": f.filename,
                                "module": f.module,
                                "function": f.function,
                                "lineno": f.lineno,
                                "in_app": f.in_app,
                                "context_line": f.context_line,
                            }
                            for f in (*frames_for_display(exc)[0], *frames_for_display(exc)[1])
                        ],
                    }
                    for exc in reversed(event.exceptions)
                ],
            }
        g = self.group
        return {
            "issue": g.issue_number,
            "service": g.service,
            "title": g.title,
            "culprit": g.culprit,
            "level": g.level,
            "first_seen": g.first_seen.isoformat(),
            "last_seen": g.last_seen.isoformat(),
            "events": g.event_count,
            "users": self.users,
            "releases": [_value_json(v) for v in self.releases],
            "environments": [_value_json(v) for v in self.environments],
            "hours": [{"hour": h * HOUR, "events": n} for h, n in self.hours],
            "events_kept": self.kept,
            "latest_event": latest,
        }


def _value_json(row: store.ValueRow) -> dict[str, Any]:
    return {
        "name": row.value,
        "events": row.count,
        "first_seen": row.first_seen.isoformat(),
        "last_seen": row.last_seen.isoformat(),
    }


def error_summary(desk: Desk, number: int, *, days: int = 14) -> ErrorSummary | None:
    """The runtime-error side of issue `number`, or None when it is no runtime error."""
    now_hour = hour_of(datetime.now(UTC))
    since = now_hour - days * 24 + 1

    def work(c: Connection) -> ErrorSummary | None:
        group = store.group_of_issue(c, number)
        if group is None:
            return None
        values = store.group_values(c, group.id)
        counts = store.group_hours(c, group.id, since_hour=since)
        stored = store.latest_events(c, group.id, limit=1)
        latest = None
        if stored:
            import json

            payload = json.loads(zlib.decompress(stored[0].payload))
            latest = LatestEvent(read_event(payload, stored[0].event_id), stored[0].received_at)
        return ErrorSummary(
            group=group,
            users=store.user_count(c, group.id),
            releases=[v for v in values if v.kind == "release"],
            environments=[v for v in values if v.kind == "environment"],
            hours=[(h, counts.get(h, 0)) for h in range(since, now_hour + 1)],
            latest=latest,
            kept=store.stored_event_count(c, group.id),
        )

    return desk.read(work)


def recent_events(desk: Desk, number: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """The whole events kept for issue `number`, newest first, as they were sent."""
    import json

    def work(c: Connection) -> list[dict[str, Any]]:
        group = store.group_of_issue(c, number)
        if group is None:
            raise NotFound(f"issue #{number:03d} has no runtime errors")
        return [
            {
                "event_id": e.event_id,
                "received_at": e.received_at.isoformat(),
                "release": e.release,
                "environment": e.environment,
                "event": json.loads(zlib.decompress(e.payload)),
            }
            for e in store.latest_events(c, group.id, limit=limit)
        ]

    return desk.read(work)


def errors_per_hour(desk: Desk, *, hours: int = 24) -> dict[str, list[int]]:
    """Events per service for each of the last `hours` hours, oldest first."""
    now_hour = hour_of(datetime.now(UTC))
    since = now_hour - hours + 1
    found = desk.read(lambda c: store.service_hours(c, since_hour=since))
    return {
        service: [counts.get(h, 0) for h in range(since, now_hour + 1)]
        for service, counts in found.items()
    }
