"""The platform being coordinated: its services, what they depend on and who owns them.

Pure domain. The scanner discovers services from compose files and fills these in; people can
also add them by hand (`passmuster service add`). The tracker links issues to services by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import field

from passmuster.core._dataclass import dataclass
from passmuster.errors import InvalidValue

# Service names follow compose's rules: letters, digits, `_`, `.`, `-`.
SERVICE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
SERVICE_NAME_MAX = 128
_NAME = re.compile(SERVICE_NAME_PATTERN)


def check_service_name(name: str) -> str:
    if len(name) > SERVICE_NAME_MAX or not _NAME.match(name):
        raise InvalidValue(
            "service", name, [f"letters, digits, '_', '.', '-' (max {SERVICE_NAME_MAX})"]
        )
    return name


def near_misses(names: Sequence[str], known: Iterable[str]) -> list[tuple[str, str]]:
    """(name, known name) for each of `names` the desk does not know but that is spelt almost
    like one it does: `bilingg` for `billing`. Filing adds such a name as a new, empty service
    without a word, so the CLI and the agents' tools say so. A name like none of them is a new
    service and is not listed."""
    import difflib  # only when a name is new

    choices = sorted(set(known))
    found: list[tuple[str, str]] = []
    for name in names:
        if name in choices:
            continue
        # 0.8: one or two letters off in a short name (bilingg, gatway, idenity), not a sibling
        # that shares a suffix (notification-service / identity-service is 0.67).
        close = difflib.get_close_matches(name, choices, n=1, cutoff=0.8)
        if close:
            found.append((name, close[0]))
    return found


def near_miss_text(name: str, known: str) -> str:
    return (
        f"{name} was not a service of this desk (did you mean {known}?); it is one now, "
        "and the issue names it"
    )


@dataclass(slots=True)
class Service:
    name: str
    description: str = ""
    owner: str | None = None
    kind: str = "service"  # service, worker, database, cache, broker, gateway …
    depends_on: list[str] = field(default_factory=list)
    health_url: str | None = None
    ports: list[str] = field(default_factory=list)
    source: str | None = None  # where it was discovered (compose file), or None when added by hand
