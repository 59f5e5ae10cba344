from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import EnvVar, Platform, ServiceDef
from passmuster.scanner.context.urls import find_urls
from passmuster.scanner.facts.environment import env_values
from passmuster.scanner.rule import Rule, unique

# How database images set their superuser: (variable naming the user or None, the user when
# that variable is unset, the variable holding the password). MySQL's MYSQL_USER is an
# ordinary user; its superuser is always root.
_SUPERUSERS = (
    ("POSTGRES_USER", "postgres", "POSTGRES_PASSWORD"),
    (None, "root", "MYSQL_ROOT_PASSWORD"),
    (None, "root", "MARIADB_ROOT_PASSWORD"),
    ("MONGO_INITDB_ROOT_USERNAME", "root", "MONGO_INITDB_ROOT_PASSWORD"),
)
_USER_VARS = frozenset(user for user, _, _ in _SUPERUSERS if user)
_ROOT_ONLY = ("MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD", "MONGO_INITDB_ROOT_PASSWORD")


class SuperuserCredentials(Rule):
    """## What it does
    Flags a service that is not a database but receives the database's superuser
    credentials: the `POSTGRES_PASSWORD` (or `MYSQL_ROOT_PASSWORD`, `MONGO_INITDB_ROOT_*`)
    the database container is initialised with, or a database URL that logs in as the
    superuser (`postgres`, or the database service's `POSTGRES_USER`).

    ## Why is this bad?
    The superuser can create and drop every database and role and read all tenants' data. A
    bug or a compromised dependency in that service (often a worker running user-supplied
    jobs) owns the whole database server (seed log #008: the instance worker got the admin
    credentials to run `CREATE DATABASE`).

    ## Example
    ```yaml
    services:
      postgres:
        image: postgres:16
        environment: {POSTGRES_USER: odoo_user, POSTGRES_PASSWORD: "${POSTGRES_PASSWORD}"}
      instances-worker:
        environment:
          POSTGRES_USER: ${POSTGRES_USER:-odoo_user}
          POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
    ```

    ## How to fix
    Create a role with only what the service needs (`CREATE ROLE instance_db_manager
    CREATEDB LOGIN …`) in an init script, and give the service that role's credentials.
    """

    code = "ENV006"
    name = "superuser-credentials"
    severity = Severity.HIGH
    fix = Fix.NONE

    def check(self, platform: Platform) -> Iterator[Finding]:
        return unique(self._check(platform))

    def _check(self, platform: Platform) -> Iterator[Finding]:
        everyone = platform.unique_services()
        databases = [s for s in everyone if s.is_database]
        if not databases:
            return
        hosts = {host: db for db in databases for host in db.hostnames}
        superusers: dict[str, tuple[ServiceDef, str, str | None]] = {}
        for db in databases:
            for user_var, default_user, password_var in _SUPERUSERS:
                user_env = db.env.get(user_var) if user_var else None
                password_env = db.env.get(password_var)
                if user_env is None and password_env is None:
                    continue
                login = user_env.value if user_env is not None and user_env.value else default_user
                secret = password_env.value if password_env is not None else None
                superusers[db.name] = (db, login, secret)
                break
        for service in everyone:
            if service in databases:
                continue
            hits: dict[str, list[tuple[str, EnvVar]]] = {}
            for name, value, var in env_values(service):
                db_match: ServiceDef | None = None
                for db, user, password in superusers.values():
                    if name in _ROOT_ONLY and name in db.env:
                        db_match = db
                    if name.endswith("PASSWORD") and password and value == password:
                        db_match = db
                    if (
                        name.endswith(("_USER", "_USERNAME"))
                        and value == user
                        and name in _USER_VARS
                    ):
                        db_match = db
                for url in find_urls(value):
                    target = hosts.get(url.host)
                    if (
                        target is not None
                        and target.name in superusers
                        and url.user == superusers[target.name][1]
                    ):
                        db_match = target
                if db_match is not None:
                    hits.setdefault(db_match.name, []).append((name, var))
            for db_name, found in hits.items():
                db = next(d for d in databases if d.name == db_name)
                names = ", ".join(name for name, _ in found)
                first = found[0][1]
                yield self.finding(
                    f"{service.name} gets the superuser credentials of {db.name} ({names}); "
                    f"use a role with only the privileges it needs",
                    first.path,
                    first.line,
                    service=service.name,
                    related=[Location(db.path, db.line, message="the database", service=db.name)],
                    key=db.name,
                )
