"""What each step in an issue's life changes besides itself: pure rules the Desk applies.

A step (move, acknowledge, claim, give back) is a function of the issue as it stands: it says
which fields to set and which events the step implies beyond one per changed field (the
`acknowledged` a first move to work implies, the `released` of a claim given back). The Desk
locks the issue, asks for the step, and writes what `changed_fields` and `timeline_rows` say;
so resolving stamps `resolved_at` the same way from the CLI, the API, the pages and the MCP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from datetime import datetime
from typing import Any

from passmuster.core._dataclass import dataclass
from passmuster.core.issues import CloseReason, Issue, Status, check_transition, value_text
from passmuster.core.leases import status_after_release

__all__ = [
    "Step",
    "acknowledged",
    "changed_fields",
    "claimed",
    "given_back",
    "moved",
    "timeline_rows",
]

# Statuses that mean someone responded: reaching one counts as acknowledging the issue.
_RESPONDED = frozenset(
    {
        Status.IN_PROGRESS,
        Status.BLOCKED,
        Status.WORKAROUND_APPLIED,
        Status.RESOLVED,
        Status.CLOSED,
    }
)
_EVENT_FIELD_KIND = {"status": "status", "assignee": "assigned"}
# These times travel with their status or acknowledged event rather than as separate edits.
_SILENT_FIELDS = frozenset({"resolved_at", "acknowledged_at"})
_ACKNOWLEDGED: Mapping[str, Any] = {"kind": "acknowledged"}


@dataclass(frozen=True, slots=True)
class Step:
    """The fields a step sets, and the events it implies beyond one per changed field."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    events: Sequence[Mapping[str, Any]] = ()


def moved(
    issue: Issue,
    to: Status,
    *,
    now: datetime,
    reason: CloseReason | None = None,
    edits: Mapping[str, Any] | None = None,
) -> Step:
    """Move `issue` to `to` (InvalidTransition when the workflow forbids it), with `edits`.

    Resolving stamps resolved_at; closing records the reason; reopening (or leaving resolved
    or closed) clears both. Leaving `open` or `planned` for work counts as acknowledging.
    """
    check_transition(issue.status, to, reason=reason)
    state: dict[str, Any] = dict(edits or {})
    state["status"] = to
    if to is Status.RESOLVED:
        state["resolved_at"] = now
        state["close_reason"] = None
    elif to is Status.CLOSED:
        state["close_reason"] = reason
    elif not to.is_active or issue.status in (Status.RESOLVED, Status.CLOSED):
        state["resolved_at"] = None
        state["close_reason"] = None
    events: list[Mapping[str, Any]] = []
    if issue.acknowledged_at is None and to in _RESPONDED:
        state["acknowledged_at"] = now
        events.append(_ACKNOWLEDGED)
    return Step(state, events)


def acknowledged(issue: Issue, *, now: datetime) -> Step:
    """Record the first response (stops the respond clock); nothing when already done."""
    if issue.acknowledged_at is not None:
        return Step()
    return Step({"acknowledged_at": now}, [_ACKNOWLEDGED])


def claimed(issue: Issue, *, actor: str, now: datetime) -> Step:
    """`actor` takes the issue: assigned, started when not yet, acknowledged when not yet."""
    state: dict[str, Any] = {"assignee": actor}
    events: list[Mapping[str, Any]] = []
    if issue.status in (Status.OPEN, Status.PLANNED):
        state["status"] = Status.IN_PROGRESS
    if issue.acknowledged_at is None:
        state["acknowledged_at"] = now
        events.append(_ACKNOWLEDGED)
    return Step(state, events)


def given_back(issue: Issue, kind: str) -> Step:
    """The claim on `issue` ends unfinished (`kind`: `released` or `lease_expired`): it is
    unassigned, `in_progress` goes back to `open`, and the event names the holder."""
    lease = issue.lease
    assert lease is not None, "only a claimed issue is given back"
    state = {"assignee": None, "status": status_after_release(issue.status)}
    event = {"kind": kind, "field": "lease", "old": lease.holder, "new": value_text(lease.until)}
    return Step(state, [event])


def changed_fields(issue: Issue, step: Step) -> dict[str, Any]:
    """The fields of `step` whose value differs from the issue's."""
    return {k: v for k, v in step.fields.items() if getattr(issue, k) != v}


def timeline_rows(
    issue: Issue,
    changed: Mapping[str, Any],
    step: Step,
    *,
    actor: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """The events a step records: the ones it implies first (an acknowledgement precedes the
    move or edit that implied it), then one per changed field (`status`, `assigned` or
    `changed`), except the times that travel with their status or acknowledgement."""
    rows: list[dict[str, Any]] = [
        {"issue": issue.number, "actor": actor, "at": now, **event} for event in step.events
    ]
    for name, value in changed.items():
        if name in _SILENT_FIELDS:
            continue
        rows.append(
            {
                "issue": issue.number,
                "actor": actor,
                "at": now,
                "kind": _EVENT_FIELD_KIND.get(name, "changed"),
                "field": name,
                "old": value_text(getattr(issue, name)),
                "new": value_text(value),
            }
        )
    return rows
