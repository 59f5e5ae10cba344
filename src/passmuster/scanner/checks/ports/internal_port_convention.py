from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.errors import ConfigError
from passmuster.scanner.context.model import Platform
from passmuster.scanner.rule import Rule, reported_once


class InternalPortConvention(Rule):
    """## What it does
    When the platform has agreed on one internal port for every HTTP service (for example
    5000, with only the published host ports differing), flags each built service that
    listens on another port. Off until a port is configured.

    ## Why is this bad?
    With one internal port, service-to-service URLs are uniform (`http://<name>:5000`),
    images are portable and proxies need no per-service port. Each exception is a URL someone
    will get wrong (seed log: "Port Standardization Across Services").

    ## Example
    ```yaml
    services:
      identity:
        ports: ["8001:8001"]   # listens on 8001, convention is 5000
    ```

    ## How to fix
    Listen on the agreed port and publish it under the service's own host port:
    `ports: ["8001:5000"]`.

    ## Configuration
    ```toml
    [scan.options.PORT004]
    port = 5000                    # the internal port; unset = rule off
    ignore = ["legacy-django"]     # services exempt from the convention
    ```
    """

    code = "PORT004"
    name = "internal-port-convention"
    severity = Severity.LOW
    fix = Fix.NONE
    default_options: ClassVar[Mapping[str, Any]] = {"port": None, "ignore": []}

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        wanted = self.options["port"]
        if wanted is None:
            return
        if not isinstance(wanted, int) or not 0 < wanted < 65536:
            raise ConfigError(f"[scan.options.PORT004] port must be a port number, not {wanted!r}")
        ignored = set(self.options["ignore"])
        for service in platform.services:
            if service.name in ignored or service.build_context is None:
                continue
            for ref in service.listens:
                if ref.port == wanted:
                    continue
                yield self.finding(
                    f"{service.name} listens on {ref.port}; the platform convention is "
                    f"{wanted} inside every container",
                    ref.path,
                    ref.line,
                    service=service.name,
                    key=str(ref.port),
                )
                break
