"""The platform being coordinated: its services, what they depend on and who owns them.

Pure domain. The scanner discovers services from compose files and fills these in; people can
also add them by hand (`passmuster service add`). The tracker links issues to services by name.
"""

from __future__ import annotations

import re
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
