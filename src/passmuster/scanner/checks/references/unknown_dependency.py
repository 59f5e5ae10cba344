from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.rule import Rule, reported_once


class UnknownDependency(Rule):
    """## What it does
    Flags a `depends_on` or `links` entry naming a service that the compose files running
    together (the service's project) do not define.

    ## Why is this bad?
    `docker compose up` refuses the whole project (`service "api" depends on undefined service
    "identity-service"`), or, when the name exists only in another project, the dependency is
    silently not started first.

    ## Example
    ```yaml
    services:
      gateway:
        depends_on: [identity-service]   # the service is called `identity`
      identity:
        build: ./services/identity
    ```

    ## How to fix
    Use the exact service name, or define the missing service in the same project.
    """

    code = "REF001"
    name = "unknown-dependency"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for project in platform.projects:
            names = set(project.services)
            for service in platform.project_services(project.name):
                for dep in service.depends_on:
                    if dep.name in names:
                        continue
                    yield self.finding(
                        f"{dep.kind} names {dep.name!r}, which is not a service of this "
                        f"compose project",
                        dep.path,
                        dep.line,
                        service=service.name,
                        key=f"{dep.kind}:{dep.name}",
                    )
