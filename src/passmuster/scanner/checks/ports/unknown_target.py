from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.facts.code import env_reads, reachable_files
from passmuster.scanner.facts.references import service_references
from passmuster.scanner.rule import Rule, reported_once


class UnknownServiceTarget(Rule):
    """## What it does
    Flags a service address, in a service's environment (`*_SERVICE_URL`, `*_URL`, `*_HOST`)
    or a URL string in its code (`http://host:port`, or `http://host/path` without a port),
    that names a host no service answers to, or a port the target service does not listen
    on (a port the URL gives; one it leaves to its scheme's default is not judged).

    Hosts with a dot (external domains), hosts an f-string's interpolation finishes
    (`f"https://api-{env}.example.com"`), loopback addresses (see CODE005),
    `host.docker.internal` and bind wildcards (`http://+:80`) are left alone, and so is a
    variable the service's own code never reads. A host is looked up in the service's
    compose project first, then in the repository's other projects (a shared network).
    Ports are judged against what the target listens on (its command, code or
    configuration; `EXPOSE` only documents a port).

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

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        everywhere = platform.by_hostname()
        for members in platform.services_by_project():
            own_project = {host: s for s in members for host in s.hostnames}
            for service in members:
                yield from self._service(platform, service, own_project, everywhere)

    def _service(
        self,
        platform: Platform,
        service: ServiceDef,
        own_project: dict[str, ServiceDef],
        everywhere: dict[str, ServiceDef],
    ) -> Iterator[Finding]:
        reads = _read_variables(platform, service)
        seen: set[tuple[str, str, int | None]] = set()
        for ref in service_references(platform, service):
            if (ref.host, ref.path, ref.line) in seen:
                continue
            seen.add((ref.host, ref.path, ref.line))
            if not ref.in_code and reads is not None and ref.label not in reads:
                continue  # a variable the service's code never reads
            # Another project's service is reachable over a shared network.
            target = own_project.get(ref.host) or everywhere.get(ref.host)
            if target is None:
                yield self.finding(
                    f"{ref.label} names host {ref.host!r}, which is no service of the platform",
                    ref.path,
                    ref.line,
                    service=service.name,
                    key=f"host:{ref.label}:{ref.host}",
                )
                continue
            # What a service listens on comes from its command, code or configuration;
            # EXPOSE documents a port, it does not open one.
            ports = target.listening_ports()
            if ref.port is None or not ports or ref.port in ports or target is service:
                continue
            heard = ", ".join(str(p) for p in sorted(ports))
            where = target.listens[0]
            published = sorted(p.host for p in target.ports if p.host == ref.port)
            hint = f" ({ref.port} is its published host port)" if published else ""
            yield self.finding(
                f"{ref.label} calls {target.name} on port {ref.port}, but {target.name} "
                f"listens on {heard}{hint}",
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


def _read_variables(platform: Platform, service: ServiceDef) -> set[str] | None:
    """The environment variables the service's own code reads; None when its code is
    unknown (an official image, or no entry module found)."""
    files = reachable_files(platform, service)
    if files is None:
        return None
    return {read.name for read in env_reads(platform, files, import_time=False)}
