from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, PortRef, ServiceDef
from passmuster.scanner.rule import Rule, also_at, reported_once


class DuplicateDefaultPort(Rule):
    """## What it does
    When the services of a compose project each have a port of their own (a port registry,
    as teams keep in a table: identity 8001, tenants 8002, …), flags two services built from
    different code that default to the same listening port, in their code
    (`uvicorn.run(app, port=8003)`, a `PORT` fallback) or their Dockerfile's command.

    A project where most services share one internal port (every container on 8000) has
    no registry and is left alone: separate containers may listen on the same port.

    ## Why is this bad?
    The registry exists so services can run side by side on one host (a developer's
    machine, `network_mode: host`, a VM without containers): the second one to start fails
    with `address already in use`, and URLs written from the registry reach the wrong
    service (seed log: "Port Conflicts in Dockerfiles", 10+ services).

    ## Example
    ```dockerfile
    # services/billing/Dockerfile
    CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8003"]
    # services/instances/Dockerfile
    CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8003"]
    ```
    while identity uses 8001 and tenants 8002.

    ## How to fix
    Give the service the next free port of the registry, in its Dockerfile, code default
    and compose file alike.

    ## Configuration
    ```toml
    [scan.options.PORT005]
    min-services = 3   # services with their own default port before a registry is assumed
    ```
    """

    code = "PORT005"
    name = "duplicate-default-port"
    severity = Severity.MEDIUM
    fix = Fix.NONE
    default_options: ClassVar[Mapping[str, Any]] = {"min_services": 3}

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for project in platform.projects:
            defaults: dict[str, tuple[ServiceDef, PortRef]] = {}
            for service in platform.project_services(project.name):
                found = _default_port(service)
                if found is not None and service.build_context is not None:
                    # One entry per build: an API and its worker share their image's port.
                    defaults.setdefault(
                        f"{service.build_context}:{service.dockerfile_path}", (service, found)
                    )
            by_port: dict[int, list[tuple[ServiceDef, PortRef]]] = defaultdict(list)
            for service, ref in defaults.values():
                by_port[ref.port].append((service, ref))
            if len(defaults) < int(self.options["min_services"]):
                continue
            if len(by_port) * 2 <= len(defaults):
                continue  # most services share a port: no registry here
            for port, users in sorted(by_port.items()):
                if len(users) < 2:
                    continue
                (first, first_ref), *rest = users
                names = ", ".join(s.name for s, _ in users)
                yield self.finding(
                    f"{names} all default to port {port}, although the other services of "
                    f"the project each have a port of their own",
                    first_ref.path,
                    first_ref.line,
                    service=first.name,
                    related=also_at(rest, f"also {port}"),
                    key=f"{port}:{names}",
                )


def _default_port(service: ServiceDef) -> PortRef | None:
    """The port the service listens on by its image's command or its code's default."""
    for ref in service.listens:
        if ref.origin == "code-default":
            return ref
        command = service.command
        if ref.origin == "command" and command is not None and command.origin != "compose-command":
            return ref
    return None
