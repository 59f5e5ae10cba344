from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, PublishedPort, ServiceDef
from passmuster.scanner.facts.development import in_development_setup
from passmuster.scanner.rule import Rule, reported_once

_ALL_INTERFACES = {None, "", "0.0.0.0", "::", "[::]"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# A comment promising that the port is reachable from the machine itself only.
_PROMISE = re.compile(
    r"#.*(?:127\.0\.0\.1|localhost[ -]only|loopback|not (?:reachable|exposed|accessible) "
    r"(?:from|to) the (?:internet|outside))",
    re.IGNORECASE,
)
# How many loopback-only siblings make it the project's convention.
_CONVENTION = 2


class PublishedBeyondLoopback(Rule):
    """## What it does
    Flags a port published on every interface (`"8000:8000"`, `"0.0.0.0:8000:8000"`) where
    the compose file says it should be reachable from the machine only: a comment in the
    service's block promises `127.0.0.1`, loopback or "not reachable from the internet", or
    every other published port of the project (at least two) is bound to `127.0.0.1`.
    Development files (`docker-compose.dev.yml`, `*.override.yml`, …) are not judged.

    ## Why is this bad?
    The service is reachable from the network at large, bypassing the reverse proxy in
    front of it (TLS, authentication, rate limits), and Docker's published ports skip the
    host firewall's `INPUT` rules (ufw), so nothing else stops the traffic.

    ## Example
    ```yaml
    api-gateway:
      # Caddy proxies to it; bound to 127.0.0.1 only.
      ports:
        - "0.0.0.0:8000:8000"
    ```

    ## How to fix
    Bind the loopback address, as the comment says: `"127.0.0.1:8000:8000"`.
    """

    code = "PORT008"
    name = "published-beyond-loopback"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        lines: dict[str, list[str]] = {}
        for members in platform.services_by_project():
            published = [(s, p) for s in members for p in s.ports if p.host is not None]
            loopback = [(s, p) for s, p in published if p.host_ip in _LOOPBACK]
            wide = [(s, p) for s, p in published if p.host_ip in _ALL_INTERFACES]
            # Counted once per name, not once per wide port: a large project has both by the
            # thousand.
            published_by = Counter(s.name for s, _ in published)
            loopback_by = Counter(s.name for s, _ in loopback)
            for service, port in wide:
                if in_development_setup(platform, service, port.path):
                    continue
                if port.path not in lines:
                    lines[port.path] = platform.lines(port.path)
                promise = _promise(lines[port.path], service, port)
                others = len(published) - published_by[service.name]
                loopback_others = len(loopback) - loopback_by[service.name]
                convention = loopback_others >= _CONVENTION and loopback_others == others
                if promise is None and not convention:
                    continue
                siblings = [(s, p) for s, p in loopback if s.name != service.name]
                why = (
                    f"the file says {promise!r}"
                    if promise is not None
                    else f"every other published port of the project is bound to 127.0.0.1 "
                    f"({', '.join(sorted({s.name for s, _ in siblings}))})"
                )
                yield self.finding(
                    f"{service.name} publishes {port.raw} on every interface, but {why}: "
                    f"port {port.host} is reachable from the network, past any proxy in front",
                    port.path,
                    port.line,
                    service=service.name,
                    related=[
                        Location(p.path, p.line, message=p.raw, service=s.name)
                        for s, p in siblings[:5]
                        if promise is None
                    ],
                    key=f"{port.host}/{port.protocol}",
                )


def _promise(lines: list[str], service: ServiceDef, port: PublishedPort) -> str | None:
    """A comment in the service's block (from its name to the port) promising loopback."""
    if service.path != port.path or service.line is None or port.line is None:
        return None
    start = service.line - 1
    # The comment block right above the service's name belongs to it as well.
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    for text in lines[start : port.line]:
        match = _PROMISE.search(text)
        if match is not None:
            return text.split("#", 1)[1].strip()
    return None
