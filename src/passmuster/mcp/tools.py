"""What each MCP tool does, as plain functions of the desk, the caller and typed arguments.

Every tool calls the desk's use cases (the same ones the CLI and the API call), so a rule, a
limit or a message is the same whichever door an agent comes in by. Answers are compact JSON
texts: an agent pays for every character in its context, so lists carry a summary of each issue
and empty fields are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic_core import to_jsonable_python

from passmuster.core.catalog import near_miss_text, near_misses
from passmuster.core.issues import (
    CloseReason,
    Issue,
    IssueDraft,
    IssueQuery,
    IssueType,
    LinkKind,
    Status,
    coerce_field,
)
from passmuster.errors import Forbidden, InvalidValue, NotFound
from passmuster.usecases.tokens import Role

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.health import HealthView

Move = Literal["ack", "start", "block", "resolve", "close", "reopen"]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls: the agent's name (its token's, or `passmuster mcp --as NAME`) and its role.

    `role` is None for the local user over stdio, whom the desk file already trusts as it
    trusts the CLI."""

    name: str
    role: Role | None = None


# The role each tool needs over HTTP: the same as the matching /api/v1 route.
NEEDS: dict[str, Role] = {
    "ready": Role.READER,
    "show": Role.READER,
    "search": Role.READER,
    "list": Role.READER,
    "services": Role.READER,
    "findings": Role.READER,
    "incidents": Role.READER,
    "file": Role.REPORTER,
    "comment": Role.REPORTER,
    "claim": Role.COORDINATOR,
    "renew": Role.COORDINATOR,
    "release": Role.COORDINATOR,
    "update": Role.COORDINATOR,
    "transition": Role.COORDINATOR,
    "link": Role.COORDINATOR,
}


def check_role(caller: Caller, tool: str) -> None:
    """Raise Forbidden when `caller`'s token may not use `tool`."""
    needed = NEEDS[tool]
    if caller.role is not None and not caller.role.allows(needed):
        raise Forbidden(
            f"token {caller.name!r} has role {caller.role.value}; {tool} needs {needed.value}"
        )


# --- how issues look to an agent ------------------------------------------------------------


def _compact(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


def summary(issue: Issue) -> dict[str, Any]:
    """One line's worth of an issue: what an agent needs to pick it."""
    lease = issue.lease
    return _compact(
        {
            "ref": issue.ref,
            "number": issue.number,
            "title": issue.title,
            "status": issue.status.value,
            "severity": issue.severity.value,
            "type": issue.type.value,
            "services": issue.services,
            "assignee": issue.assignee,
            "version": issue.version,
            "claim": None
            if lease is None
            else {"holder": lease.holder, "until": to_jsonable_python(lease.until)},
        }
    )


def full(issue: Issue) -> dict[str, Any]:
    """Every field that holds something."""
    data = to_jsonable_python(issue)
    data.pop("original_values", None)
    return {"ref": issue.ref, **_compact(data)}


def fix(issue: Issue) -> dict[str, Any]:
    """A resolved look-alike: how it was fixed (what `passmuster new` shows as a known fix)."""
    return _compact(
        {
            "ref": issue.ref,
            "title": issue.title,
            "resolution": issue.resolution,
            "root_cause": issue.root_cause,
            "workaround": issue.workaround,
            "prevention": issue.prevention,
        }
    )


# --- the tools ------------------------------------------------------------------------------


def ready(desk: Desk, limit: int) -> list[dict[str, Any]]:
    return [summary(i) for i in desk.ready(limit=limit)]


def claim(desk: Desk, caller: Caller, number: int | None, lease: str | None) -> dict[str, Any]:
    issue = desk.claim(actor=caller.name, number=number, lease=lease)
    if issue is None:
        raise NotFound("nothing is ready to claim")
    return full(issue)


def renew(desk: Desk, caller: Caller, number: int, lease: str | None) -> dict[str, Any]:
    return summary(desk.renew(number, actor=caller.name, lease=lease))


def release(desk: Desk, caller: Caller, number: int) -> dict[str, Any]:
    return summary(desk.release(number, actor=caller.name))


def show(desk: Desk, number: int) -> dict[str, Any]:
    issue = desk.get(number)
    comments = [
        {"author": c.author, "at": to_jsonable_python(c.created_at), "body": c.body}
        for c in desk.comments(number)
    ]
    return {"issue": full(issue), **({"comments": comments} if comments else {})}


DRAFT_FIELDS = (
    "type",
    "severity",
    "priority",
    "services",
    "component",
    "description",
    "impact",
    "error_details",
    "attempted_solutions",
    "labels",
)

UPDATE_FIELDS = (
    "title",
    "severity",
    "priority",
    "type",
    "services",
    "labels",
    "assignee",
    "description",
    "impact",
    "root_cause",
    "workaround",
)


def file(desk: Desk, caller: Caller, title: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """File an issue; the answer carries resolved look-alikes to try first (known fixes)."""
    draft = IssueDraft(title=title.strip(), reporter=caller.name)
    for name, value in fields.items():
        if value is not None:
            setattr(draft, name, coerce_field(name, value))
    known = {service.name for service in desk.services()} if draft.services else set()
    issue = desk.file(draft, actor=caller.name)
    fixes = desk.known_fixes(draft, limit=3)
    answer: dict[str, Any] = {"issue": summary(issue), "known_fixes": [fix(f) for f in fixes]}
    misses = near_misses(draft.services, known) if known else []
    if misses:
        # An agent that misspelt a service filed against a new, empty one: say so.
        answer["warnings"] = [near_miss_text(name, close) for name, close in misses]
    return answer


def update(
    desk: Desk, caller: Caller, number: int, version: int, changes: Mapping[str, Any]
) -> dict[str, Any]:
    given = {k: v for k, v in changes.items() if v is not None}
    if not given:
        raise InvalidValue("changes", "nothing", ["at least one field to change"])
    issue = desk.update(number, given, actor=caller.name, expected_version=version)
    return summary(issue)


_MOVES: dict[str, Status] = {
    "start": Status.IN_PROGRESS,
    "block": Status.BLOCKED,
    "resolve": Status.RESOLVED,
    "close": Status.CLOSED,
    "reopen": Status.OPEN,
}


def transition(
    desk: Desk,
    caller: Caller,
    number: int,
    to: Move,
    version: int | None,
    note: str | None,
    reason: str | None,
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    """Move an issue; `note` is kept as a comment in the same commit (as the CLI's --note)."""
    given = {k: v for k, v in fields.items() if v is not None}
    if to == "ack":
        issue = desk.acknowledge(number, actor=caller.name)
        return summary(issue)
    if given and to != "resolve":
        raise InvalidValue(
            "resolution", next(iter(given)), ["only with to=resolve (use update otherwise)"]
        )
    why = CloseReason.parse(reason) if reason is not None else None
    if why is not None and to != "close":
        raise InvalidValue("reason", reason, ["only with to=close"])
    with desk.transaction():
        issue = desk.transition(
            number,
            _MOVES[to],
            actor=caller.name,
            reason=why,
            fields=given or None,
            expected_version=version,
        )
        if note and note.strip():
            desk.comment(number, note.strip(), actor=caller.name)
    answer = summary(desk.get(number) if note else issue)
    if to == "resolve" and not issue.resolution.strip():
        answer["warning"] = (
            "no resolution recorded, so this issue will not be offered as a known fix; "
            "add one with update"
        )
    return answer


def comment(desk: Desk, caller: Caller, number: int, body: str) -> dict[str, Any]:
    made = desk.comment(number, body.strip(), actor=caller.name)
    return {"issue": number, "comment": made.id, "author": made.author}


def link(desk: Desk, caller: Caller, number: int, kind: str, target: int) -> dict[str, Any]:
    issue = desk.link(number, LinkKind.parse(kind), target, actor=caller.name)
    return {**summary(issue), "links": to_jsonable_python(issue.links)}


def search(desk: Desk, text: str, limit: int) -> list[dict[str, Any]]:
    return [summary(i) for i in desk.search(text, limit=limit)]


def list_issues(
    desk: Desk,
    *,
    status: list[str],
    service: str | None,
    assignee: str | None,
    include_done: bool,
    limit: int,
) -> list[dict[str, Any]]:
    statuses = [Status.parse(s, field_name="status") for s in status]
    query = IssueQuery(
        statuses=statuses,
        services=[service] if service else [],
        assignee=assignee,
        active_only=not statuses and not include_done,
        sort="urgency",
        limit=limit,
    )
    return [summary(i) for i in desk.issues(query)]


def services(desk: Desk, health: HealthView) -> list[dict[str, Any]]:
    """Each service with its health and how many issues still need work on it."""
    known = health.current()
    # Counted by the database (as the services page does): reading every active issue whole
    # took seconds on a desk with tens of thousands of them.
    counts, _ = desk.open_counts_by_service()
    out = []
    for service in desk.services():
        state = known.get(service.name)
        out.append(
            _compact(
                {
                    "name": service.name,
                    "kind": service.kind,
                    "owner": service.owner,
                    "depends_on": service.depends_on,
                    "health": state.state if state is not None else "unknown",
                    "health_reason": state.reason if state is not None else None,
                    "open_issues": counts.get(service.name, 0),
                }
            )
        )
    return out


def service(desk: Desk, health: HealthView, name: str) -> dict[str, Any]:
    """One service: its catalog entry, health and the issues that still need work on it."""
    entry = desk.get_service(name)
    state = health.current().get(name)
    issues = desk.issues(IssueQuery(services=[name], active_only=True, sort="urgency", limit=50))
    return {
        **_compact(to_jsonable_python(entry)),
        "health": state.state if state is not None else "unknown",
        "open_issues": [summary(i) for i in issues],
    }


def findings(desk: Desk, name: str, limit: int) -> list[dict[str, Any]]:
    """A service's open scanner findings: issues of type finding, with their rule codes."""
    from passmuster.usecases.reconcile import rule_codes  # loads the scanner: only here

    desk.get_service(name)  # NotFound names an unknown service
    query = IssueQuery(
        types=[IssueType.FINDING], services=[name], active_only=True, sort="urgency", limit=limit
    )
    return [{**summary(i), "rules": rule_codes(i)} for i in desk.issues(query)]


def incidents(desk: Desk, include_done: bool, limit: int) -> list[dict[str, Any]]:
    query = IssueQuery(
        types=[IssueType.INCIDENT], active_only=not include_done, sort="urgency", limit=limit
    )
    return [summary(i) for i in desk.issues(query)]
