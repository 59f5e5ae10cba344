from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, ServiceDef, Where
from passmuster.scanner.context.urls import find_urls
from passmuster.scanner.facts.environment import env_values
from passmuster.scanner.facts.paths import is_test_setup
from passmuster.scanner.rule import Rule, reported_once

_DATABASE_VARS = ("POSTGRES_DB", "MYSQL_DATABASE", "MARIADB_DATABASE", "MONGO_INITDB_DATABASE")
_USER_VARS = ("POSTGRES_USER", "MYSQL_USER", "MARIADB_USER", "MONGO_INITDB_ROOT_USERNAME")


class ComposeFilesDisagree(Rule):
    """## What it does
    Flags a service that compose files of one repository (separate projects, such as
    `docker-compose.yml` and `docker-compose.prod.yml`) define differently where they must
    agree: the port its server listens on, the database it creates or connects to
    (`POSTGRES_DB`, the database in a `DATABASE_URL`), or the user it creates or logs in as.
    Values taken from variables (`${POSTGRES_DB}`) are not compared: they are meant to vary,
    and neither are compose files for test runs (`tests/e2e/docker-compose.yml`,
    `docker-compose.test.yml`), whose databases are deliberately their own.

    ## Why is this bad?
    Both files describe one service built from the same code. When they disagree, the data,
    migrations and URLs prepared against one file fail against the other: a production
    deploy creates an empty `app_prod` database while the services connect to `app`, or
    the gateway's URLs point at the port the other file uses.

    ## Example
    ```yaml
    # docker-compose.yml
    services:
      db:
        image: postgres:16
        environment: {POSTGRES_DB: shop}
    # docker-compose.prod.yml
    services:
      db:
        image: postgres:16
        environment: {POSTGRES_DB: shop_prod}
    ```

    ## How to fix
    Make the files agree, or take the value from a variable both files use.
    """

    code = "REF004"
    name = "compose-files-disagree"
    severity = Severity.MEDIUM
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        definitions: dict[str, list[ServiceDef]] = defaultdict(list)
        for service in platform.services:
            if service.path.startswith("passmuster.toml"):
                continue
            if is_test_setup(service.path):
                continue  # a test run's own database and user, deliberately apart
            if all(other.path != service.path for other in definitions[service.name]):
                definitions[service.name].append(service)
        for name, defined in sorted(definitions.items()):
            if len(defined) < 2:
                continue
            first = defined[0]
            for other in defined[1:]:
                yield from self._compare(name, first, other)

    def _compare(self, name: str, first: ServiceDef, other: ServiceDef) -> Iterator[Finding]:
        for aspect, ours, theirs in (
            ("listens on port", _port(first), _port(other)),
            ("uses database", _database(first), _database(other)),
            ("uses database user", _user(first), _user(other)),
        ):
            if ours is None or theirs is None or ours[0] == theirs[0]:
                continue
            value, where = theirs
            first_value, first_where = ours
            yield self.finding(
                f"{name} {aspect} {value} in {other.path} but {first_value} in {first.path}",
                where.path,
                where.line,
                service=name,
                related=[
                    Location(
                        first_where.path,
                        first_where.line,
                        message=f"{aspect} {first_value}",
                        service=name,
                    )
                ],
                key=f"{aspect}:{first.path}",
            )


def _port(service: ServiceDef) -> tuple[str, Where] | None:
    entry = service.entry
    if entry is None or entry.port is None or entry.port_text is None:
        return None
    if not entry.path.startswith(tuple(service.files)) or "$" in entry.port_text:
        return None  # the image's own command: the same for both files
    return str(entry.port), Where(entry.path, entry.line)


def _database(service: ServiceDef) -> tuple[str, Where] | None:
    return _value(service, _DATABASE_VARS, lambda url: url.partition("/")[2].split("?")[0])


def _user(service: ServiceDef) -> tuple[str, Where] | None:
    return _value(service, _USER_VARS, lambda url: url.rpartition("@")[0].partition(":")[0])


def _value(
    service: ServiceDef, names: tuple[str, ...], from_url: Callable[[str], str]
) -> tuple[str, Where] | None:
    """A literal value the service's compose definition sets for one of `names`, or reads
    from its database URL."""
    for name, value, var in env_values(service):
        if var.template is not None or var.origin == "dockerfile" or not value:
            continue
        if name in names:
            return value, Where(var.path, var.line)
    for name, value, var in env_values(service):
        if var.template is not None or not name.endswith(("DATABASE_URL", "DB_URL")):
            continue
        for url in find_urls(value):
            if url.scheme in ("postgresql", "postgres", "mysql", "mariadb", "mongodb"):
                rest = value.split("://", 1)[1]
                found = from_url(rest)
                if found:
                    return found, Where(var.path, var.line)
    return None
