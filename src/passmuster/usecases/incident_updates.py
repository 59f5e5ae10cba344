"""Posting an incident's public updates (the status page's timeline). The incident's events and
comments stay the desk's internal record; posting an update adds an event there too, so the
internal timeline shows who told the public what and when."""

from __future__ import annotations

from typing import Any

from passmuster.core.incident_updates import IncidentUpdate, UpdateStage, check_update_message
from passmuster.core.issues import IssueType
from passmuster.errors import InvalidValue
from passmuster.storage.incident_update_store import IncidentUpdateStore


def post_update(
    desk: Any, number: int, stage: str | UpdateStage, message: str, *, actor: str
) -> IncidentUpdate:
    """Add an update to incident `number`; NotFound or InvalidValue (not an incident, bad
    stage, empty message) otherwise."""
    issue = desk.get(number)
    if issue.type is not IssueType.INCIDENT:
        raise InvalidValue("issue", issue.ref, ["an incident (only incidents have public updates)"])
    parsed = stage if isinstance(stage, UpdateStage) else UpdateStage.parse(stage)
    text = check_update_message(message)
    update = IncidentUpdateStore(desk.engine).add(
        number, parsed, text, author=actor, at=desk.clock()
    )
    desk.record_event(number, "changed", actor=actor, field="public update", new=parsed.value)
    return update


def updates(desk: Any, number: int) -> list[IncidentUpdate]:
    desk.get(number)  # NotFound for an unknown issue
    return IncidentUpdateStore(desk.engine).for_incident(number)
