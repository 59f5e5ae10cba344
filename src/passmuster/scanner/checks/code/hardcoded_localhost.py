from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.context.urls import LOOPBACK_HOSTS, find_urls
from passmuster.scanner.facts.code import owned_python_files
from passmuster.scanner.facts.paths import is_test_file
from passmuster.scanner.rule import Rule, unique


class HardcodedLocalhostUrl(Rule):
    """## What it does
    Flags a URL to `localhost`/`127.0.0.1` in a service's code whose port belongs to another
    service of the platform (a port it listens on or publishes), such as
    `identity_url = "http://localhost:8001"`. A fallback given to `os.getenv` or a settings
    field is skipped when the service's environment sets that variable. Test files are
    skipped.

    ## Why is this bad?
    Inside a container, localhost is the container itself: the call works on a developer's
    machine where every service runs on the host, and fails with `connection refused` once
    deployed.

    ## Example
    ```python
    identity_url = "http://localhost:8001"
    ```

    ## How to fix
    Read the address from the environment, with the compose service name as the default:
    ```python
    IDENTITY_SERVICE_URL = os.getenv("IDENTITY_SERVICE_URL", "http://identity:8001")
    ```
    """

    code = "CODE005"
    name = "hardcoded-localhost-url"
    severity = Severity.HIGH
    fix = Fix.NONE

    def check(self, platform: Platform) -> Iterator[Finding]:
        return unique(self._check(platform))

    def _check(self, platform: Platform) -> Iterator[Finding]:
        everyone = platform.unique_services()
        owners: dict[int, ServiceDef] = {}
        for service in everyone:
            for port in sorted(service.container_ports()):
                owners.setdefault(port, service)
            for published in service.ports:
                if published.host is not None:
                    owners.setdefault(published.host, service)
        own_ports: dict[str, set[int]] = {}
        for service, source in owned_python_files(platform):
            if service.name not in own_ports:
                own_ports[service.name] = service.container_ports() | {
                    p.host for p in service.ports if p.host
                }
            own = own_ports[service.name]
            if is_test_file(source.path) or "://" not in source.text:
                continue
            module = source.facts
            if module is None:
                continue
            for constant in module.strings:
                if "://" not in constant.value:
                    continue
                if constant.env_default_for and constant.env_default_for in service.env:
                    continue
                for url in find_urls(constant.value):
                    if url.host not in LOOPBACK_HOSTS or not url.explicit_port:
                        continue
                    target = owners.get(url.port or 0)
                    if target is None or target is service or url.port in own:
                        continue
                    yield self.finding(
                        f"hard-coded http://{url.host}:{url.port} is {target.name}'s port; "
                        f"inside a container localhost is the container itself",
                        source.path,
                        constant.line,
                        column=constant.col + 1,
                        service=service.name,
                        related=[
                            Location(
                                target.path,
                                target.line,
                                message="defined here",
                                service=target.name,
                            )
                        ],
                        key=f"{url.host}:{url.port}",
                    )
