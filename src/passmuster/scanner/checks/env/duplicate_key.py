from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.rule import Rule, reported_once


class DuplicateEnvKey(Rule):
    """## What it does
    Flags a key defined twice in one env file (`.env`, `.env.example`, an `env_file`).

    ## Why is this bad?
    The last definition wins silently, so editing the first one (usually the one near the
    top, where people look) changes nothing; the two values often differ.

    ## Example
    ```text
    DATABASE_URL=postgresql+asyncpg://app:pw@postgres:5432/app
    REDIS_URL=redis://redis:6379/0
    DATABASE_URL=postgresql://app:pw@localhost:5432/app
    ```

    ## How to fix
    Keep one definition per key.
    """

    code = "ENV002"
    name = "duplicate-env-key"
    severity = Severity.MEDIUM
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        owners: dict[str, str] = {}
        for service in platform.services:
            for file, _, _ in service.env_files:
                owners.setdefault(file, service.name)
        for path, env_file in sorted(platform.env_files.items()):
            first: dict[str, int] = {}
            for entry in env_file.entries:
                if entry.key not in first:
                    first[entry.key] = entry.line
                    continue
                yield self.finding(
                    f"{entry.key} is defined again; the earlier value on line "
                    f"{first[entry.key]} is ignored",
                    path,
                    entry.line,
                    service=owners.get(path),
                    related=[Location(path, first[entry.key], message="first definition")],
                    key=entry.key,
                )
