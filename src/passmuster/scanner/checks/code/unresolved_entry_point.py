from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.facts.code import module_in_image
from passmuster.scanner.rule import Rule, reported_once

_APP_SERVERS = frozenset({"uvicorn", "gunicorn", "hypercorn", "daphne", "granian", "celery"})


class UnresolvedEntryPoint(Rule):
    """## What it does
    Flags a service command whose app target resolves to nothing in the service's code: the
    module of `uvicorn app.main:app` (also gunicorn, hypercorn, daphne, granian and
    `celery -A`) exists in no file under the build context, or the module defines no `app`.

    The module is looked up as the server would import it from the build context (and from
    `src/`, or any folder of the service's code that a `COPY` may have made the working
    directory); the attribute among the module's top-level names, read with `ast`.

    ## Why is this bad?
    The container exits at start with `Error loading ASGI app. Could not import module
    "app.main"` or `Attribute "app" not found in module "app.main"`, and restarts in a loop.

    ## Example
    ```dockerfile
    CMD ["uvicorn", "app.main:application", "--host", "0.0.0.0"]
    ```
    while `app/main.py` defines `app = FastAPI()`.

    ## How to fix
    Point the command at the module path and attribute that exist (`app.main:app`); check the
    `WORKDIR` and `COPY` lines put the package where the command imports it from.
    """

    code = "CODE003"
    name = "unresolved-entry-point"
    severity = Severity.CRITICAL
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for service in platform.every_service():
            entry = service.entry
            if entry is None or entry.server not in _APP_SERVERS or not entry.module:
                continue
            if service.build_context is None or not service.python_files:
                continue  # nothing of the service's code is in this repository
            if "$" in (entry.target or "") or "{" in (entry.target or ""):
                continue
            module_path = entry.module_path or self._anywhere(service.python_files, entry.module)
            if module_path is None and entry.server == "celery":
                # kombu's symbol_by_name: `-A pkg.module.attr` is module pkg.module, attribute
                # attr; `-A pkg` may also mean pkg.celery.
                for candidate in (entry.module.rpartition(".")[0], f"{entry.module}.celery"):
                    if candidate and module_path is None:
                        module_path = self._anywhere(service.python_files, candidate)
            if module_path is None:
                module_path = module_in_image(platform, service, entry.module)
            if module_path is None:
                yield self.finding(
                    f"{entry.server} starts {entry.target}, but no module {entry.module} exists "
                    f"in {service.build_context}",
                    entry.path,
                    entry.line,
                    service=service.name,
                    key=f"module:{entry.module}",
                )
                continue
            if entry.attribute is None or entry.server == "celery":
                continue
            source = platform.python.get(module_path)
            module = source.facts if source is not None else None
            if module is None:
                continue
            defined = module.defined
            if defined is None or entry.attribute in defined:
                continue
            yield self.finding(
                f"{entry.server} starts {entry.target}, but {module_path} defines no "
                f"{entry.attribute!r}",
                entry.path,
                entry.line,
                service=service.name,
                key=f"attribute:{entry.module}:{entry.attribute}",
            )

    @staticmethod
    def _anywhere(files: list[str], module: str) -> str | None:
        """A file of the service that is `module` under some folder: `COPY app/ .` with
        `uvicorn main:app` imports `app/main.py` as `main`, which the build context alone
        does not show."""
        tail = module.replace(".", "/")
        for suffix in (f"/{tail}.py", f"/{tail}/__init__.py"):
            for path in files:
                if path.endswith(suffix) or path == suffix[1:]:
                    return path
        return None
