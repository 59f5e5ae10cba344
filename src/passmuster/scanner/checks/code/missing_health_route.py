from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.checks._support.platform import services, unique
from passmuster.scanner.checks._support.pysource import facts, may_define_web
from passmuster.scanner.checks._support.references import is_test_file
from passmuster.scanner.context.model import Platform
from passmuster.scanner.rule import Rule


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
        for service in services(platform):
            wanted = (service.health_path.rstrip("/"),) if service.health_path else defaults
            app: tuple[str, str, int, str] | None = None
            healthy = False
            for source in platform.python_files(service):
                if is_test_file(source.path) or not may_define_web(source.text):
                    continue
                tree = source.tree
                if tree is None:
                    continue
                found = facts(tree)
                if found.web_apps and app is None:
                    cls, variable, line = found.web_apps[0]
                    app = (cls, variable, line, source.path)
                if any(path.rstrip("/").endswith(wanted) for path, _ in found.routes if path):
                    healthy = True
                    break
            if app is None or healthy:
                continue
            cls, variable, line, path = app
            yield self.finding(
                f"the {cls} app {variable!r} has no health route ({', '.join(wanted)})",
                path,
                line,
                service=service.name,
                key=variable,
            )
