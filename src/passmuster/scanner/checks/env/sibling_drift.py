from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.images import parse_image
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.facts.code import env_reads, reachable_files, reads_setting
from passmuster.scanner.rule import Rule, reported_once

# Roles that import the app but run none of its tasks or routes.
_IMPORT_ONLY_ROLES = frozenset({"beat", "flower", "events", "inspect"})


class SiblingEnvDrift(Rule):
    """## What it does
    Flags a service that lacks environment variables its siblings set and that the code it
    runs needs. Siblings are services of one compose project built from the same build
    context and Dockerfile, or running the same image of the platform's own
    (`acme/instances:1`; official images such as `postgres` are left alone), such as an API
    and its Celery worker.

    A variable is needed when the code the service runs reads it without a fallback
    (`os.environ["X"]`, `os.getenv("X")`, a settings field without default, a library such
    as `docker.from_env()` reading `DOCKER_HOST`), or with a fallback other than the
    sibling's value. "The code it runs" is what its entry module imports (an API's
    `app.main`, a worker's `celery -A app.worker`); a Celery beat or Flower only imports
    the app, so only what runs at import counts for them. Several roles of one image
    (web, worker, beat, dashboard) differ in their environments by design; only what a role
    really reads is reported. One finding per service lists every variable it lacks.

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
        command: celery -A app.worker worker   # app/worker.py calls docker.from_env()
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

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
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
                needs, fields = _needs(platform, member)
                if needs is None:
                    continue  # what the service runs is unknown: nothing to judge by
                if member.environment_unknown:
                    continue  # its own env file, kept out of the repository, may set them
                own = {n for n, v in member.env.items() if v.origin != "dockerfile"}
                lacking: list[tuple[str, ServiceDef]] = []
                for name, sibling in sorted(setters.items()):
                    if name in own or name in member.documented_env:
                        continue
                    if sibling is member or name not in needs:
                        continue
                    field = fields.get(name)
                    if field is not None and not reads_setting(platform, member, field):
                        continue  # a settings field only the sibling's code reads
                    if any(fnmatchcase(name, pattern) for pattern in ignored):
                        continue
                    fallback = needs[name]
                    if fallback is not None and fallback == sibling.env[name].value:
                        continue  # the fallback is what the sibling sets
                    lacking.append((name, sibling))
                if lacking:
                    yield self._finding(member, lacking)

    def _finding(self, member: ServiceDef, lacking: list[tuple[str, ServiceDef]]) -> Finding:
        names = [name for name, _ in lacking]
        siblings = ", ".join(dict.fromkeys(s.name for _, s in lacking))
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        return self.finding(
            f"{member.name} lacks {shown}, which its sibling{'s' if ',' in siblings else ''} "
            f"{siblings} (same build) set{'' if ',' in siblings else 's'} and its code reads",
            member.path,
            member.line,
            service=member.name,
            related=[
                Location(
                    sibling.env[name].path,
                    sibling.env[name].line,
                    message=f"sets {name}",
                    service=sibling.name,
                )
                for name, sibling in lacking
            ],
            key=",".join(names),
        )


def _needs(
    platform: Platform, service: ServiceDef
) -> tuple[dict[str, str | None] | None, dict[str, str]]:
    """Variables the service's code reads and the fallback it has for each (None: none, or
    not a constant), None when the code it runs is unknown; and for the variables read as
    settings fields, the field each is (read only where code uses the field)."""
    fields: dict[str, str] = {}
    files = reachable_files(platform, service)
    if files is None:
        return None, fields
    entry = service.entry
    import_only = entry is not None and entry.subcommand in _IMPORT_ONLY_ROLES
    needs: dict[str, str | None] = {}
    direct: set[str] = set()
    for read in env_reads(platform, files, import_time=import_only):
        fallback = read.default if read.has_default else None
        if read.has_default and read.default is None:
            continue  # a fallback that is not a constant: assume it serves
        if read.name not in needs or fallback is None:
            needs[read.name] = fallback
        if read.field is not None:
            fields.setdefault(read.name, read.field)
        else:
            direct.add(read.name)
    return needs, {n: f for n, f in fields.items() if n not in direct}
