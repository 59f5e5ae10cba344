"""A service's environment as rules compare it: values set for it, and names that mean it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from passmuster.core.findings import Location
from passmuster.scanner.context.model import EnvVar, ServiceDef
from passmuster.scanner.rule import also_at


def env_values(service: ServiceDef) -> Iterator[tuple[str, str, EnvVar]]:
    """(name, value, var) for every variable with a known value set by compose or env files."""
    for name, var in service.env.items():
        if var.value is not None and var.origin != "dockerfile":
            yield name, var.value, var


def service_prefixes(service: ServiceDef) -> set[str]:
    """Env-name prefixes that mean this service: `IDENTITY_` and `IDENTITY_SERVICE_` for
    `identity-service`."""
    base = re.sub(r"[^A-Z0-9]+", "_", service.name.upper()).strip("_")
    short = re.sub(r"_(SERVICE|SVC|API|APP)$", "", base)
    return {f"{base}_", f"{short}_"}


def logins_and_server(
    logins: Iterable[tuple[ServiceDef, EnvVar]], server: ServiceDef
) -> list[Location]:
    """Related locations of a finding about a database server: each further variable a
    service logs in with (named by the variable), then the server itself."""
    return [
        *also_at(logins, lambda var: var.name),
        Location(server.path, server.line, message="the database server", service=server.name),
    ]
