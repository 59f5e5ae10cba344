from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.facts.requirement_sets import requirements_index
from passmuster.scanner.facts.tables import table
from passmuster.scanner.rule import Rule, reported_once


class ConflictingDrivers(Rule):
    """## What it does
    Flags a shared requirements file that installs more than one driver for the same database,
    such as `asyncpg` with `psycopg2-binary`, or `psycopg2` with `psycopg2-binary`.

    ## Why is this bad?
    Every service including the file inherits every driver: sync services pull in async drivers
    they never use, images need the build tools of all of them (`pg_config executable not
    found`), and `psycopg2` with `psycopg2-binary` install the same module twice over each
    other. Which driver a service uses is the service's decision.

    ## Example
    ```text
    # requirements.shared.txt
    fastapi==0.116.1
    asyncpg==0.29.0
    psycopg2-binary==2.9.9
    ```

    ## How to fix
    Remove database drivers from the shared file and list the one each service uses in that
    service's own requirements (`asyncpg==0.29.0` for the async identity service,
    `psycopg2-binary` for the others).

    ## Configuration
    The driver families are listed under `[conflicts]` in the shipped
    `passmuster/scanner/data/databases.toml`.
    """

    code = "REQ004"
    name = "conflicting-database-drivers"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        families: dict[str, list[str]] = table("databases")["conflicts"]
        index = requirements_index(platform)
        for file in index.shared:
            users = index.users.get(file.path, [])
            by_name = {r.name: r for r in file.requirements}
            for database, drivers in sorted(families.items()):
                present = [by_name[d] for d in drivers if d in by_name]
                if len(present) < 2:
                    continue
                present.sort(key=lambda r: r.line)
                first, *rest = present
                names = " and ".join(r.name for r in present)
                used_by = ", ".join(s.name for s in users[:5]) or "no service yet"
                yield self.finding(
                    f"shared file installs {names}, {len(present)} {database} drivers, for "
                    f"every service that includes it ({used_by})",
                    file.path,
                    rest[0].line,
                    service=users[0].name if len(users) == 1 else None,
                    related=[Location(file.path, first.line, message=f"{first.name} also here")],
                    key=f"{database}:{','.join(sorted(r.name for r in present))}",
                )
