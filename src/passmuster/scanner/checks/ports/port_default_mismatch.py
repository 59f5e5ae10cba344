from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.commands import code_port
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.facts.code import env_reads, reachable_files
from passmuster.scanner.rule import Rule, reported_once

_PORT_VARIABLES = frozenset({"PORT", "APP_PORT", "SERVICE_PORT", "HTTP_PORT", "SERVER_PORT"})


class PortDefaultMismatch(Rule):
    """## What it does
    Flags a port default in a service's code that differs from the port its container
    serves on: `uvicorn.run(app, port=8001)` or `os.getenv("PORT", "8001")` in the code,
    while the command that starts the container (its Dockerfile `CMD` or compose
    `command:`) listens on 8000. A fallback the service's environment overrides (compose
    sets `PORT`) is left alone.

    ## Why is this bad?
    The service answers on one port in its container and another when run from the code
    (`python main.py` on a laptop, a debugger, a test harness): URLs, published ports and
    health checks written from one of them miss the other, and the port registry the team
    keeps says something a third source contradicts.

    ## Example
    ```python
    if __name__ == "__main__":
        uvicorn.run(app, host="0.0.0.0", port=8001)
    ```
    with `CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]`.

    ## How to fix
    Read the port from one place: `port=int(os.getenv("PORT", "8000"))` with the same default
    as the command, or make the command use the code's port.
    """

    code = "PORT006"
    name = "port-default-mismatch"
    severity = Severity.LOW
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for service in platform.services:
            entry = service.entry
            if entry is None or entry.server == "python" or entry.port is None:
                continue
            if not service.python_files:
                continue
            files = reachable_files(platform, service) or service.python_files
            for path, line, port, how in _code_defaults(platform, service, files):
                if port == entry.port:
                    continue
                yield self.finding(
                    f"{how} defaults to port {port} here, but the container of "
                    f"{service.name} serves on {entry.port}",
                    path,
                    line,
                    service=service.name,
                    related=[Location(entry.path, entry.line, message=f"listens on {entry.port}")],
                    key=f"{port}->{entry.port}",
                )


def _code_defaults(
    platform: Platform, service: ServiceDef, files: list[str]
) -> Iterator[tuple[str, int, int, str]]:
    """(path, line, port, what) for each port default in the code the service runs."""
    for path in files:
        source = platform.python.get(path)
        if source is None or "port" not in source.text.lower():
            continue
        tree = source.tree
        if tree is not None and "run(" in source.text:
            found = code_port(tree, {})
            if found is not None:
                yield path, found[1], found[0], "the code's run(port=…)"
                continue
        for read in env_reads(platform, [path], import_time=False):
            if read.name not in _PORT_VARIABLES or read.name in service.env:
                continue
            if read.default is not None and read.default.isdigit():
                yield path, read.line, int(read.default), f"the {read.name} fallback"
