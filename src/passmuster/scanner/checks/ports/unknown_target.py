from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.facts.references import service_references
from passmuster.scanner.rule import Rule, unique


@dataclass(frozen=True, slots=True)
class _Seen:
    path: str
    line: int | None


class UnknownServiceTarget(Rule):
    """## What it does
    Flags a service address, in a service's environment (`*_SERVICE_URL`, `*_URL`, `*_HOST`)
    or a URL string in its code (`http://host:port`), that names a host no service answers
    to, or a port the target service does not listen on.

    Hosts with a dot (external domains), loopback addresses (see CODE005) and
    `host.docker.internal` are left alone; ports are only judged when the target's ports are
    known.

    ## Why is this bad?
    Calls fail at run time with `Name or service not known` or `connection refused`, often
    only on the code path that needs the other service (a login, a payment), long after the
    deploy looked healthy.

    ## Example
    ```yaml
    services:
      gateway:
        environment:
          IDENTITY_SERVICE_URL: http://identity-service:8001   # the service is `identity`
          TENANT_SERVICE_URL: http://tenants:9000              # tenants listens on 8002
    ```

    ## How to fix
    Use the compose service name (or a declared alias) and the port the target listens on
    inside the network: its container port, not the published host port.
    """

    code = "PORT003"
    name = "unknown-service-target"
    severity = Severity.HIGH
    fix = Fix.NONE

    def check(self, platform: Platform) -> Iterator[Finding]:
        return unique(self._check(platform))

    def _check(self, platform: Platform) -> Iterator[Finding]:
        by_host = platform.by_hostname()
        for service in platform.unique_services():
            seen: set[tuple[str, str, int | None]] = set()
            for ref in service_references(platform, service):
                if (ref.host, ref.path, ref.line) in seen:
                    continue
                seen.add((ref.host, ref.path, ref.line))
                target = by_host.get(ref.host)
                if target is None:
                    yield self.finding(
                        f"{ref.label} names host {ref.host!r}, which is no service of the platform",
                        ref.path,
                        ref.line,
                        service=service.name,
                        key=f"host:{ref.label}:{ref.host}",
                    )
                    continue
                ports = target.container_ports()
                if ref.port is None or not ports or ref.port in ports or target is service:
                    continue
                heard = ", ".join(str(p) for p in sorted(ports))
                where = target.listens[0] if target.listens else target.expose[0]
                yield self.finding(
                    f"{ref.label} calls {target.name} on port {ref.port}, but {target.name} "
                    f"listens on {heard}",
                    ref.path,
                    ref.line,
                    service=service.name,
                    related=[
                        Location(
                            where.path,
                            where.line,
                            message=f"listens on {heard}",
                            service=target.name,
                        )
                    ],
                    key=f"port:{ref.label}:{target.name}:{ref.port}",
                )
