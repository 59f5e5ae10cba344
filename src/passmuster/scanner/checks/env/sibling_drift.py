from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.images import parse_image
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.rule import Rule, unique


class SiblingEnvDrift(Rule):
    """## What it does
    Flags a service that lacks an environment variable its siblings set: services of one
    compose project built from the same build context and Dockerfile, or running the same
    image of the platform's own (`acme/instances:1`; official images such as `postgres` are
    left alone), such as an API and its Celery worker.

    ## Why is this bad?
    Siblings run the same code. The worker reaches the code path that needs the variable
    and falls back to a default or fails, while the API works and hides the problem (seed
    log: `instance-worker` lacked the `DOCKER_HOST` its `instance-service` had).

    ## Example
    ```yaml
    services:
      instances:
        build: ./services/instances
        environment:
          DOCKER_HOST: unix:///var/run/docker.sock
      instances-worker:
        build: ./services/instances
        command: celery -A app.worker worker
        # no DOCKER_HOST
    ```

    ## How to fix
    Share the environment through one `env_file` or a YAML anchor
    (`x-instances-env: &instances-env`), or add the variable. Variables that really differ by
    role can be listed in the configuration.

    ## Configuration
    ```toml
    [scan.options.ENV005]
    ignore = ["PORT", "WORKERS", "CELERY_*"]   # glob patterns of names allowed to differ
    ```
    """

    code = "ENV005"
    name = "sibling-env-drift"
    severity = Severity.MEDIUM
    fix = Fix.NONE
    default_options: ClassVar[Mapping[str, Any]] = {
        "ignore": [
            "PORT",
            "HOST",
            "WORKERS",
            "WEB_CONCURRENCY",
            "SERVICE_NAME",
            "SERVICE_ROLE",
            "ROLE",
            "C_FORCE_ROOT",
            "CELERY_*",
            "UVICORN_*",
            "GUNICORN_*",
            # Database images' init variables belong to the database; a service holding them
            # is ENV006's business, and its sibling is right not to.
            "POSTGRES_*",
            "MYSQL_*",
            "MARIADB_*",
            "MONGO_INITDB_*",
        ]
    }

    def check(self, platform: Platform) -> Iterator[Finding]:
        return unique(self._check(platform))

    def _check(self, platform: Platform) -> Iterator[Finding]:
        ignored: list[str] = list(self.options["ignore"])
        families: dict[tuple[str, str], list[ServiceDef]] = defaultdict(list)
        for service in platform.services:
            if service.build_context is not None:
                key = f"build:{service.build_context}:{service.dockerfile_path}"
            elif service.image and not parse_image(service.image).is_official:
                # Official images (postgres, redis) run many differently configured instances;
                # only the platform's own images (`acme/instances:1`) make siblings.
                key = f"image:{service.image}"
            else:
                continue
            families[(service.project, key)].append(service)
        for members in families.values():
            if len(members) < 2:
                continue
            setters: dict[str, ServiceDef] = {}
            for member in members:
                for name, var in member.env.items():
                    if var.origin != "dockerfile":
                        setters.setdefault(name, member)
            for member in members:
                own = {n for n, v in member.env.items() if v.origin != "dockerfile"}
                for name, sibling in sorted(setters.items()):
                    if name in own or sibling is member:
                        continue
                    if any(fnmatchcase(name, pattern) for pattern in ignored):
                        continue
                    var = sibling.env[name]
                    yield self.finding(
                        f"{member.name} lacks {name}, which its sibling {sibling.name} (same "
                        f"build) sets",
                        member.path,
                        member.line,
                        service=member.name,
                        related=[
                            Location(
                                var.path,
                                var.line,
                                message=f"sets {name}",
                                service=sibling.name,
                            )
                        ],
                        key=name,
                    )
