from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Command, Platform, ServiceDef
from passmuster.scanner.rule import Rule, reported_once

# `${SERVICE}` or `$SERVICE` written into a word (`services.${SERVICE}-service.app.main`,
# `/app/${APP}/main.py`): the variable picks which code runs. A variable standing alone
# (`--port ${PORT}`) only sets a value.
_SELECTOR = re.compile(
    r"(?:(?<=[\w./-])\$\{?(?P<a>[A-Za-z_]\w*)\}?|\$\{?(?P<b>[A-Za-z_]\w*)\}?(?=[\w./-]))"
)


class ImageSelectorNotPassed(Rule):
    """## What it does
    Flags a Dockerfile that several compose services build and run unchanged, whose `CMD` or
    `ENTRYPOINT` picks the code to run by a variable (`uvicorn
    services.${SERVICE}-service.app.main:app`) that has a default in the Dockerfile
    (`ENV SERVICE=order`), when none of those services sets that variable. Services that
    give their own `command` are left out, and so is a variable that only sets a value
    (`--port ${PORT}`).

    ## Why is this bad?
    Every one of those containers starts the default's code: the gateway, the kitchen and
    the billing service all run the order service, on the same port. Nothing fails at
    start; calls reach the wrong service and answer 404s, and health checks against `/` may
    even pass. Often compose sets a similar name (`SERVICE_NAME`) that the image never reads.

    ## Example
    ```dockerfile
    ENV SERVICE=order
    CMD uvicorn services.${SERVICE}-service.app.main:app --host 0.0.0.0 --port 8000
    ```
    ```yaml
    services:
      order-service:   {build: ., environment: {SERVICE_NAME: order}}
      kitchen-service: {build: ., environment: {SERVICE_NAME: kitchen}}
    ```

    ## How to fix
    Set the variable the image reads in each service (`SERVICE: kitchen`), or give each
    service its own `command`.
    """

    code = "ENV011"
    name = "image-selector-not-passed"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        shared: dict[tuple[str, str, str], list[ServiceDef]] = defaultdict(list)
        for service in platform.services:
            dockerfile = service.dockerfile
            if dockerfile is None or service.build_context is None:
                continue
            if service.command is not None and service.command.origin.startswith("compose"):
                continue  # its own command: the image's CMD does not run
            if service.entrypoint is not None and service.entrypoint.origin.startswith("compose"):
                continue
            shared[(service.project, dockerfile.path, service.build_context)].append(service)
        for services in shared.values():
            if len(services) < 2:
                continue
            first = services[0]
            for variable, command in _selectors(first):
                default = first.env.get(variable)
                if default is None or default.origin != "dockerfile":
                    continue  # no default in the image: an unset variable is another failure
                if any(_passes(service, variable) for service in services):
                    continue
                yield self._finding(services, variable, default.value or "", command)

    def _finding(
        self, services: list[ServiceDef], variable: str, default: str, command: Command
    ) -> Finding:
        names = ", ".join(s.name for s in services)
        alike = sorted(
            {
                name
                for service in services
                for name, var in service.env.items()
                if var.origin != "dockerfile" and _alike(name, variable)
            }
        )
        hint = f" (they set {', '.join(alike)})" if alike else ""
        return self.finding(
            f"{names} run the image's command, which picks its code by ${variable}, but none "
            f"sets {variable}{hint}: all of them run {variable}={default!r}, the Dockerfile's "
            f"default",
            command.path,
            command.line,
            service=services[0].name,
            related=[
                Location(s.path, s.line, message=f"does not set {variable}", service=s.name)
                for s in services
            ],
            key=f"{command.path}:{variable}",
        )


def _selectors(service: ServiceDef) -> list[tuple[str, Command]]:
    found: list[tuple[str, Command]] = []
    for command in (service.entrypoint, service.command):
        if command is None or not command.origin.startswith("dockerfile"):
            continue
        for match in _SELECTOR.finditer(command.raw):
            found.append((match.group("a") or match.group("b"), command))
    return found


def _passes(service: ServiceDef, variable: str) -> bool:
    var = service.env.get(variable)
    return (var is not None and var.origin != "dockerfile") or variable in service.documented_env


def _alike(name: str, variable: str) -> bool:
    """`SERVICE_NAME` or `APP_SERVICE` beside `SERVICE`: a name meant for the same thing."""
    if name == variable or variable not in name:
        return False
    rest = name.replace(variable, "", 1).strip("_")
    return 0 < len(rest) <= 4 and rest.isalpha()
