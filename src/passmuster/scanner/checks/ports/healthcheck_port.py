from __future__ import annotations

import re
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import HealthCheck, Platform, ServiceDef
from passmuster.scanner.context.services import image_healthcheck
from passmuster.scanner.facts.code import ports_in_code
from passmuster.scanner.rule import Rule, reported_once

# `http://localhost:7001/health`, `127.0.0.1:8000`, `[::1]:8000`, `('localhost', 8000)` (a
# socket address in Python), `nc -z localhost 8000`: the container itself.
_SELF_PORT = re.compile(
    r"(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::|['\"]\s*,\s*|\s+)(\d{2,5})\b"
)


class HealthcheckPort(Rule):
    """## What it does
    Flags a health check (compose `healthcheck.test` or the image's `HEALTHCHECK`) that
    probes the container itself (`localhost`, `127.0.0.1`) on a port the service does not
    listen on, when that port is known (its command's `--port`/`--bind`, a
    `uvicorn.run(port=…)` in its code, or `port` under `[services.<name>]`). The usual
    cause is the published host port written where the container port belongs
    (`ports: ["7001:8000"]`, then `curl http://localhost:7001/health`). A port the
    service's code names is left alone: it may start a second server there.

    ## Why is this bad?
    The check runs inside the container, where nothing listens on that port: it fails
    every time, the service never turns healthy, and every `depends_on: condition:
    service_healthy` on it waits forever; an orchestrator restarts it in a loop.

    ## Example
    ```yaml
    services:
      calc:
        build: ./services/calc            # CMD: uvicorn main:app --port 8000
        ports: ["7001:8000"]
        healthcheck:
          test: ["CMD-SHELL", "curl -fsS http://localhost:7001/health || exit 1"]
    ```

    ## How to fix
    Probe the port the server listens on inside the container (`localhost:8000`).
    """

    code = "PORT009"
    name = "healthcheck-wrong-port"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for service, listening in platform.listening_services():
            checks = [service.healthcheck]
            image_check = image_healthcheck(service)
            if image_check is not None and image_check != service.healthcheck:
                checks.append(image_check)
            second_servers: set[int] | None = None
            for check in checks:
                if check is None or check.disabled:
                    continue
                for port in _probed_ports(check):
                    if port in listening:
                        continue
                    if second_servers is None:
                        second_servers = ports_in_code(platform, service)
                    if port in second_servers:
                        continue
                    yield self._finding(service, check, port, listening)

    def _finding(
        self, service: ServiceDef, check: HealthCheck, port: int, listening: set[int]
    ) -> Finding:
        heard = ", ".join(str(p) for p in sorted(listening))
        published = {p.host for p in service.ports if p.host is not None}
        why = f" ({port} is its published host port)" if port in published else ""
        source = service.listens[0]
        return self.finding(
            f"the health check probes port {port} inside the container, but {service.name} "
            f"listens on {heard}{why}; the check can never pass",
            check.path,
            check.line,
            service=service.name,
            related=[Location(source.path, source.line, message=f"listens on {heard}")],
            key=str(port),
        )


def _probed_ports(check: HealthCheck) -> list[int]:
    return sorted({int(m.group(1)) for m in _SELF_PORT.finditer(check.command_text)})
