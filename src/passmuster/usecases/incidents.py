"""Probe results into tracker incidents and notifications.

`IncidentKeeper.apply` takes a batch of probe outcomes, folds each into its target's state
(core.health.observe) and carries out what a flip means on the desk: open an incident (type
incident, the target's severity, its service linked, the last failures as error details),
resolve it on recovery, reopen the same one when the service fails again within the cool-down.
Every flip is recorded (an event on the incident, a row in the flip log) and the notifications
it causes go into the outbox.

Dependency-aware suppression: when a service is down because something it depends on is down,
its incident is linked caused-by the dependency's incident and its notification is stored as
suppressed. Flips in one batch are handled dependencies first, and a dependent whose dependency
is failing but not yet down has its notification held for a few intervals, so "the database is
down" arrives once instead of four pages. Recoveries are never held back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from passmuster.core.epoch_ms import moment
from passmuster.core.health import (
    Flip,
    Health,
    IncidentAction,
    ProbeResult,
    TargetState,
    after_incident,
    dependency_order,
    failing_dependencies,
    incident_action,
    observe,
    root_cause,
)
from passmuster.core.issues import (
    Issue,
    IssueDraft,
    IssueQuery,
    IssueType,
    LinkKind,
    Severity,
    Status,
)
from passmuster.core.targets import Target
from passmuster.errors import PassmusterError
from passmuster.storage.maintenance_store import MaintenanceStore
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.outbox_store import Outgoing
from passmuster.storage.probe_history_store import Sample
from passmuster.storage.target_store import Claimed, Record
from passmuster.usecases.desk import Desk
from passmuster.usecases.maintenance_gate import MaintenanceGate

log = logging.getLogger("passmuster.monitor")

ACTOR = "monitor"
SOURCE = "monitor"
NOTIFIED_KINDS = ("opened", "reopened")


def fingerprint(target: Target) -> str:
    return f"monitor:{target.name}"


def _iso(ms: int) -> str:
    return moment(ms).isoformat(timespec="seconds")


def _safe_url(url: str) -> str:
    """The URL without credentials or query: incidents are read by many people."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True, slots=True)
class ChannelRule:
    """A channel's name and the notification kinds it wants (empty: all)."""

    name: str
    events: tuple[str, ...] = ()
    remind_ms: int | None = None  # remind this often while an incident stays open

    def wants(self, kind: str) -> bool:
        return not self.events or kind in self.events


class IncidentKeeper:
    """Records probe outcomes; opens, resolves and reopens incidents; enqueues notifications.

    Not thread-safe: the monitor calls it from its one database thread.
    """

    def __init__(
        self,
        desk: Desk,
        store: MonitorStore,
        *,
        channels: Sequence[ChannelRule] = (),
        depends_on: Mapping[str, Sequence[str]] | None = None,
        jitter: float = 0.0,
        keep_samples: bool = True,
        clock: Callable[[], float] = time.time,
        random: Callable[[], float] | None = None,
    ) -> None:
        self.desk = desk
        self.store = store
        self.channels = list(channels)
        self.depends_on: dict[str, list[str]] = {k: list(v) for k, v in (depends_on or {}).items()}
        self.jitter = jitter
        self.keep_samples = keep_samples
        self.clock = clock
        self.maintenance = MaintenanceGate(MaintenanceStore(store.engine))
        import random as _random

        self._random = random or _random.random

    def next_due(self, target: Target, now_ms: int) -> int:
        """Now plus the interval, spread by ±jitter so targets do not probe in lock-step."""
        spread = 1.0 + self.jitter * (2.0 * self._random() - 1.0)
        return now_ms + max(int(target.interval * 1000 * spread), 1)

    def apply(
        self, worker: str, outcomes: Sequence[tuple[Claimed, ProbeResult]]
    ) -> list[tuple[str, Flip]]:
        """Fold outcomes into state, act on flips, store everything. Returns (target, flip)."""
        if not outcomes:
            return []
        now = int(self.clock() * 1000)
        observed = [(c, r, observe(c.state, r, c.target.thresholds)) for c, r in outcomes]
        held = self.maintenance.hold(observed, self.depends_on, lambda: self._down_labels(observed))
        observed = held.observed
        final: dict[str, TargetState] = {c.target.name: o.state for c, _, o in observed}
        flips = [(c, r, o) for c, r, o in observed if o.flip is not None]
        # Most flips (a new target answering, up <-> degraded) touch no incident: they are only
        # logged, in the same transaction as the probe results. The rest go to the desk.
        light: list[dict[str, Any]] = []
        heavy = []
        for c, r, o in flips:
            assert o.flip is not None
            action = incident_action(c.state, o.flip, c.target.thresholds)
            window = held.silenced.get(c.target.name)
            if window is not None:
                # Down during maintenance: recorded, but no incident and nobody paged.
                light.append(_flip_row(c.target, o.flip, suppressed_by=f"maintenance {window}"))
            elif (
                action is IncidentAction.NONE
                and o.flip.new is not Health.DOWN
                and not (o.state.incident_open)
            ):
                light.append(_flip_row(c.target, o.flip))
            else:
                heavy.append((c, r, o))
        if heavy:
            view = {label: state for label, (state, _) in self.store.service_states().items()}
            for c, _, o in observed:
                view[c.target.label] = o.state
            by_label = {c.target.label: (c, r, o) for c, r, o in heavy}
            for label in dependency_order(by_label, self.depends_on):
                claimed, _, obs = by_label[label]
                flip = obs.flip
                assert flip is not None
                if not self.store.renew(worker, claimed.target.name, now + 60_000):
                    continue  # our lease ran out and another worker owns this target now
                try:
                    state = self._on_flip(claimed.target, claimed.state, obs.state, flip, view)
                except PassmusterError as exc:
                    # A desk refusal (someone edited the incident into a state we cannot move
                    # it from) must not wedge the monitor: record the health, say why.
                    log.error("incident for %s not updated: %s", claimed.target.name, exc.message)
                    state = obs.state
                    light.append(_flip_row(claimed.target, flip))
                view[label] = state
                final[claimed.target.name] = state
        records = [
            Record(
                name=c.target.name,
                state=final[c.target.name],
                next_due=self.next_due(c.target, now),
                sample=Sample(
                    target=c.target.name,
                    at=r.at,
                    ok=r.ok,
                    degraded=r.degraded,
                    latency=r.latency,
                    status=r.status_code,
                    reason=r.reason or None,
                ),
            )
            for c, r, _ in observed
        ]
        self.store.record(worker, records, keep_samples=self.keep_samples, flips=light)
        return [(c.target.name, o.flip) for c, _, o in flips if o.flip is not None]

    def _down_labels(self, observed: Sequence[tuple[Claimed, ProbeResult, Any]]) -> set[str]:
        """Services down now: as stored, with this round's observations over them."""
        view = {label: state.health for label, (state, _) in self.store.service_states().items()}
        for c, _, o in observed:
            view[c.target.label] = o.state.health
        return {label for label, health in view.items() if health is Health.DOWN}

    # -- one flip ------------------------------------------------------------------------------

    def _on_flip(
        self,
        target: Target,
        before: TargetState,
        after: TargetState,
        flip: Flip,
        view: Mapping[str, TargetState],
    ) -> TargetState:
        action = incident_action(before, flip, target.thresholds)
        label = target.label
        suppressed_by: str | None = None
        number: int | None = after.incident
        if action in (IncidentAction.OPEN, IncidentAction.REOPEN):
            down = {s for s, st in view.items() if st.health is Health.DOWN and s != label}
            cause = root_cause(label, self.depends_on, down)
            number, kind = self._open_or_reopen(target, before, after, action)
            after = after_incident(after, action, number, flip.at)
            self._health_event(number, flip)
            if cause is not None:
                suppressed_by = cause
                cause_incident = view[cause].incident
                if cause_incident is not None and cause_incident != number:
                    self.desk.link(number, LinkKind.CAUSED_BY, cause_incident, actor=ACTOR)
            hold = 0
            if cause is None:
                failing = {
                    s
                    for s, st in view.items()
                    if st.failures > 0 and st.health is not Health.DOWN and s != label
                }
                if failing_dependencies(label, self.depends_on, failing):
                    hold = flip.at + int(target.interval * target.failure_threshold * 1000) + 1000
            self._enqueue(
                kind,
                target,
                number,
                flip,
                suppressed_by=suppressed_by,
                not_before=hold,
            )
            self._claim_dependents(label, number, view)
        elif action is IncidentAction.RESOLVE:
            assert before.incident is not None
            number = before.incident
            issue = self.desk.get(number)
            if issue.status.is_active:
                self.desk.transition(
                    number,
                    Status.RESOLVED,
                    actor=ACTOR,
                    fields={
                        "resolution": (
                            f"Recovered: {target.success_threshold} probes in a row passed "
                            f"({_iso(flip.at)})."
                        )
                    },
                )
            self._health_event(number, flip)
            after = after_incident(after, action, None, flip.at)
            if self.store.was_notified(number, NOTIFIED_KINDS):
                self._enqueue("resolved", target, number, flip)
        elif after.incident is not None and after.incident_open:
            self._health_event(after.incident, flip)
        self.store.add_flip(
            target=target.name,
            service=target.service,
            at=flip.at,
            old=flip.old.value,
            new=flip.new.value,
            reason=flip.reason,
            incident=number,
            suppressed_by=suppressed_by,
        )
        return after

    def _open_or_reopen(
        self, target: Target, before: TargetState, after: TargetState, action: IncidentAction
    ) -> tuple[int, str]:
        details = list(after.recent_failures)
        if action is IncidentAction.REOPEN and before.incident is not None:
            issue = self.desk.get(before.incident)
            if not issue.status.is_active:
                self.desk.transition(
                    before.incident,
                    Status.OPEN,
                    actor=ACTOR,
                    fields={"error_details": details},
                )
            return before.incident, "reopened"
        # A crash between filing and storing the state leaves an active incident we filed:
        # adopt it instead of filing a second one.
        for issue in self.desk.issues(IssueQuery(source=SOURCE, active_only=True)):
            if issue.fingerprint == fingerprint(target):
                return issue.number, "opened"
        draft = IssueDraft(
            title=f"{target.label} is down",
            type=IssueType.INCIDENT,
            severity=Severity.parse(target.severity),
            services=[target.service] if target.service else [],
            component=target.name if target.service and target.name != target.service else None,
            reporter=ACTOR,
            description=(
                f"The monitor's probe of {target.name} ({_safe_url(target.url)}) failed "
                f"{target.failure_threshold} times in a row. This incident resolves itself "
                f"after {target.success_threshold} passing probes, and is reopened if the "
                f"service fails again within {target.cooldown:g}s."
            ),
            error_details=details,
            labels=["monitor"],
            source=SOURCE,
            fingerprint=fingerprint(target),
        )
        return self.desk.file(draft, actor=ACTOR).number, "opened"

    def _health_event(self, number: int, flip: Flip) -> None:
        self.desk.record_event(
            number, "changed", actor=ACTOR, field="health", old=flip.old.value, new=flip.new.value
        )

    def _claim_dependents(self, label: str, number: int, view: Mapping[str, TargetState]) -> None:
        """Dependents already down with an open incident: this outage explains theirs."""
        down = {s for s, st in view.items() if st.health is Health.DOWN} | {label}
        for other, state in view.items():
            if other == label or not state.incident_open or state.incident is None:
                continue
            if state.health is not Health.DOWN:
                continue
            if root_cause(other, self.depends_on, down) != label:
                continue
            if state.incident != number:
                self.desk.link(state.incident, LinkKind.CAUSED_BY, number, actor=ACTOR)
            self.store.suppress([state.incident], NOTIFIED_KINDS)

    def _enqueue(
        self,
        kind: str,
        target: Target,
        number: int,
        flip: Flip,
        *,
        suppressed_by: str | None = None,
        not_before: int = 0,
    ) -> None:
        issue = self.desk.get(number)
        note = notification(
            kind,
            issue,
            service=target.service,
            target=(target.name, flip.new.value),
            reason=flip.reason or (issue.error_details[-1] if issue.error_details else ""),
            at=_iso(flip.at),
            suppressed_by=suppressed_by,
        )
        key = f"incident:{number}:{kind}:{target.name}:{flip.seq}"
        items = [
            Outgoing(
                key=key,
                channel=rule.name,
                kind=kind,
                payload=note,
                incident=number,
                not_before=not_before,
                status="suppressed" if suppressed_by else "pending",
            )
            for rule in self.channels
            if rule.wants(kind)
        ]
        self.store.enqueue(items, int(self.clock() * 1000))


def notification(
    event: str,
    issue: Issue,
    *,
    service: str | None,
    reason: str,
    at: str,
    target: tuple[str, str] | None = None,
    **more: Any,
) -> dict[str, Any]:
    """What a notification about an incident tells every channel (the webhook's JSON and
    template, the Slack line, the e-mail), keys in one order. `target` is (name, health) when
    a target's state is the news; `more` comes last (`suppressed_by`)."""
    note: dict[str, Any] = {
        "event": event,
        "incident": issue.number,
        "ref": issue.ref,
        "title": issue.title,
        "service": service,
    }
    if target is not None:
        note["target"] = target[0]
    note["severity"] = issue.severity.value
    if target is not None:
        note["health"] = target[1]
    return {**note, "reason": reason, "at": at, **more}


def _flip_row(target: Target, flip: Flip, *, suppressed_by: str | None = None) -> dict[str, Any]:
    return {
        "target": target.name,
        "service": target.service,
        "at": flip.at,
        "old": flip.old.value,
        "new": flip.new.value,
        "reason": flip.reason,
        "incident": None,
        "suppressed_by": suppressed_by,
    }


def feed_escalations(
    desk: Desk,
    store: MonitorStore,
    channels: Sequence[ChannelRule],
    *,
    worker: str,
    now_ms: int,
    lease_ms: int = 60_000,
) -> int:
    """Record due escalations on the desk and enqueue one notification per `escalated` event.

    Runs on one worker at a time (a job lease); the event id is the notification key, so a
    retried round never sends an escalation twice. Returns how many were enqueued.
    """
    cursor = store.acquire_job("escalations", worker, now_ms, lease_ms)
    if cursor is None:
        return 0
    desk.escalate(actor=ACTOR)
    enqueued = 0
    while True:
        events = desk.events(after=cursor, kinds=["escalated"], limit=200)
        if not events:
            break
        items: list[Outgoing] = []
        for event in events:
            issue = desk.get(event.issue)
            note = notification(
                "escalated",
                issue,
                service=issue.services[0] if issue.services else None,
                reason=f"{event.field or 'SLA'} {event.new or 'breached'}",
                at=event.at.isoformat(timespec="seconds"),
            )
            items.extend(
                Outgoing(
                    key=f"escalated:{event.id}",
                    channel=rule.name,
                    kind="escalated",
                    payload=note,
                    incident=None,
                )
                for rule in channels
                if rule.wants("escalated")
            )
        enqueued += store.enqueue(items, now_ms)
        cursor = events[-1].id
        store.set_job_cursor("escalations", worker, cursor)
    return enqueued
