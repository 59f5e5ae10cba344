from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.facts.references import service_references
from passmuster.scanner.rule import Rule, unique


class UndeclaredDependency(Rule):
    """## What it does
    Flags a service that calls another service of its compose project, because that
    service's host appears in its environment (`IDENTITY_SERVICE_URL=http://identity:8001`,
    `REDIS_HOST=redis`) or in a URL in its code, without listing it under `depends_on` or
    `links`.

    ## Why is this bad?
    Compose starts the two in any order, so the caller's first requests (or its start-up
    connection to the database or broker) fail after every deploy or restart; the dependency
    graph other tools read is missing an edge.

    ## Example
    ```yaml
    services:
      billing:
        environment:
          TENANT_SERVICE_URL: http://tenants:8002
        # no depends_on: [tenants]
    ```

    ## How to fix
    Add the service to `depends_on` (with `condition: service_healthy` when it has a health
    check).
    """

    code = "REF003"
    name = "undeclared-dependency"
    severity = Severity.MEDIUM
    fix = Fix.NONE

    def check(self, platform: Platform) -> Iterator[Finding]:
        return unique(self._check(platform))

    def _check(self, platform: Platform) -> Iterator[Finding]:
        for project in platform.projects:
            members = platform.project_services(project.name)
            by_host = {host: s for s in members for host in s.hostnames}
            for service in members:
                declared = {d.name for d in service.depends_on}
                reported: set[str] = set()
                for ref in service_references(platform, service):
                    target = by_host.get(ref.host)
                    if target is None or target is service or target.name in declared:
                        continue
                    if target.name in reported:
                        continue
                    reported.add(target.name)
                    yield self.finding(
                        f"{service.name} calls {target.name} ({ref.label}) but does not "
                        f"depend on it",
                        ref.path,
                        ref.line,
                        service=service.name,
                        related=[
                            Location(
                                target.path,
                                target.line,
                                message="defined here",
                                service=target.name,
                            )
                        ],
                        key=target.name,
                    )
