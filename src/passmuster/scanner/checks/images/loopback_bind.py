from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.rule import Rule, reported_once

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# Servers that listen on 127.0.0.1 unless told otherwise.
_LOOPBACK_BY_DEFAULT = frozenset({"uvicorn", "gunicorn", "hypercorn", "flask", "daphne"})
# Environment variables these servers read their bind address from.
_BIND_ENV = ("UVICORN_HOST", "GUNICORN_CMD_ARGS", "FLASK_RUN_HOST", "HYPERCORN_BIND")


class LoopbackBind(Rule):
    """## What it does
    Flags a server inside a container bound to the loopback address: `--host 127.0.0.1`,
    `--bind localhost:8000`, or no host at all for uvicorn, gunicorn, hypercorn, daphne and
    `flask run`, which all default to 127.0.0.1.

    ## Why is this bad?
    Loopback inside a container is the container itself. Published ports, health checks from
    other containers and every other service get `connection refused`, while `curl` inside
    the container works, which makes it slow to diagnose.

    ## Example
    ```dockerfile
    CMD ["uvicorn", "app.main:app", "--port", "8000"]
    ```

    ## How to fix
    Bind all interfaces: `--host 0.0.0.0` (gunicorn: `--bind 0.0.0.0:8000`).
    """

    code = "IMG005"
    name = "loopback-bind"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for service in platform.every_service():
            entry = service.entry
            if entry is None or entry.server not in _LOOPBACK_BY_DEFAULT:
                continue
            if any(flag in entry.flags for flag in ("--uds", "--fd", "-c", "--config")):
                continue
            if entry.host is not None:
                if entry.host.strip("[]") not in {h.strip("[]") for h in _LOOPBACK}:
                    continue
                message = (
                    f"{entry.server} binds {entry.host}, unreachable from outside the container"
                )
            else:
                if any(name in service.env for name in _BIND_ENV):
                    continue
                message = (
                    f"{entry.server} is started without a host and binds 127.0.0.1, unreachable "
                    f"from outside the container; add --host 0.0.0.0"
                )
            yield self.finding(
                message, entry.path, entry.line, service=service.name, key=entry.server
            )
