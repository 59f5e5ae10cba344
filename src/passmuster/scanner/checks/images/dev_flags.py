from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatch
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.commands import instruction_command, read_server
from passmuster.scanner.context.model import Command, Platform, ServiceDef
from passmuster.scanner.facts.development import in_development_setup
from passmuster.scanner.facts.paths import is_under
from passmuster.scanner.rule import Rule, also_at, reported_once


class DevFlagInProduction(Rule):
    """## What it does
    Flags development switches in a production command: `--reload`, `--reload-dir`,
    `--debug`, `flask run --debug`, `fastapi dev`, in a Dockerfile `CMD`/`ENTRYPOINT` or a
    compose `command:`. Compose files and Dockerfiles named for development
    (`docker-compose.dev.yml`, `docker-compose.override.yml`, `*.local.*`, `Dockerfile.dev`)
    are skipped, and so is a compose command of a service whose source is bind-mounted into
    the container (the development loop). One finding per switch lists every place.

    ## Why is this bad?
    The reloader watches the file system and restarts workers on changes, runs a single
    process, and `--debug` serves tracebacks (and with Werkzeug an interactive console) to
    anyone who can reach the port.

    ## Example
    ```dockerfile
    CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--reload"]
    ```

    ## How to fix
    Drop the flag from the image and add it in a development override
    (`docker-compose.override.yml`: `command: uvicorn app.main:app --reload …`).

    ## Configuration
    ```toml
    [scan.options.IMG004]
    dev-files = ["*/compose/docker-compose.ci.yml"]   # more files to treat as development
    ```
    """

    code = "IMG004"
    name = "dev-flag-in-production"
    severity = Severity.MEDIUM
    fix = Fix.NONE
    default_options: ClassVar[Mapping[str, Any]] = {"dev_files": []}

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        patterns: list[str] = list(self.options["dev_files"])
        # One finding per switch: the same `--reload` in six Dockerfiles is one habit.
        places: dict[str, list[tuple[ServiceDef, Command, str]]] = {}
        seen: set[tuple[str, int | None]] = set()
        for service in platform.every_service():
            commands: list[Command] = []
            if not _mounts_its_source(service):
                # A compose command on a bind-mounted source is a development loop.
                commands += [c for c in (service.command, service.entrypoint) if c]
            if service.dockerfile is not None:
                for keyword in ("CMD", "ENTRYPOINT"):
                    found = service.dockerfile.last(keyword)
                    if found is not None:
                        commands.append(
                            instruction_command(found, service.dockerfile.path, "dockerfile")
                        )
            for command in commands:
                if in_development_setup(platform, service, command.path) or any(
                    fnmatch(command.path, p) for p in patterns
                ):
                    continue
                if (command.path, command.line) in seen:
                    continue
                parsed = read_server(command.argv)
                if parsed is None or not parsed.dev_flags:
                    continue
                seen.add((command.path, command.line))
                flags = ", ".join(parsed.dev_flags)
                places.setdefault(flags, []).append((service, command, parsed.server))
        for flags, where in places.items():
            (service, command, server), *rest = where
            also = f" (and {len(rest)} more: {', '.join(c.path for _, c, _ in rest[:4])})"
            yield self.finding(
                f"{server} runs with {flags} in a production command{also if rest else ''}",
                command.path,
                command.line,
                service=service.name,
                related=also_at(((s, c) for s, c, _ in rest), f"{flags} again"),
                key=flags,
            )


def _mounts_its_source(service: ServiceDef) -> bool:
    """Whether compose bind-mounts the service's build context (or a folder in it) into the
    container: the code is edited on the host and reloaded."""
    context = service.build_context
    if context is None:
        return False
    return any(
        v.type == "bind"
        and v.resolved is not None
        and (is_under(v.resolved, context) or is_under(context, v.resolved))
        and not v.read_only
        for v in service.volumes
    )
