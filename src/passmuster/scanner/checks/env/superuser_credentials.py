from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.images import parse_image
from passmuster.scanner.context.interpolate import variables_in
from passmuster.scanner.context.model import EnvVar, Platform, ServiceDef
from passmuster.scanner.context.urls import find_urls
from passmuster.scanner.facts.code import env_reads, reachable_files
from passmuster.scanner.facts.development import in_development_setup
from passmuster.scanner.facts.environment import env_values, logins_and_server
from passmuster.scanner.rule import Rule, reported_once

# How database images set their superuser: (variable naming the user or None, the user when
# that variable is unset, the variable holding the password). MySQL's MYSQL_USER is an
# ordinary user; its superuser is always root.
_SUPERUSERS = (
    ("POSTGRES_USER", "postgres", "POSTGRES_PASSWORD"),
    (None, "root", "MYSQL_ROOT_PASSWORD"),
    (None, "root", "MARIADB_ROOT_PASSWORD"),
    ("MONGO_INITDB_ROOT_USERNAME", "root", "MONGO_INITDB_ROOT_PASSWORD"),
)
_ROOT_ONLY = ("MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD", "MONGO_INITDB_ROOT_PASSWORD")
# Variables that create an ordinary user beside the superuser: a service should log in as it.
_ORDINARY_USER_VARS = ("MYSQL_USER", "MARIADB_USER")
# Where a service that logs in with separate variables says which database it uses.
# A password variable a service logs in to a database with names it as such (DB_PASSWORD,
# DATABASE_PASSWORD, PGPASSWORD, POSTGRES_PASSWORD, SQL_PASSWORD …).
_DATABASE_WORD = re.compile(r"DB|DATABASE|POSTGRES|^PG|SQL|MONGO|MARIADB", re.IGNORECASE)
_DATABASE_NAME_VARS = ("POSTGRES_DB", "DB_NAME", "DATABASE_NAME", "MYSQL_DATABASE", "PGDATABASE")


class SuperuserCredentials(Rule):
    """## What it does
    Flags services that are not databases but log in as a database server's superuser (the
    `postgres` user, the server's `POSTGRES_USER`, MySQL's `root`) where that reaches beyond
    their own data: when the services using the superuser work in different databases of
    that server (each could read and drop the others'), or when a service is handed the
    superuser password variable the server is initialised with (`POSTGRES_PASSWORD`,
    `MYSQL_ROOT_PASSWORD`, `MONGO_INITDB_ROOT_PASSWORD`) for administrative work.

    Credentials are compared by value and by the variable behind them: a worker given
    `${POSTGRES_PASSWORD}`, the variable the database uses, has the superuser password
    whether or not a default is set. One finding per database server lists every service.

    Also flagged: a service using the superuser although the server creates an ordinary user
    for it (`MYSQL_USER`).

    Not reported: one application database used by all its services through its single
    owner role, a database per service (each service the only user of its own server),
    development compose files (`docker-compose.dev.yml`, `*.override.yml`, …), and a
    superuser password that reaches a service only inside an env file handed to every
    service (`env_file: .env`) when the service's code never reads it, and database consoles
    a person administers the server with (phpMyAdmin, Adminer, pgAdmin, mongo-express).

    ## Why is this bad?
    The superuser can create and drop every database and role and read all tenants' data. A
    bug or a compromised dependency in one service (often a worker running user-supplied
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
    Create a role with only what each service needs (`CREATE ROLE instance_db_manager
    CREATEDB LOGIN …`, or one owner role per service database) in an init script, and give
    each service its own role's credentials.
    """

    code = "ENV006"
    name = "superuser-credentials"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for members in platform.services_by_project():
            database_hosts = {h for s in members if s.is_database for h in s.hostnames}
            for db in (s for s in members if s.is_database):
                superuser = _superuser(db)
                if superuser is None:
                    continue
                clients = [
                    use
                    for service in members
                    if not service.is_database and not _admin_console(service)
                    for use in _uses(platform, service, db, superuser, database_hosts)
                ]
                if not clients:
                    continue
                # One database per client service: the one its URL names, else its own
                # POSTGRES_DB; a stale name beside the URL is not a second database.
                by_service: dict[str, str | None] = {}
                for use in clients:
                    if not use.from_password or by_service.get(use.service.name) is None:
                        by_service[use.service.name] = use.database
                databases = set(by_service.values())
                ordinary = any(db.env.get(name) for name in _ORDINARY_USER_VARS)
                shared = _others_use(members, db, superuser, {u.service.name for u in clients})
                if len(databases) < 2 and not ordinary and not shared:
                    continue  # one application database, owned by its single role
                administrative = any(use.admin_variable for use in clients)
                yield self._finding(db, superuser, clients, databases, bool(administrative))

    def _finding(
        self,
        db: ServiceDef,
        superuser: _Superuser,
        clients: list[_Use],
        databases: set[str | None],
        administrative: bool,
    ) -> Finding:
        first, *rest = clients
        names = list(dict.fromkeys(use.service.name for use in clients))
        variables = ", ".join(dict.fromkeys(use.var.name for use in clients))
        named = sorted(d for d in databases if d)
        why = (
            f"to databases {', '.join(named)}: each can read and drop the others' data"
            if len(databases) > 1 and named
            else "with the password the server is initialised with"
        )
        if administrative and len(databases) < 2:
            why = f"with the password the server is initialised with ({variables})"
        return self.finding(
            f"{', '.join(names)} log{'s' if len(names) == 1 else ''} in to {db.name} as its "
            f"superuser {superuser.login!r} {why}; give each service a role with only the "
            f"privileges it needs",
            first.var.path,
            first.var.line,
            service=first.service.name,
            related=logins_and_server(((u.service, u.var) for u in rest), db),
            key=db.name,
        )


@dataclass(frozen=True, slots=True)
class _Superuser:
    login: str
    password: str | None  # the value, when known
    password_variables: frozenset[str]  # variables the server's password comes from
    password_name: str  # POSTGRES_PASSWORD, MYSQL_ROOT_PASSWORD, …


@dataclass(frozen=True, slots=True)
class _Use:
    service: ServiceDef
    var: EnvVar
    database: str | None
    admin_variable: bool  # handed the server's own superuser password variable
    from_password: bool = False  # found by its password (the database is then a guess)


def _superuser(db: ServiceDef) -> _Superuser | None:
    for user_var, default_user, password_var in _SUPERUSERS:
        user_env = db.env.get(user_var) if user_var else None
        password_env = db.env.get(password_var)
        if user_env is None and password_env is None:
            continue
        login = user_env.value if user_env is not None and user_env.value else default_user
        template = password_env.template if password_env is not None else None
        variables = frozenset(use.name for use in variables_in(template or ""))
        return _Superuser(
            login,
            password_env.value if password_env is not None else None,
            variables,
            password_var,
        )
    return None


def _uses(
    platform: Platform,
    service: ServiceDef,
    db: ServiceDef,
    superuser: _Superuser,
    database_hosts: set[str],
) -> list[_Use]:
    """Where a service gets the server's superuser credentials (outside development files)."""
    env = {name: value for name, value, _ in env_values(service)}
    own_database = next((env[n] for n in _DATABASE_NAME_VARS if env.get(n)), None)
    # A service whose environment names another database server of the project
    # (`DB_HOST: user-db`) logs in there: a password equal to this server's is a
    # coincidence of defaults (every server initialised with `admin`), no login to it.
    addressed = _addressed_hosts(env) & database_hosts
    elsewhere = bool(addressed) and not addressed & db.hostnames
    found: list[_Use] = []
    for name, value, var in env_values(service):
        if in_development_setup(platform, service, var.path):
            continue
        for url in find_urls(value):
            if url.host in db.hostnames and url.user == superuser.login:
                found.append(_Use(service, var, _database_of(value), False))
                break
        else:
            if not name.endswith("PASSWORD") or elsewhere:
                continue
            same_value = bool(superuser.password) and value == superuser.password
            same_variable = bool(superuser.password_variables) and any(
                use.name in superuser.password_variables for use in variables_in(var.template or "")
            )
            admin = name == superuser.password_name
            if same_value and not same_variable and not admin and _as_ordinary_user(name, env, db):
                continue  # the ordinary user's password, which happens to equal root's
            if same_value and not same_variable and not admin and not _DATABASE_WORD.search(name):
                # MINIO_ROOT_PASSWORD, RABBITMQ_DEFAULT_PASS: the service's own credentials,
                # which happen to equal the database's, are no login to it.
                continue
            if same_value or same_variable or (admin and name in _ROOT_ONLY):
                if var.origin == "env_file" and not _reads(platform, service, name):
                    # One .env handed to every service carries the root password along;
                    # a service whose code never reads it does not log in with it.
                    continue
                found.append(_Use(service, var, own_database, admin, from_password=True))
    return found


# Consoles a person administers database servers with: holding the server's superuser
# password is their purpose (and phpMyAdmin ignores MYSQL_ROOT_PASSWORD; the person logs in).
_ADMIN_CONSOLES = frozenset(
    {
        "phpmyadmin",
        "phpmyadmin/phpmyadmin",
        "bitnami/phpmyadmin",
        "adminer",
        "dpage/pgadmin4",
        "mongo-express",
        "dbeaver/cloudbeaver",
        "sosedoff/pgweb",
    }
)


def _admin_console(service: ServiceDef) -> bool:
    if service.image is None:
        return False
    return parse_image(service.image).repository.removeprefix("library/") in _ADMIN_CONSOLES


def _addressed_hosts(env: dict[str, str]) -> set[str]:
    """Hosts the environment points at: URL hosts and `*_HOST` values."""
    hosts = {url.host for value in env.values() for url in find_urls(value)}
    hosts |= {v.lower() for n, v in env.items() if n.endswith("HOST") and v}
    return hosts


def _reads(platform: Platform, service: ServiceDef, variable: str) -> bool:
    """Whether the service's code reads `variable` (True when its code is unknown)."""
    files = reachable_files(platform, service)
    if files is None:
        return True
    return any(read.name == variable for read in env_reads(platform, files, import_time=False))


def _as_ordinary_user(password_name: str, env: dict[str, str], db: ServiceDef) -> bool:
    """Whether the password sits beside a user variable naming the server's ordinary user
    (`MYSQL_USER=nextcloud` with `MYSQL_PASSWORD`, as the database's own MYSQL_USER)."""
    ordinary = {v.value for n in _ORDINARY_USER_VARS if (v := db.env.get(n)) and v.value}
    prefix = password_name.removesuffix("PASSWORD")
    user = env.get(f"{prefix}USER") or env.get(f"{prefix}USERNAME")
    return user is not None and user in ordinary


def _others_use(
    members: list[ServiceDef], db: ServiceDef, superuser: _Superuser, clients: set[str]
) -> bool:
    """Whether services besides the superuser's clients keep data on the server: they
    connect to it as another user (their own database beside the superuser's)."""
    for service in members:
        if service.is_database or service.name in clients:
            continue
        for _, value, _ in env_values(service):
            for url in find_urls(value):
                if url.host in db.hostnames and url.user and url.user != superuser.login:
                    return True
    return False


def _database_of(url_text: str) -> str | None:
    """The database a URL names (`app` in `postgresql://u:p@db:5432/app?x=1`)."""
    rest = url_text.split("://", 1)[1] if "://" in url_text else ""
    path = rest.partition("/")[2]
    name = path.split("?", 1)[0].strip("/")
    return name or None
