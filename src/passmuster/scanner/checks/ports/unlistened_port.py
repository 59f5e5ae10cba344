from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.facts.code import ports_in_code
from passmuster.scanner.rule import Rule, reported_once


class UnlistenedPort(Rule):
    """## What it does
    Flags a compose `ports:` or `expose:` entry whose container port is not a port the
    service listens on, when that is known (from its command's `--port`/`--bind`, a
    `uvicorn.run(port=…)` in its code, or `port` under `[services.<name>]`). A port the
    service's code names is left alone: it may start a second server there (gRPC, metrics).
    An official database image run as shipped (`postgres`, `mongo`, `mariadb`: no command,
    no port variable such as `PGPORT`, no mounted config) listens on its one port; only its
    published ports are judged.

    ## Why is this bad?
    Traffic sent to the published port reaches nothing: `connection reset` from the host,
    `connection refused` from other services, and a health check against it always fails.

    ## Example
    ```yaml
    services:
      billing:
        build: ./services/billing          # CMD: uvicorn … --port 8004
        ports: ["8004:8000"]
    ```

    ## How to fix
    Map the host port to the port the server listens on (`"8004:8004"`), or change the
    server's `--port`.
    """

    code = "PORT002"
    name = "unlistened-port"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for service, listening in platform.listening_services():
            heard = ", ".join(str(p) for p in sorted(listening))
            source = service.listens[0]
            related = [Location(source.path, source.line, message=f"listens on {heard}")]
            entries = [(p.container, p.path, p.line, f"publishes {p.raw}") for p in service.ports]
            # An official image's `expose:` list only documents; a published port is used.
            entries += [
                (p.port, p.path, p.line, f"exposes {p.port}")
                for p in service.expose
                if p.origin == "compose-expose" and source.origin != "image-default"
            ]
            mentioned = ports_in_code(platform, service)
            for port, path, line, what in entries:
                if port in listening or port in mentioned:
                    continue  # a second server the code starts (gRPC on 50051, metrics)
                yield self.finding(
                    f"{what} but {service.name} listens on {heard}",
                    path,
                    line,
                    service=service.name,
                    related=related,
                    key=str(port),
                )
