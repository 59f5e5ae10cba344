from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.context.urls import find_urls
from passmuster.scanner.facts.environment import env_values
from passmuster.scanner.rule import Rule, reported_once

_QUEUES = re.compile(r"(?:^|\s)(?:-Q|--queues)(?:=|\s+)?([^\s\"']+)")
_EXCLUDES = re.compile(r"(?:^|\s)(?:-X|--exclude-queues)\b")
# Settings that send an app's tasks to, or make its worker consume, other queues than
# `celery`: with them the default queue cannot be told from the command line.
_QUEUE_SETTINGS = ("task_default_queue", "task_queues", "task_routes", "CELERY_TASK_DEFAULT_QUEUE")
_DEFAULT_QUEUE = "celery"


@dataclass(frozen=True, slots=True)
class _Worker:
    service: ServiceDef
    app: str  # the `-A` target
    broker: str  # scheme://host:port/db-or-vhost, the broker's service name as host
    queues: frozenset[str]


def _app_key(service: ServiceDef) -> str:
    """What tells two Celery apps apart: the code they are built from and the `-A` target."""
    entry = service.entry
    assert entry is not None
    return f"{service.build_context or service.image}:{entry.target}"


class SharedCeleryQueue(Rule):
    """## What it does
    Flags two Celery workers of one compose project that run different Celery apps (another
    code base, or another `-A` app) on the same broker (same host, port and Redis database
    or RabbitMQ virtual host, read from their `*BROKER*` variable) and consume a common
    queue: the same `-Q` name, or both the default `celery` queue. Workers that exclude
    queues (`-X`), and apps whose code configures queues or routes (`task_default_queue`,
    `task_routes`, `task_queues`), are not judged without an explicit `-Q` on both.

    ## Why is this bad?
    A queue is a mailbox, not an app: each worker takes the other app's messages as well as
    its own, logs `Received unregistered task of type '…'` and drops them. Tasks (and beat's
    periodic jobs) go missing at random, about half of them, with nothing failing loudly.

    ## Example
    ```yaml
    x-env: &env
      CELERY_BROKER_URL: redis://redis:6379/0
    services:
      ai-worker:
        build: ./services/ai
        command: celery -A app.tasks.celery_app worker
        environment: *env
      mail-worker:
        build: ./services/mail
        command: celery -A app.tasks.celery_app worker
        environment: *env
    ```

    ## How to fix
    Give each app its own queue (`task_default_queue = "ai"` in its configuration, and
    `-Q ai` on its worker), or its own Redis database (`redis://redis:6379/1`) or virtual
    host.
    """

    code = "CODE007"
    name = "shared-celery-queue"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for project in platform.projects:
            workers = [
                worker
                for service in platform.project_services(project.name)
                if (worker := _worker(platform, service)) is not None
            ]
            reported: set[tuple[str, str]] = set()
            for index, first in enumerate(workers):
                for second in workers[index + 1 :]:
                    if first.broker != second.broker or first.app == second.app:
                        continue
                    pair = (first.app, second.app)
                    common = sorted(first.queues & second.queues)
                    if not common or pair in reported:
                        continue
                    reported.add(pair)
                    yield self._finding(first, second, common)

    def _finding(self, first: _Worker, second: _Worker, common: list[str]) -> Finding:
        where = first.service.entry
        other = second.service.entry
        assert where is not None and other is not None
        queues = ", ".join(repr(q) for q in common)
        return self.finding(
            f"{first.service.name} and {second.service.name} run different Celery apps "
            f"({where.target}, {other.target}) on one broker ({first.broker}) and both consume "
            f"queue {queues}: each worker receives the other app's tasks and drops them as "
            f"unregistered",
            where.path,
            where.line,
            service=first.service.name,
            related=[
                Location(
                    other.path, other.line, message="the other worker", service=second.service.name
                )
            ],
            key=f"{first.app}|{second.app}",
        )


def _worker(platform: Platform, service: ServiceDef) -> _Worker | None:
    entry = service.entry
    if entry is None or entry.server != "celery" or entry.subcommand != "worker":
        return None
    if entry.target is None:
        return None
    command = " ".join(
        part.raw for part in (service.entrypoint, service.command) if part is not None
    )
    if _EXCLUDES.search(command):
        return None
    named = _QUEUES.search(command)
    if named is not None:
        queues = frozenset(q for q in named.group(1).split(",") if q)
    elif _configures_queues(platform, service):
        return None
    else:
        queues = frozenset({_DEFAULT_QUEUE})
    broker = _broker(service)
    if broker is None:
        return None
    return _Worker(service, _app_key(service), broker, queues)


def _broker(service: ServiceDef) -> str | None:
    """The broker the worker's environment names, normalised; None when it names none or
    several different ones."""
    found: set[str] = set()
    for name, value, _ in env_values(service):
        if "BROKER" not in name.upper():
            continue
        for url in find_urls(value):
            if url.scheme not in ("redis", "rediss", "amqp", "amqps", "pyamqp"):
                continue
            rest = value[url.start :].split("://", 1)[1]
            path = re.split(r"[\s'\"?]", rest, maxsplit=1)[0].partition("/")[2]
            default = "0" if url.scheme.startswith("redis") else "/"
            found.add(f"{url.scheme}://{url.host}:{url.port}/{path.strip('/') or default}")
    return found.pop() if len(found) == 1 else None


def _configures_queues(platform: Platform, service: ServiceDef) -> bool:
    for path in service.python_files:
        source = platform.python.get(path)
        if source is not None and any(word in source.text for word in _QUEUE_SETTINGS):
            return True
    return any(
        any(word.upper() in name.upper() for word in _QUEUE_SETTINGS)
        for name, _, _ in env_values(service)
    )
