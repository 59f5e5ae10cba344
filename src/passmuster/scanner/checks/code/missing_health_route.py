from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.context.pysource import may_define_web
from passmuster.scanner.facts.code import code_groups
from passmuster.scanner.facts.paths import is_test_file
from passmuster.scanner.rule import Rule, unique


class MissingHealthRoute(Rule):
    """## What it does
    Flags a service whose code creates a web app (`FastAPI()`, `Flask()`, `Starlette()`,
    `Quart()`) but defines no health route: no route or router prefix ending in `/health`,
    `/healthz`, `/livez` or `/readyz`, or the path configured for the service.

    ## Why is this bad?
    Without a cheap endpoint that says "up", compose health checks, load balancers and
    `passmuster monitor` can only probe real endpoints (which need auth or a database) or
    nothing, so a dead service is noticed by its users first.

    ## Example
    ```python
    app = FastAPI()

    @app.get("/api/v1/invoices")
    async def invoices(): ...
    ```

    ## How to fix
    ```python
    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}
    ```

    ## Configuration
    ```toml
    [scan.options.CODE004]
    paths = ["/health", "/healthz", "/livez", "/readyz", "/ping"]
    ```
    A service's own path can be set with `health = "/status"` under `[services.<name>]`.
    """

    code = "CODE004"
    name = "missing-health-route"
    severity = Severity.MEDIUM
    fix = Fix.NONE
    default_options: ClassVar[Mapping[str, Any]] = {
        "paths": ["/health", "/healthz", "/livez", "/readyz"]
    }

    def check(self, platform: Platform) -> Iterator[Finding]:
        return unique(self._check(platform))

    def _check(self, platform: Platform) -> Iterator[Finding]:
        defaults = tuple(str(p).rstrip("/") for p in self.options["paths"])
        for files, members in code_groups(platform):
            # Members share their code; only a configured health path can set them apart.
            by_paths: dict[tuple[str, ...], list[ServiceDef]] = {}
            for member in members:
                paths = (member.health_path.rstrip("/"),) if member.health_path else defaults
                by_paths.setdefault(paths, []).append(member)
            for wanted, group in by_paths.items():
                found = self._app_without_health(platform, files, wanted)
                if found is None:
                    continue
                cls, variable, line, path = found
                yield self.finding(
                    f"the {cls} app {variable!r} has no health route ({', '.join(wanted)})",
                    path,
                    line,
                    service=group[0].name,
                    key=variable,
                )

    @staticmethod
    def _app_without_health(
        platform: Platform, files: tuple[str, ...], wanted: tuple[str, ...]
    ) -> tuple[str, str, int, str] | None:
        """The first web app in `files` when none of them has a health route, else None."""
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
            if any(route.rstrip("/").endswith(wanted) for route, _ in found.routes if route):
                return None
        return app
