from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.images import parse_image
from passmuster.scanner.context.model import EnvVar, Platform, ServiceDef
from passmuster.scanner.context.urls import find_urls
from passmuster.scanner.facts.environment import env_values, logins_and_server
from passmuster.scanner.rule import Rule, reported_once


@dataclass(frozen=True, slots=True)
class _Server:
    """How an official database image creates its database and login on first start."""

    images: tuple[str, ...]
    schemes: frozenset[str]
    database_vars: tuple[str, ...]
    user_vars: tuple[str, ...]
    default_user: str
    database_defaults_to_user: bool
    builtin_databases: frozenset[str]
    builtin_users: frozenset[str]
    schema_is_database: bool


_POSTGRES = _Server(
    images=("postgres", "postgis/postgis", "pgvector/pgvector", "timescale/timescaledb"),
    schemes=frozenset({"postgres", "postgresql"}),
    database_vars=("POSTGRES_DB",),
    user_vars=("POSTGRES_USER",),
    default_user="postgres",
    database_defaults_to_user=True,
    builtin_databases=frozenset({"postgres", "template0", "template1"}),
    builtin_users=frozenset({"postgres"}),
    schema_is_database=False,
)
_MYSQL = _Server(
    images=("mysql", "mariadb"),
    schemes=frozenset({"mysql", "mariadb"}),
    database_vars=("MYSQL_DATABASE", "MARIADB_DATABASE"),
    user_vars=("MYSQL_USER", "MARIADB_USER"),
    default_user="root",
    database_defaults_to_user=False,
    builtin_databases=frozenset({"mysql", "information_schema", "performance_schema", "sys"}),
    builtin_users=frozenset({"root"}),
    schema_is_database=True,
)
_SERVERS = (_POSTGRES, _MYSQL)

# Where a client that logs in with separate variables names the server, database and user.
_HOST_VARS = ("DATABASE_HOST", "DB_HOST", "POSTGRES_HOST", "PGHOST", "MYSQL_HOST")
_DATABASE_VARS = ("DATABASE_NAME", "DB_NAME", "POSTGRES_DB", "PGDATABASE", "MYSQL_DATABASE")
_USER_VARS = ("DATABASE_USER", "DB_USER", "POSTGRES_USER", "PGUSER", "MYSQL_USER")

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
# MySQL's CREATE SCHEMA is CREATE DATABASE; PostgreSQL's makes a namespace inside one.
_CREATE_DATABASE = re.compile(
    r"\bCREATE\s+DATABASE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`']?([\w$:{}-]+)", re.IGNORECASE
)
_CREATE_SCHEMA = re.compile(
    r"\bCREATE\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`']?([\w$:{}-]+)", re.IGNORECASE
)
_CREATE_USER = re.compile(
    r"\bCREATE\s+(?:ROLE|USER)\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`']?([\w$:{}@-]+)", re.IGNORECASE
)
_CREATE_COMMANDS = re.compile(r"\b(createdb|createuser)\s+(?:-\S+\s+)*[\"']?([\w$:{}-]+)")
_CONNECT = re.compile(r"^\s*\\(?:c|connect)\s+[\"']?([\w-]+)", re.MULTILINE)
# Code or commands that create databases at run time: then the names cannot be told here.
_CREATES_AT_RUN_TIME = ("CREATE DATABASE", "create_database(", "createdb ")


@dataclass(frozen=True, slots=True)
class _Login:
    service: ServiceDef
    var: EnvVar
    database: str | None
    user: str | None


@dataclass(slots=True)
class _Created:
    databases: set[str]
    users: set[str]
    unknown: bool  # a script creates names from variables: what it creates is not known


def _server(db: ServiceDef) -> _Server | None:
    image = parse_image(db.base_image or "").name
    for server in _SERVERS:
        if any(image == name or image.endswith("/" + name) for name in server.images):
            return server
    return None


def _value(db: ServiceDef, names: tuple[str, ...]) -> str | None:
    for name in names:
        var = db.env.get(name)
        if var is not None and var.value is not None:
            return var.value
    return None


def _unknown_setup(db: ServiceDef, server: _Server) -> bool:
    """Whether the server's names come from somewhere this scan cannot see: an env file
    kept out of the repository, or a variable compose left empty or passes from the host."""
    if any(not exists for _, _, exists in db.env_files):
        return True
    for name in (*server.user_vars, *server.database_vars):
        var = db.env.get(name)
        if var is not None and (var.value is None or (not var.value and var.template)):
            return True
    return False


def _script_created(platform: Platform, scripts: list[str], server: _Server) -> _Created:
    created = _Created(set(), set(), unknown=False)
    for path in scripts:
        text = _COMMENT.sub("", platform.texts.get(path, ""))
        if path.endswith(".sh"):
            text = "\n".join(
                line for line in text.splitlines() if not line.lstrip().startswith("#")
            )
        names = [
            *((m, created.databases) for m in _CREATE_DATABASE.findall(text)),
            *(
                (m, created.databases)
                for m in (_CREATE_SCHEMA.findall(text) if server.schema_is_database else ())
            ),
            *((m, created.users) for m in _CREATE_USER.findall(text)),
            *(
                (name, created.databases if tool == "createdb" else created.users)
                for tool, name in _CREATE_COMMANDS.findall(text)
            ),
        ]
        for name, into in names:
            if any(mark in name for mark in "$:{}"):
                created.unknown = True
            into.add(name.lower())
    return created


class DatabaseNeverCreated(Rule):
    """## What it does
    Flags a database or login that services of a compose project use on a PostgreSQL or
    MySQL/MariaDB container of that project, which nothing creates: not the image's own
    variables (`POSTGRES_DB`, `POSTGRES_USER`; `MYSQL_DATABASE`, `MYSQL_USER`), not the
    scripts mounted or copied into `/docker-entrypoint-initdb.d` (`CREATE DATABASE`,
    `CREATE ROLE`/`USER`, `createdb`, `createuser`). Also flags an init script that
    connects (`\\c name`) to a database nothing created before it.

    Names are read from the clients' URLs (`postgresql://shop:…@postgres:5432/orders`) and
    from separate variables (`DB_HOST`, `DB_NAME`, `DB_USER`). Not judged: a server whose
    init scripts cannot all be read or build names from variables, and projects whose code
    or commands create databases at run time (`CREATE DATABASE`, `create_database(`).

    ## Why is this bad?
    The services fail at their first connection with `FATAL: database "orders" does not
    exist` or `role "shop" does not exist`, and an init script that fails stops the
    database container on its first start. The names usually drifted: one file was renamed,
    or the `CREATE DATABASE` lines were left commented out.

    ## Example
    ```yaml
    postgres:
      image: postgres:16
      environment: {POSTGRES_USER: shop, POSTGRES_DB: shop}
    orders:
      environment:
        DATABASE_URL: postgresql://shop:secret@postgres:5432/orders
    ```

    ## How to fix
    Create each database and role the services use in an init script mounted into
    `/docker-entrypoint-initdb.d` (`CREATE DATABASE orders OWNER shop;`), or point the
    services at the database the image creates.
    """

    code = "REF006"
    name = "database-never-created"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for members in platform.services_by_project():
            if _creates_at_run_time(platform, members):
                continue
            for db in members:
                server = _server(db) if db.is_database else None
                if server is None or db.init_scripts is None:
                    continue
                yield from self._judge(platform, db, server, db.init_scripts, members)

    def _judge(
        self,
        platform: Platform,
        db: ServiceDef,
        server: _Server,
        scripts: list[str],
        members: list[ServiceDef],
    ) -> Iterator[Finding]:
        if _unknown_setup(db, server):
            return
        user = _value(db, server.user_vars) or server.default_user
        database = _value(db, server.database_vars)
        if database is None and server.database_defaults_to_user:
            database = user
        if "$" in user or (database and "$" in database):
            return  # a name compose could not resolve
        created = _script_created(platform, scripts, server)
        if created.unknown:
            return
        databases = {*server.builtin_databases, *created.databases}
        if database:
            databases.add(database.lower())
        users = {*server.builtin_users, user.lower(), *created.users}
        logins = [
            login
            for member in members
            if member is not db and not member.is_database
            for login in _logins(member, db, server)
        ]
        # One finding per missing pair: a URL naming an uncreated role and database is one
        # cause (the init script that should create both).
        missing: dict[tuple[str | None, str | None], list[_Login]] = {}
        for login in logins:
            lost_db = (
                login.database
                if login.database and login.database.lower() not in databases
                else None
            )
            lost_user = login.user if login.user and login.user.lower() not in users else None
            if lost_db or lost_user:
                missing.setdefault((lost_db, lost_user), []).append(login)
        created_names = sorted(databases - server.builtin_databases)
        made = f"{db.name} creates {', '.join(created_names) or 'no database of its own'}"
        for (lost_db, lost_user), uses in missing.items():
            first, *rest = uses
            clients = ", ".join(dict.fromkeys(u.service.name for u in uses))
            what = " and ".join(
                part
                for part in (
                    f"database {lost_db!r}" if lost_db else "",
                    f"role {lost_user!r}" if lost_user else "",
                )
                if part
            )
            yield self.finding(
                f"{clients} log{'s' if len(uses) == 1 else ''} in to {db.name} with {what}, "
                f"which nothing creates ({made}; init scripts: {', '.join(scripts) or 'none'}): "
                f"the connection fails",
                first.var.path,
                first.var.line,
                service=first.service.name,
                related=logins_and_server(((u.service, u.var) for u in rest), db),
                key=f"{db.name}:{lost_db}:{lost_user}",
            )
        yield from self._connects(platform, db, scripts, databases)

    def _connects(
        self, platform: Platform, db: ServiceDef, scripts: list[str], databases: set[str]
    ) -> Iterator[Finding]:
        for path in scripts:
            if not path.endswith(".sql"):
                continue
            text = platform.texts.get(path, "")
            for match in _CONNECT.finditer(text):
                name = match.group(1)
                if name.lower() in databases:
                    continue
                line = text.count("\n", 0, match.start(1)) + 1
                yield self.finding(
                    f"{path} connects to database {name!r}, which {db.name} does not create: "
                    f"the init script fails and the database container stops on first start",
                    path,
                    line,
                    service=db.name,
                    key=f"{db.name}:connect:{name}",
                )


def _logins(service: ServiceDef, db: ServiceDef, server: _Server) -> list[_Login]:
    found: list[_Login] = []
    env: dict[str, tuple[str, EnvVar]] = {}
    for name, value, var in env_values(service):
        env[name] = (value, var)
        for url in find_urls(value):
            if url.host in db.hostnames and url.scheme in server.schemes:
                login = url.user if url.user and "$" not in url.user else None
                found.append(_Login(service, var, _database_of(value, url.start), login))
    if found:
        return found
    host = next((env[n] for n in _HOST_VARS if n in env), None)
    if host is None or host[0] not in db.hostnames:
        return []
    database = next((env[n] for n in _DATABASE_VARS if n in env), None)
    user = next((env[n] for n in _USER_VARS if n in env), None)
    result = []
    if database is not None and database[0] and "$" not in database[0]:
        result.append(_Login(service, database[1], database[0], None))
    if user is not None and user[0] and "$" not in user[0]:
        result.append(_Login(service, user[1], None, user[0]))
    return result


def _database_of(text: str, start: int) -> str | None:
    """The database the URL at `start` names (`app` in `postgresql://u:p@db:5432/app?x=1`)."""
    rest = text[start:].split("://", 1)[1]
    path = re.split(r"[\s'\"]", rest, maxsplit=1)[0].partition("/")[2]
    name = path.split("?", 1)[0].strip("/")
    return name if name and "$" not in name else None


def _creates_at_run_time(platform: Platform, members: list[ServiceDef]) -> bool:
    for service in members:
        for command in (service.command, service.entrypoint):
            if command is not None and any(m in command.raw for m in _CREATES_AT_RUN_TIME):
                return True
        for path in service.python_files:
            source = platform.python.get(path)
            if source is not None and any(m in source.text for m in _CREATES_AT_RUN_TIME):
                return True
    return False
