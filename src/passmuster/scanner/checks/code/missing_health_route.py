from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.context.pysource import may_define_web
from passmuster.scanner.facts.code import code_groups
from passmuster.scanner.facts.paths import is_test_file
from passmuster.scanner.rule import Rule, reported_once

_LOCAL_URL = re.compile(
    r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::\d+)?(/[^\s'\"),;]*)?"
)


class MissingHealthRoute(Rule):
    """## What it does
    Flags a service whose health check probes an HTTP path its web app does not serve: the
    compose `healthcheck` or the Dockerfile `HEALTHCHECK` calls
    `http://localhost:8000/healthz` (or any loopback URL), and the code that creates the app
    (`FastAPI()`, `Flask()`, `Starlette()`, `Quart()`) has no route or router prefix for
    that path. A service nothing probes is left alone.

    ## Why is this bad?
    The probe gets a 404 every time, so the container never becomes healthy: services that
    `depends_on` it with `condition: service_healthy` never start, and orchestrators restart
    a service that works.

    ## Example
    ```yaml
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://localhost:8000/healthz')"]
    ```
    while the app defines only `/api/v1/invoices`.

    ## How to fix
    ```python
    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}
    ```
    or probe a path the app serves.

    ## Configuration
    ```toml
    [scan.options.CODE004]
    paths = ["/health", "/healthz", "/livez", "/readyz", "/ping"]   # answered outside the app
    ```
    Paths listed here count as served (by a proxy or a library router the scan cannot see);
    a service's own path can be set with `health = "/status"` under `[services.<name>]`.
    """

    code = "CODE004"
    name = "missing-health-route"
    severity = Severity.MEDIUM
    fix = Fix.NONE
    default_options: ClassVar[Mapping[str, Any]] = {"paths": []}

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        served_elsewhere = {str(p).rstrip("/") for p in self.options["paths"]}
        for files, members in code_groups(platform):
            for member in members:
                probes = _probed_paths(member)
                if not probes or (member.health_path and member.health_path in probes):
                    continue
                found = self._app_without(platform, files, probes, served_elsewhere)
                if found is None:
                    continue
                cls, variable, line, path = found
                check = member.healthcheck
                assert check is not None
                yield self.finding(
                    f"the health check probes {', '.join(probes)} but the {cls} app "
                    f"{variable!r} has no such route",
                    path,
                    line,
                    service=member.name,
                    related=[Location(check.path, check.line, message="the health check")],
                    key=f"{variable}:{','.join(probes)}",
                )

    @staticmethod
    def _app_without(
        platform: Platform,
        files: tuple[str, ...],
        probes: list[str],
        served_elsewhere: set[str],
    ) -> tuple[str, str, int, str] | None:
        """The first web app in `files` when no route serves a probed path, else None."""
        if any(p.rstrip("/") in served_elsewhere for p in probes):
            return None
        app: tuple[str, str, int, str] | None = None
        for path in files:
            source = platform.python.get(path)
            if source is None or is_test_file(path) or not may_define_web(source.text):
                continue
            found = source.facts
            if found is None:
                continue
            if found.web_apps and app is None:
                cls, variable, line = found.web_apps[0]
                app = (cls, variable, line, path)
            for route, _ in found.routes:
                route = route.rstrip("/")
                if route and any(p.rstrip("/").endswith(route) for p in probes):
                    return None
        return app


def _probed_paths(service: ServiceDef) -> list[str]:
    """The paths the service's health check requests from itself."""
    check = service.healthcheck
    if check is None or check.disabled:
        return []
    paths = []
    for match in _LOCAL_URL.finditer(check.command_text):
        path = (match.group(1) or "/").split("?", 1)[0] or "/"
        if path != "/" and path not in paths:
            paths.append(path)
    return paths
