from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, PublishedPort, ServiceDef
from passmuster.scanner.rule import Rule, reported_once

_ANY = {None, "", "0.0.0.0", "::", "[::]"}


def _clash(a: str | None, b: str | None) -> bool:
    """Two host addresses clash when either is "all interfaces" or they are the same."""
    return a in _ANY or b in _ANY or a == b


class HostPortCollision(Rule):
    """## What it does
    Flags two services that publish the same host port with the same protocol in compose
    files that run together (one project: a base file with its overrides, or files listed
    together under `[scan] compose`). TCP and UDP are counted separately; two different
    specific host addresses (`127.0.0.1:80` and `10.0.0.5:80`) do not clash.

    ## Why is this bad?
    The second container fails to start: `Bind for 0.0.0.0:8001 failed: port is already
    allocated`, and which one wins depends on start order.

    ## Example
    ```yaml
    services:
      identity:
        ports: ["8001:8000"]
      tenants:
        ports: ["8001:8000"]
    ```

    ## How to fix
    Give each service its own host port (the container ports may stay the same), and keep
    the assignments in one table the team can see.
    """

    code = "PORT001"
    name = "host-port-collision"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for project in platform.projects:
            taken: dict[tuple[int, str], list[tuple[ServiceDef, PublishedPort]]] = defaultdict(list)
            for service in platform.project_services(project.name):
                for port in service.ports:
                    if port.host is None:
                        continue
                    slot = (port.host, port.protocol)
                    earlier = next(
                        (
                            (s, p)
                            for s, p in taken[slot]
                            if s.name != service.name and _clash(p.host_ip, port.host_ip)
                        ),
                        None,
                    )
                    taken[slot].append((service, port))
                    if earlier is None:
                        continue
                    other, other_port = earlier
                    yield self.finding(
                        f"host port {port.host}/{port.protocol} is also published by "
                        f"{other.name}; the second container fails to start",
                        port.path,
                        port.line,
                        service=service.name,
                        related=[
                            Location(
                                other_port.path,
                                other_port.line,
                                message=f"publishes {other_port.raw}",
                                service=other.name,
                            )
                        ],
                        key=f"{port.host}/{port.protocol}:{other.name}",
                    )
