"""Incident updates: what a coordinator tells the outside world about an incident.

An incident's event history and comments are the desk's internal record. Updates are the public
timeline the status page shows: a stage (investigating → identified → monitoring → resolved, in
any order, as the facts arrive) and a message written for readers outside the team.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from passmuster.errors import InvalidValue

MESSAGE_MAX = 5000


class UpdateStage(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    @classmethod
    def parse(cls, value: str) -> UpdateStage:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise InvalidValue("stage", value, [s.value for s in cls]) from None


@dataclass(frozen=True, slots=True)
class IncidentUpdate:
    id: int
    incident: int
    stage: UpdateStage
    message: str
    author: str
    at: datetime


def check_update_message(message: str) -> str:
    """The message trimmed; refuses an empty or oversized one."""
    text = message.strip()
    if not text:
        raise InvalidValue("message", message, ["a non-empty text"])
    if len(text) > MESSAGE_MAX:
        raise InvalidValue("message", f"{len(text)} characters", [f"at most {MESSAGE_MAX}"])
    return text
