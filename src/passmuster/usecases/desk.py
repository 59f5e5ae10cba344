"""The desk: the one layer the CLI, the API, the web pages, the importer, the scanner and the
monitor call to read and change the tracker.

    with Desk.open() as desk:                     # walk up to .passmuster/desk.db
        issue = desk.file(IssueDraft(title="Login fails"), actor="alice")
        desk.transition(issue.number, Status.RESOLVED, actor="alice",
                        fields={"resolution": "Fixed the token check"})

Each method is one transaction (or joins the surrounding `desk.transaction()`), built from the
small functions in `storage/issue_store.py`; the rules live in `core/`. A Desk may be shared by
threads: every call takes its own pooled connection.

A command runs one or two Desk methods, so each method imports the rules and stores it uses
itself: opening a desk loads the issue store and nothing else (the SLA, lease, import and
statistics modules come with the first method that needs them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DatabaseError

from passmuster.core.issues import (
    EVENT_KINDS,
    CloseReason,
    Comment,
    Event,
    Issue,
    IssueDraft,
    IssueQuery,
    Lease,
    LinkKind,
    Status,
    format_number,
    value_text,
)
from passmuster.errors import Conflict, DeskError, DeskNotFound, InvalidValue, NotFound
from passmuster.settings import (
    DESK_DIR,
    DESK_FILE,
    find_config,
    find_desk_file,
    process_setting,
)
from passmuster.storage import issue_store as store
from passmuster.storage.engine import (
    create_desk_engine,
    create_private_file,
    normalise_url,
    read_transaction,
    run_write,
    sqlite_path,
    write_transaction,
)
from passmuster.storage.migrate import ensure_current

if TYPE_CHECKING:
    from passmuster.core.catalog import Service
    from passmuster.core.findings import Occurrences
    from passmuster.core.leases import LeasePolicy
    from passmuster.core.limits import Checked, Limits
    from passmuster.core.merge import ImportRecord
    from passmuster.core.notes import LogNote
    from passmuster.core.sla import SlaPolicy, SlaStatus
    from passmuster.core.stats import Stats
    from passmuster.core.transitions import Step

Clock = Callable[[], datetime]
T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Desk:
    """An open desk. Use `Desk.open`, `Desk.init` or `Desk.connect`, and close it when done."""

    def __init__(self, engine: Engine, url: str, *, clock: Clock | None = None) -> None:
        self.engine = engine
        self.url = url
        self.clock: Clock = clock or _utcnow
        self._sla_policy: SlaPolicy | None = None
        self._lease_policy: LeasePolicy | None = None

    # --- opening ------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        location: str | Path | None = None,
        *,
        start: Path | None = None,
        clock: Clock | None = None,
    ) -> Desk:
        """Open an existing desk: a URL, a path to a .db file, or (None) the one found from here.

        None means $PASSMUSTER_DATABASE_URL, else the nearest `.passmuster/desk.db` walking up
        from `start` (default: the working directory). An older desk is migrated; a missing one
        raises DeskNotFound, a corrupt or newer one DeskError.
        """
        if location is None:
            env_url = process_setting("database_url")
            if env_url:
                location = env_url
            else:
                found = find_desk_file(start)
                if found is None:
                    here = (start or Path.cwd()).resolve()
                    for folder in (here, *here.parents):
                        odd = folder / DESK_DIR / DESK_FILE
                        if odd.exists() and not odd.is_file():
                            # Passed by on the way up; "run init" would then say a desk exists.
                            raise DeskError(f"{odd}: is a folder, not a desk file")
                    raise DeskNotFound(
                        f"no desk in {here} or any parent folder (run `passmuster init`, "
                        "or set PASSMUSTER_DATABASE_URL)"
                    )
                location = found
        if isinstance(location, Path | str) and "://" not in str(location):
            folder_desk = Path(location) / DESK_DIR / DESK_FILE
            # A project folder stands for the desk inside it.
            if Path(location).is_dir() and folder_desk.is_file():
                location = folder_desk
        url = normalise_url(location)
        path = sqlite_path(url)
        if path is not None and not path.is_file():
            raise DeskNotFound(f"no desk at {path} (run `passmuster init`)")
        # An empty PostgreSQL database is a team desk's first use; an empty SQLite file is not.
        return cls._start(url, create=path is None, clock=clock)

    @classmethod
    def init(cls, folder: Path, *, clock: Clock | None = None) -> Desk:
        """Create `folder/.passmuster/desk.db` (or open it when it is already there)."""
        desk_dir = Path(folder) / DESK_DIR
        try:
            create_private_file(desk_dir / DESK_FILE)
        except OSError as exc:
            raise DeskError(f"cannot create {desk_dir}: {exc.strerror}") from None
        return cls._start(normalise_url(desk_dir / DESK_FILE), create=True, clock=clock)

    @classmethod
    def connect(cls, url: str, *, create: bool = True, clock: Clock | None = None) -> Desk:
        """Open the desk at a database URL; `create` migrates an empty database into a desk."""
        url = normalise_url(url)
        path = sqlite_path(url)
        if path is not None and not create and not path.is_file():
            raise DeskNotFound(f"no desk at {path}")
        if path is not None and create:
            try:
                create_private_file(path)
            except OSError as exc:
                raise DeskError(f"cannot create {path}: {exc.strerror}") from None
        return cls._start(url, create=create, clock=clock)

    @classmethod
    def _start(cls, url: str, *, create: bool, clock: Clock | None) -> Desk:
        path = sqlite_path(url)
        if path is not None and not create and _is_empty_file(path):
            # Refused before SQLite opens it: opening would already write a header into it.
            raise DeskError(f"{path}: is empty, not a passmuster desk (run `passmuster init`)")
        engine = create_desk_engine(url)
        where = str(sqlite_path(url) or engine.url.render_as_string(hide_password=True))
        try:
            ensure_current(engine, where, create=create)
        except (DeskError, DeskNotFound):
            engine.dispose()
            raise
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            engine.dispose()
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            if sqlite_path(url) is None:
                raise DeskError(f"cannot open the desk at {where}: {reason}") from None
            raise DeskError(f"{where}: cannot be used as a desk ({reason})") from None
        return cls(engine, url, clock=clock)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Desk({self.engine.url.render_as_string(hide_password=True)!r})"

    # --- transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every Desk call inside the block commits, or rolls back, together (and so does every
        store's write on this desk's engine: `storage.engine.write_transaction` joins it)."""
        with write_transaction(self.engine):
            yield

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work(connection)` in one write transaction together with every desk call it
        makes: how a use case with a store of its own joins the desk's transactions. Inside
        `desk.transaction()` it joins that one; a busy SQLite retries the whole of it."""
        return run_write(self.engine, work)

    def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work(connection)` on one consistent snapshot (or the current transaction)."""
        with read_transaction(self.engine) as connection:
            return work(connection)

    def latest_event_id(self) -> int:
        """The newest event's id: whatever changes on the desk moves it (caches and the live
        feed compare it)."""
        return self.read(store.latest_event_id)

    def open_counts_by_service(self) -> tuple[dict[str, int], dict[str, int]]:
        """(active issues, active incidents) per service name."""
        return self.read(store.open_counts_by_service)

    # --- issues -------------------------------------------------------------------------------

    def file(self, draft: IssueDraft, *, actor: str, limits: Limits | None = None) -> Issue:
        """File a draft as a new issue; numbers are sequential and without gaps.

        The draft is checked first (core.limits): values may be given as the documented texts
        (`severity="high"`); anything else the desk refuses raises InvalidValue naming the field.
        The limits are those of typed input (`TYPED`) unless given: `limits=STORED` admits what
        an imported log holds (long headings, pasted logs).
        """
        from passmuster.core.limits import TYPED, check_draft

        checked = check_draft(draft, limits or TYPED)
        now = self.clock()
        filed: list[Issue] = self.write(
            lambda c: store.insert_issues(c, [checked], actor=actor, now=now)
        )
        return filed[0]

    def file_many(
        self,
        drafts: Sequence[IssueDraft | Checked],
        *,
        actor: str,
        limits: Limits | None = None,
    ) -> list[Issue]:
        """File several drafts in one transaction (an import, a bulk load): consecutive numbers.
        A draft already checked under the same limits (`core.limits.checked`) is not checked
        again. The limits are those of typed input (`TYPED`) unless given."""
        from passmuster.core.limits import TYPED, Checked, check_draft

        limits = limits or TYPED
        checked = [
            d.draft
            if isinstance(d, Checked) and d.limits == limits
            else check_draft(d.draft if isinstance(d, Checked) else d, limits)
            for d in drafts
        ]
        now = self.clock()
        result: list[Issue] = self.write(
            lambda c: store.insert_issues(c, checked, actor=actor, now=now)
        )
        return result

    def get(self, number: int) -> Issue:
        result: Issue = self.read(lambda c: store.get_issue(c, number))
        return result

    def find(
        self,
        *,
        source: str | None = None,
        original_id: str | None = None,
        fingerprint: str | None = None,
    ) -> Issue | None:
        """The first issue (lowest number) matching every given key, or None."""
        result: Issue | None = self.read(
            lambda c: store.find_issue(
                c, source=source, original_id=original_id, fingerprint=fingerprint
            )
        )
        return result

    def issues(self, query: IssueQuery | None = None) -> list[Issue]:
        result: list[Issue] = self.read(lambda c: store.list_issues(c, query or IssueQuery()))
        return result

    def count(self, query: IssueQuery | None = None) -> int:
        result: int = self.read(lambda c: store.count_issues(c, query or IssueQuery()))
        return result

    def search(self, text: str, *, limit: int = 20) -> list[Issue]:
        """Issues matching every word of `text`, best match first (title matches weigh most)."""
        result: list[Issue] = self.read(lambda c: store.search_issues(c, text, limit=limit))
        return result

    def known_fixes(self, draft: IssueDraft, *, limit: int = 3) -> list[Issue]:
        """Resolved issues with a resolution that look like `draft` (title + error details)."""
        result: list[Issue] = self.read(lambda c: store.known_fixes(c, draft, limit=limit))
        return result

    def update(
        self,
        number: int,
        changes: Mapping[str, Any],
        *,
        actor: str,
        expected_version: int | None = None,
        limits: Limits | None = None,
    ) -> Issue:
        """Change editable fields; one `changed` (or `assigned`) event per field that changed.

        With `expected_version`, raises Conflict when the issue moved on since it was read.
        """
        from passmuster.core.limits import TYPED, check_changes
        from passmuster.core.transitions import Step

        values = check_changes(changes, limits or TYPED)
        now = self.clock()

        def work(c: Connection) -> Issue:
            current = _locked(c, number, expected_version)
            return _apply(c, current, Step(values), actor=actor, now=now)

        result: Issue = self.write(work)
        return result

    def transition(
        self,
        number: int,
        to: Status,
        *,
        actor: str,
        reason: CloseReason | None = None,
        fields: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        limits: Limits | None = None,
    ) -> Issue:
        """Move an issue through the workflow (core.issues.ALLOWED_TRANSITIONS).

        What the move changes besides the status is `core.transitions.moved` (resolving stamps
        resolved_at, reopening clears it and the close reason, leaving `open` for work counts as
        acknowledging). `fields` are edits made in the same step.
        """
        from passmuster.core import transitions
        from passmuster.core.limits import TYPED, check_changes

        to = Status.parse(to)
        reason = CloseReason.parse(reason) if reason is not None else None
        values = check_changes(fields or {}, limits or TYPED)
        now = self.clock()

        def work(c: Connection) -> Issue:
            current = _locked(c, number, expected_version)
            step = transitions.moved(current, to, now=now, reason=reason, edits=values)
            return _apply(c, current, step, actor=actor, now=now)

        result: Issue = self.write(work)
        return result

    def acknowledge(self, number: int, *, actor: str) -> Issue:
        """Record the first response (stops the respond clock); a no-op when already done."""
        from passmuster.core import transitions

        now = self.clock()

        def work(c: Connection) -> Issue:
            current = store.get_issue(c, number, for_update=True)
            return _apply(
                c, current, transitions.acknowledged(current, now=now), actor=actor, now=now
            )

        result: Issue = self.write(work)
        return result

    def comment(self, number: int, body: str, *, actor: str) -> Comment:
        from passmuster.core.limits import check_comment

        check_comment(body)
        now = self.clock()

        def work(c: Connection) -> Comment:
            if not store.issue_exists(c, number):
                raise NotFound(f"no issue {format_number(number)}")
            made = store.add_comment(c, number, body, author=actor, now=now)
            store.add_events(
                c,
                [
                    {
                        "issue": number,
                        "actor": actor,
                        "at": now,
                        "kind": "commented",
                        "new": str(made.id),
                    }
                ],
            )
            return made

        result: Comment = self.write(work)
        return result

    def comments(self, number: int) -> list[Comment]:
        def work(c: Connection) -> list[Comment]:
            if not store.issue_exists(c, number):
                raise NotFound(f"no issue {format_number(number)}")
            return store.list_comments(c, number)

        result: list[Comment] = self.read(work)
        return result

    def link(self, number: int, kind: LinkKind, target: int, *, actor: str) -> Issue:
        """Link `number` to `target` (e.g. #2 blocks #5); linking twice changes nothing."""
        kind = LinkKind.parse(kind)
        if number == target:
            raise InvalidValue("link target", target, ["another issue's number"])
        now = self.clock()

        def work(c: Connection) -> Issue:
            current = store.get_issue(c, number, for_update=True)
            if not store.issue_exists(c, target):
                raise NotFound(f"no issue {format_number(target)} to link to")
            if store.add_link(c, number, kind, target):
                store.add_events(
                    c,
                    [
                        {
                            "issue": number,
                            "actor": actor,
                            "at": now,
                            "kind": "linked",
                            "field": kind.value,
                            "new": str(target),
                        }
                    ],
                )
                current = store.write_issue(
                    c, current, expected_version=current.version, now=now, changed=()
                )
                return store.get_issue(c, number)
            return current

        result: Issue = self.write(work)
        return result

    def unlink(self, number: int, kind: LinkKind, target: int, *, actor: str) -> Issue:
        """Remove a link made with `link`; removing a link that is not there changes nothing."""
        kind = LinkKind.parse(kind)
        now = self.clock()

        def work(c: Connection) -> Issue:
            current = store.get_issue(c, number, for_update=True)
            if not store.remove_link(c, number, kind, target):
                return current
            store.add_events(
                c,
                [
                    {
                        "issue": number,
                        "actor": actor,
                        "at": now,
                        "kind": "unlinked",
                        "field": kind.value,
                        "old": str(target),
                    }
                ],
            )
            store.write_issue(c, current, expected_version=current.version, now=now, changed=())
            return store.get_issue(c, number)

        result: Issue = self.write(work)
        return result

    # --- events -------------------------------------------------------------------------------

    def record_event(
        self,
        number: int,
        kind: str,
        *,
        actor: str,
        field: str | None = None,
        old: str | None = None,
        new: str | None = None,
    ) -> Event:
        """Append an event of one of EVENT_KINDS (e.g. `detected` from the scanner)."""
        if kind not in EVENT_KINDS:
            raise InvalidValue("event kind", kind, EVENT_KINDS)
        now = self.clock()

        def work(c: Connection) -> Event:
            if not store.issue_exists(c, number):
                raise NotFound(f"no issue {format_number(number)}")
            row = {"issue": number, "actor": actor, "at": now, "kind": kind}
            row.update(field=field, old=old, new=new)
            return store.add_events(c, [row])[0]

        result: Event = self.write(work)
        return result

    def record_events(self, rows: Sequence[Mapping[str, Any]], *, actor: str) -> None:
        """Append many events at once (one statement): mappings with `issue`, `kind` and
        optional `field`, `old`, `new`, each as in `record_event`."""
        now = self.clock()
        stamped = [{**row, "actor": actor, "at": now} for row in rows]
        self.write(lambda c: store.append_events(c, stamped))

    # --- what the scanner keeps seeing ---------------------------------------------------------

    def record_occurrences(self, numbers: Sequence[int], *, seen_in: str) -> None:
        """Count one more scan seeing the finding behind each issue of `numbers` (`seen_in`:
        the scan's stamp); no timeline event, since nothing changed."""
        from passmuster.storage import occurrence_store

        now = self.clock()
        self.write(lambda c: occurrence_store.record(c, numbers, at=now, seen_in=seen_in))

    def occurrences(self, numbers: Sequence[int]) -> dict[int, Occurrences]:
        """How often scans saw the findings behind these issues (those seen at all)."""
        from passmuster.storage import occurrence_store

        result: dict[int, Occurrences] = self.read(
            lambda c: occurrence_store.for_issues(c, numbers)
        )
        return result

    def events(
        self,
        *,
        issue: int | None = None,
        after: int | None = None,
        limit: int = 100,
        kinds: Sequence[str] | None = None,
    ) -> list[Event]:
        """Events in order of id; pass the last id seen as `after` to read the next page."""
        result: list[Event] = self.read(
            lambda c: store.list_events(c, issue=issue, after=after, limit=limit, kinds=kinds)
        )
        return result

    def timelines(self, numbers: Sequence[int]) -> dict[int, list[Event]]:
        """Each issue's whole timeline (its events in order of id), for many issues at once;
        issues without events are left out."""
        result: dict[int, list[Event]] = self.read(lambda c: store.events_by_issue(c, numbers))
        return result

    # --- work queue ---------------------------------------------------------------------------

    def ready(self, *, limit: int = 20) -> list[Issue]:
        """Active, unblocked issues nobody holds a live claim on, most urgent first (severity,
        priority, age)."""
        now = self.clock()
        result: list[Issue] = self.read(lambda c: store.ready_issues(c, limit=limit, now=now))
        return result

    def claim(
        self,
        *,
        actor: str,
        number: int | None = None,
        lease: timedelta | str | None = None,
    ) -> Issue | None:
        """Claim the most urgent ready issue free to claim (or issue `number`) for `actor`.

        The claim assigns the issue, starts it, acknowledges it and takes a lease on it
        (`lease`, else the `[leases]` default). Many agents claiming at once each get a
        different issue, or None when none is left. Claiming one's own issue again renews
        its lease; claiming one held or assigned elsewhere raises Conflict.
        """
        from passmuster.core import transitions
        from passmuster.core.leases import EXPIRY_ACTOR, check_claimable

        length = self.lease_policy.length(lease)
        now = self.clock()

        def work(c: Connection) -> Issue | None:
            if number is None:
                candidate = store.next_claimable(c, now=now)
                if candidate is None:
                    return None
            else:
                candidate = store.get_issue(c, number, for_update=True)
                check_claimable(candidate, candidate.lease, actor=actor, now=now)
            if candidate.lease is not None and candidate.lease.holder != actor:
                # Its claim ran out and nobody returned it yet: say so on its timeline first.
                candidate = _return_to_queue(c, candidate, "lease_expired", EXPIRY_ACTOR, now)
            step = transitions.claimed(candidate, actor=actor, now=now)
            claimed = _apply(c, candidate, step, actor=actor, now=now)
            since = candidate.lease.since if candidate.lease is not None else now
            held = Lease(holder=actor, since=since, until=now + length)
            store.set_lease(c, claimed.number, held)
            return dataclasses.replace(claimed, lease=held)

        result: Issue | None = self.write(work)
        return result

    def renew(self, number: int, *, actor: str, lease: timedelta | str | None = None) -> Issue:
        """Extend `actor`'s claim on `number` to `lease` from now (the default when None).

        A claim that already ran out cannot be renewed (Conflict): claim the issue again.
        Renewing changes neither the issue's version nor its timeline.
        """
        from passmuster.core.leases import check_holder

        length = self.lease_policy.length(lease)
        now = self.clock()

        def work(c: Connection) -> Issue:
            current = store.get_issue(c, number, for_update=True)
            held = check_holder(number, current.lease, actor=actor, now=now)
            renewed = Lease(holder=actor, since=held.since, until=now + length)
            store.set_lease(c, number, renewed)
            return dataclasses.replace(current, lease=renewed)

        result: Issue = self.write(work)
        return result

    def release(self, number: int, *, actor: str) -> Issue:
        """Give a claimed issue back: unassigned, `in_progress` back to `open`, a `released`
        event. Only the claim's holder may release it."""
        from passmuster.core.leases import check_holder

        now = self.clock()

        def work(c: Connection) -> Issue:
            current = store.get_issue(c, number, for_update=True)
            check_holder(number, current.lease, actor=actor, now=now, lapsed_too=True)
            return _return_to_queue(c, current, "released", actor, now)

        result: Issue = self.write(work)
        return result

    def sweep_leases(self, *, limit: int = 500) -> list[Issue]:
        """Return every issue whose claim ran out to the ready queue; returns them as they are
        now. Safe to run from several processes at once: each lapsed claim is returned once."""
        from passmuster.core.leases import EXPIRY_ACTOR

        now = self.clock()
        if not self.read(lambda c: store.any_lapsed(c, now)):
            return []

        def work(c: Connection) -> list[Issue]:
            return [
                _return_to_queue(c, issue, "lease_expired", EXPIRY_ACTOR, now)
                for issue in store.lapsed_leases(c, now, limit=limit)
            ]

        result: list[Issue] = self.write(work)
        return result

    def held(self) -> list[Issue]:
        """Issues under a claim, soonest to end first: who holds what, since and until when.

        Scalar fields only (as in statistics); a claim that ran out is listed until returned.
        """
        result: list[Issue] = self.read(store.held_issues)
        return result

    @property
    def lease_policy(self) -> LeasePolicy:
        """`[leases]` of the project configuration, else the defaults (30 minute claims)."""
        if self._lease_policy is None:
            from passmuster.core.leases import LeasePolicy

            self._lease_policy = find_config(self._config_start()).section("leases", LeasePolicy)
        return self._lease_policy

    @lease_policy.setter
    def lease_policy(self, policy: LeasePolicy) -> None:
        self._lease_policy = policy

    def _config_start(self) -> Path | None:
        # A file desk belongs to the project around it; a server desk to the working folder.
        path = sqlite_path(self.url)
        return path.parent.parent if path is not None else None

    # --- SLAs and statistics ------------------------------------------------------------------

    @property
    def sla_policy(self) -> SlaPolicy:
        """The `[sla]` policy of the project configuration, else the default (seed 000's times).

        Read once per Desk; assign `desk.sla_policy = SlaPolicy(...)` to use another.
        """
        if self._sla_policy is None:
            from passmuster.core.sla import SlaPolicy

            self._sla_policy = find_config(self._config_start()).section("sla", SlaPolicy)
        return self._sla_policy

    @sla_policy.setter
    def sla_policy(self, policy: SlaPolicy) -> None:
        self._sla_policy = policy

    def _sla_candidates(
        self, c: Connection, moment: datetime
    ) -> tuple[list[Issue], dict[int, list[Event]]]:
        from passmuster.core.sla import sla_horizon
        from passmuster.storage import timeline_store

        # Only issues old enough to be at risk are read; the rest cannot be listed (sla_horizon).
        horizon = sla_horizon(self.sla_policy, now=moment)
        kinds = ("created", "status", "acknowledged", "escalated")
        return timeline_store.sla_candidates(c, horizon, kinds=kinds)

    def sla(self, *, now: datetime | None = None) -> list[SlaStatus]:
        """Active issues at risk of or in breach of their SLA, most overdue first."""
        from passmuster.usecases import reports

        moment = now or self.clock()

        def work(c: Connection) -> list[SlaStatus]:
            return reports.desk_sla(c, self.sla_policy, now=moment)

        result: list[SlaStatus] = self.read(work)
        return result

    def escalate(self, *, actor: str, now: datetime | None = None) -> list[Event]:
        """Record one `escalated` event per SLA breach not escalated yet; returns the new ones."""
        from passmuster.core.sla import escalations_due

        moment = now or self.clock()

        def work(c: Connection) -> list[Event]:
            store.lock_counter(c, "escalation")
            found, timelines = self._sla_candidates(c, moment)
            due = escalations_due(found, timelines, self.sla_policy, now=moment)
            return store.add_events(
                c,
                [
                    {
                        "issue": s.number,
                        "actor": actor,
                        "at": moment,
                        "kind": "escalated",
                        "field": s.clock,
                        "old": value_text(s.due_at),
                        "new": s.state,
                    }
                    for s in due
                ],
            )

        result: list[Event] = self.write(work)
        return result

    def stats(self, *, since: datetime | None = None, until: datetime | None = None) -> Stats:
        """Statistics over the issues and their timelines (see core.stats)."""
        from passmuster.usecases import reports

        moment = self.clock()

        def work(c: Connection) -> Stats:
            return reports.desk_stats(c, self.sla_policy, since=since, until=until, now=moment)

        result: Stats = self.read(work)
        return result

    def stats_and_resolution_hours(
        self, *, priority_matrix: bool = True
    ) -> tuple[Stats, list[float]]:
        """`stats()` and `resolution_hours()` from one read of the desk (the statistics page
        shows both; the statistics read the resolution times already). Without
        `priority_matrix`, the matrix's lists are empty and the active issues are not read."""
        from passmuster.usecases import reports

        moment = self.clock()

        def work(c: Connection) -> tuple[Stats, list[float]]:
            return reports.desk_stats_and_resolutions(
                c, self.sla_policy, now=moment, priority_matrix=priority_matrix
            )

        result: tuple[Stats, list[float]] = self.read(work)
        return result

    def resolution_hours(self) -> list[float]:
        """Hours from report to resolution of every resolved or closed issue that has both."""
        from passmuster.usecases import reports

        result: list[float] = self.read(reports.resolution_hours)
        return result

    # --- services -----------------------------------------------------------------------------

    def ensure_service(self, service: Service) -> Service:
        """Add the service, or update the one of the same name; returns it as stored."""
        from passmuster.core.catalog import check_service_name

        check_service_name(service.name)
        now = self.clock()
        result: Service = self.write(lambda c: store.upsert_service(c, service, now=now))
        return result

    def get_service(self, name: str) -> Service:
        result: Service = self.read(lambda c: store.get_service(c, name))
        return result

    def services(self) -> list[Service]:
        result: list[Service] = self.read(store.list_services)
        return result

    # --- imported logs ------------------------------------------------------------------------

    def import_records(self, source: str) -> list[ImportRecord]:
        """What the log `source` said about each of its issues at its last import."""
        from passmuster.storage import import_store

        result: list[ImportRecord] = self.read(lambda c: import_store.records_for(c, source))
        return result

    def save_import_records(self, records: Sequence[ImportRecord]) -> None:
        """Remember what the logs say now, for the next re-import's three-way merge."""
        from passmuster.storage import import_store

        now = self.clock()
        self.write(lambda c: import_store.save_records(c, records, now=now))

    def replace_log_notes(self, source: str, notes: Sequence[LogNote]) -> None:
        """The log `source`'s notes, as its latest import read them."""
        from passmuster.storage import import_store

        now = self.clock()
        self.write(lambda c: import_store.replace_notes(c, source, notes, now=now))

    def log_notes(self, source: str | None = None) -> list[LogNote]:
        """The notes of one log (`source` as the desk names it), or of every imported log."""
        from passmuster.storage import import_store

        result: list[LogNote] = self.read(lambda c: import_store.notes(c, source))
        return result


def _locked(c: Connection, number: int, expected_version: int | None) -> Issue:
    current = store.get_issue(c, number, for_update=True)
    if expected_version is not None and current.version != expected_version:
        raise Conflict(
            f"issue {format_number(number)} changed meanwhile (you had version "
            f"{expected_version}, it is now at {current.version}); reload it and try again"
        )
    return current


def _apply(c: Connection, current: Issue, step: Step, *, actor: str, now: datetime) -> Issue:
    """Write what `step` changes on `current`, with the events core.transitions says it records."""
    from passmuster.core import transitions
    from passmuster.core.leases import ends_lease

    changed = transitions.changed_fields(current, step)
    if not changed and not step.events:
        return current
    rows = transitions.timeline_rows(current, changed, step, actor=actor, now=now)
    updated = dataclasses.replace(current, **changed)
    stored = store.write_issue(
        c, updated, expected_version=current.version, now=now, changed=changed
    )
    store.add_events(c, rows)
    if ends_lease(changed, current.lease):
        store.set_lease(c, current.number, None)
        stored = dataclasses.replace(stored, lease=None)
    return stored


def _return_to_queue(c: Connection, current: Issue, kind: str, actor: str, now: datetime) -> Issue:
    """End the claim on `current`: unassign it, `in_progress` back to `open`, and record `kind`
    (`released` or `lease_expired`) naming the holder."""
    from passmuster.core import transitions

    returned = _apply(c, current, transitions.given_back(current, kind), actor=actor, now=now)
    if returned.lease is not None:  # already unassigned: the lease goes all the same
        store.set_lease(c, current.number, None)
        returned = dataclasses.replace(returned, lease=None)
    return returned


def _is_empty_file(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False


def is_empty_database(path: Path) -> bool:
    """True for a file that holds no database yet: empty, or a SQLite file without any tables.

    Such a file (an interrupted `init`, a `touch`) is no desk, and `init` may make it one.
    It is read without being written to.
    """
    try:
        if path.stat().st_size == 0:
            return True
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            tables: int = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            return tables == 0
    except (OSError, sqlite3.Error):
        return False


def default_desk_path(folder: Path) -> Path:
    return Path(folder) / DESK_DIR / DESK_FILE


__all__ = ["Desk", "default_desk_path", "is_empty_database"]
