from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, PythonFile, ServiceDef
from passmuster.scanner.context.urls import Url, find_urls
from passmuster.scanner.facts.code import owned_python_files
from passmuster.scanner.facts.environment import env_values
from passmuster.scanner.facts.tables import table
from passmuster.scanner.rule import Rule, reported_once


def _driver(url: Url, data: dict[str, Any]) -> str | None:
    """The SQLAlchemy driver a database URL names, or its dialect's default."""
    dialects: dict[str, str] = data["dialects"]
    if url.scheme not in dialects:
        return None
    if url.driver is None:
        return dialects[url.scheme]
    if url.driver == "psycopg":
        return "psycopg"
    return url.driver


class MissingDatabaseDriver(Rule):
    """## What it does
    Flags a database URL whose driver the service does not install, for example
    `postgresql+asyncpg://…` in a service without `asyncpg`; and an engine given a URL of the
    wrong kind: an async driver passed to `create_engine`, or a sync one (including a plain
    `postgresql://`, which means psycopg2) passed to `create_async_engine`.

    URLs are read from the service's environment (compose `environment`, `env_file`) and from
    string literals in its code; the engine calls are read from its code with `ast`.

    ## Why is this bad?
    The service starts, then fails on its first database use with
    `ModuleNotFoundError: No module named 'asyncpg'`, or SQLAlchemy refuses the engine:
    `The asyncio extension requires an async driver to be used`.

    ## Example
    ```yaml
    services:
      identity:
        environment:
          DATABASE_URL: postgresql+asyncpg://identity:pw@postgres:5432/identity
    ```
    with no `asyncpg` in `services/identity/requirements.txt`.

    ## How to fix
    Add the driver to the service's own requirements (`asyncpg==0.29.0`), or change the URL to
    the driver the service installs; give `create_async_engine` an async URL
    (`postgresql+asyncpg://`) and `create_engine` a sync one.
    """

    code = "REQ005"
    name = "missing-database-driver"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        data = table("databases")
        drivers: dict[str, dict[str, Any]] = data["drivers"]
        env_urls: dict[str, dict[str, str]] = {}
        for service in platform.services:
            urls = env_urls.setdefault(service.name, {})
            for name, value, var in env_values(service):
                for url in find_urls(value):
                    driver = _driver(url, data)
                    if driver is None:
                        continue
                    urls[name] = value
                    if url.driver is None:
                        continue  # plain URLs are also read by non-SQLAlchemy clients
                    problem = self._missing(service, driver, drivers)
                    if problem:
                        yield self.finding(
                            f"{name} uses the {driver} driver but {problem}",
                            var.path,
                            var.line,
                            service=service.name,
                            key=f"env:{name}:{driver}",
                        )
        for service, source in owned_python_files(platform):
            if "_engine" in source.text:
                yield from self._engines(service, source, env_urls.get(service.name, {}), data)

    @staticmethod
    def _missing(service: ServiceDef, driver: str, drivers: dict[str, dict[str, Any]]) -> str:
        info = drivers.get(driver)
        if info is None:
            return ""
        packages: list[str] = info.get("packages", [])
        if not packages or any(service.has_package(p) for p in packages):
            return ""
        if not service.requirement_files and not service.pyproject_dependencies:
            return ""  # nothing known about what the service installs
        return f"{service.name} does not install {' or '.join(packages)}"

    def _engines(
        self, service: ServiceDef, source: PythonFile, env_urls: dict[str, str], data: Any
    ) -> Iterator[Finding]:
        drivers: dict[str, dict[str, Any]] = data["drivers"]
        module = source.facts
        if module is not None:
            for call in module.engine_calls:
                text = call.url
                origin = "its URL"
                if text is None and call.env_var is not None:
                    text = env_urls.get(call.env_var)
                    origin = call.env_var
                if text is None:
                    continue
                found = find_urls(text)
                if not found:
                    continue
                url = found[0]
                driver = _driver(url, data)
                if driver is None:
                    continue
                is_async = drivers.get(driver, {}).get("async", False)
                wants_async = call.factory == "create_async_engine"
                related: list[Location] = []
                if call.env_var and call.env_var in service.env:
                    var = service.env[call.env_var]
                    related.append(Location(var.path, var.line, message=call.env_var))
                if wants_async and is_async is False:
                    yield self.finding(
                        f"create_async_engine gets a sync {driver} URL from {origin}; use an "
                        f"async driver such as postgresql+asyncpg://",
                        source.path,
                        call.line,
                        service=service.name,
                        related=related,
                        key=f"engine:{call.factory}:{driver}",
                    )
                elif not wants_async and is_async is True:
                    yield self.finding(
                        f"create_engine gets an async {driver} URL from {origin}; use "
                        f"create_async_engine or a sync driver",
                        source.path,
                        call.line,
                        service=service.name,
                        related=related,
                        key=f"engine:{call.factory}:{driver}",
                    )
                elif url.driver is None:
                    problem = self._missing(service, driver, drivers)
                    if problem:
                        yield self.finding(
                            f"{call.factory} with a plain {url.scheme}:// URL uses the {driver} "
                            f"driver, but {problem}",
                            source.path,
                            call.line,
                            service=service.name,
                            related=related,
                            key=f"engine:{call.factory}:{driver}",
                        )
