from __future__ import annotations

import re
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.facts.code import reachable_files, startup_calls
from passmuster.scanner.facts.references import service_references
from passmuster.scanner.rule import Rule, reported_once

_MIGRATIONS = re.compile(
    r"alembic\s+(-\S+\s+)*upgrade|manage\.py\s+migrate|flask\s+db\s+upgrade|"
    r"prisma\s+migrate|yoyo\s+apply|aerich\s+upgrade"
)
# Calls that connect to a database, cache or broker (the last part of the called name).
_CONNECTS = {
    "database": frozenset(
        {"create_all", "connect", "create_pool", "init_beanie", "create_tables", "run_sync"}
    ),
    "cache": frozenset({"ping"}),
    "broker": frozenset(
        {"BlockingConnection", "connect_robust", "connect", "KafkaProducer", "KafkaConsumer"}
    ),
}
_HTTP_CLIENTS = ("requests.", "httpx.", "client.", "session.")
# A file without any of these makes none of the calls above (read no further).
_WORDS = (
    *{w for ops in _CONNECTS.values() for w in ops},
    *_HTTP_CLIENTS,
    "startup",
    "lifespan",
    "before_first_request",
    "before_serving",
)
_HTTP_CALLS = frozenset({"get", "post", "put", "patch", "request"})


class UndeclaredDependency(Rule):
    """## What it does
    Flags a service that needs another service of its compose project while it starts, but
    does not list it under `depends_on` or `links` (directly, or through a service it
    depends on, which compose starts first).

    "Needs while it starts" is read from the service's own code and command, never run:
    its command runs database migrations (`alembic upgrade head && uvicorn …`,
    `manage.py migrate`), or the code it runs connects at import or in a start-up hook
    (`@app.on_event("startup")`, a `lifespan`, `before_first_request`): `create_all`,
    `engine.connect()`, `create_pool`, `redis.ping()`, `pika.BlockingConnection`, an
    `httpx`/`requests` call to a sibling, also one step into a function of its own
    (`init_db()`). The other service is found by its host in the environment
    (`DATABASE_URL=postgresql://…@db/app`, `REDIS_HOST=redis`) or in a URL in the code.

    A sibling called only while serving requests or running tasks is not reported: start
    order does not matter for it.

    ## Why is this bad?
    Compose starts the two in any order, so the service's start-up connection fails after
    every deploy or restart: migrations abort, `create_all` raises `connection refused`, and
    the container exits or stays up half-initialised.

    ## Example
    ```yaml
    services:
      api:
        build: ./services/api        # main.py: Base.metadata.create_all(bind=engine)
        environment:
          DATABASE_URL: postgresql://api:pw@db:5432/api
        # no depends_on: [db]
      db:
        image: postgres:16
    ```

    ## How to fix
    Add the service to `depends_on`, with `condition: service_healthy` when it has a health
    check (a database accepts connections only once its check passes).
    """

    code = "REF003"
    name = "undeclared-dependency"
    severity = Severity.MEDIUM
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for members in platform.services_by_project():
            by_host = {host: s for s in members for host in s.hostnames}
            by_name = {s.name: s for s in members}
            for service in members:
                started = _started_before(service, by_name)
                evidence: dict[str, tuple[str, str, int | None]] | None = None
                reported: set[str] = set()
                for ref in service_references(platform, service):
                    target = by_host.get(ref.host)
                    if target is None or target is service or target.name in started:
                        continue
                    if target.name in reported:
                        continue
                    if evidence is None:
                        evidence = _startup_evidence(platform, service)
                    kind = _kind_of(target)
                    found = evidence.get(kind)
                    if found is None:
                        continue
                    reported.add(target.name)
                    what, path, line = found
                    yield self.finding(
                        f"{service.name} uses {target.name} ({ref.label}) while it starts "
                        f"({what}) but does not depend on it",
                        ref.path,
                        ref.line,
                        service=service.name,
                        related=[
                            Location(path, line, message=what, service=service.name),
                            Location(
                                target.path,
                                target.line,
                                message="defined here",
                                service=target.name,
                            ),
                        ],
                        key=target.name,
                    )


def _started_before(service: ServiceDef, by_name: dict[str, ServiceDef]) -> set[str]:
    """Every service compose starts before this one: its dependencies, transitively."""
    seen: set[str] = set()
    pending = [d.name for d in service.depends_on]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        other = by_name.get(name)
        if other is not None:
            pending.extend(d.name for d in other.depends_on)
    return seen


def _kind_of(target: ServiceDef) -> str:
    if target.is_database or target.kind == "database":
        return "database"
    if target.kind in ("cache", "broker"):
        return target.kind
    return "service"


def _startup_evidence(
    platform: Platform, service: ServiceDef
) -> dict[str, tuple[str, str, int | None]]:
    """For each kind of target, the first sign that the service connects to one while it
    starts: (what, path, line)."""
    found: dict[str, tuple[str, str, int | None]] = {}
    for command in (service.entrypoint, service.command):
        if command is not None and _MIGRATIONS.search(command.raw):
            found.setdefault(
                "database", ("its command runs migrations", command.path, command.line)
            )
    files = reachable_files(platform, service)
    if files is None:
        return found
    for called, path, line in startup_calls(platform, files, _WORDS):
        last = called.rsplit(".", 1)[-1]
        for kind, operations in _CONNECTS.items():
            if last in operations and kind not in found:
                found[kind] = (f"{called}() at start-up", path, line)
        if called.startswith(_HTTP_CLIENTS) and last in _HTTP_CALLS:
            found.setdefault("service", (f"{called}() at start-up", path, line))
    return found
