from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.images import parse_image
from passmuster.scanner.context.model import Platform, PythonFile, ServiceDef
from passmuster.scanner.context.urls import Url, find_urls
from passmuster.scanner.facts.code import owned_python_files
from passmuster.scanner.facts.environment import env_values
from passmuster.scanner.facts.tables import table
from passmuster.scanner.rule import Rule, reported_once

# Pure-Python MySQL clients that authenticate with caching_sha2_password (the default of
# MySQL 8 and later) only when `cryptography` is installed; mysqlclient and
# mysql-connector-python carry their own implementation.
_PURE_CLIENTS = ("pymysql", "aiomysql")
# Packages that install cryptography as a dependency of their own, and the extras that do.
_CRYPTOGRAPHY_PROVIDERS = frozenset(
    {
        "cryptography",
        "pyopenssl",
        "paramiko",
        "fabric",
        "sshtunnel",
        "authlib",
        "msal",
        "azure-identity",
        "jwcrypto",
        "fido2",
        "webauthn",
        "secretstorage",
        "snowflake-connector-python",
        "pdfminer-six",
        "firebase-admin",
        "fastapi-users",
        "social-auth-core",
        "oci",
        "requests-ntlm",
    }
)
_CRYPTOGRAPHY_EXTRAS = frozenset({"rsa", "crypto", "cryptography", "security", "secure"})
_MYSQL_IMAGES = frozenset({"mysql", "mysql/mysql-server", "percona", "percona/percona-server"})
_NATIVE_PASSWORD = "native_password"


def _mysql_family(image: str | None) -> bool:
    repository = parse_image(image or "").repository.removeprefix("library/")
    return bool(image) and repository in _MYSQL_IMAGES


def _mariadb(image: str | None) -> bool:
    return bool(image) and "mariadb" in parse_image(image or "").name


def _sha2_by_default(platform: Platform, server: ServiceDef) -> bool:
    """Whether a MySQL-family server authenticates its users with caching_sha2_password:
    version 8 or later (an untagged or `latest` image included), without a switch back to
    mysql_native_password in its command, environment or first-start scripts, and without a
    configuration file mounted over its own (which could say anything)."""
    tag = (parse_image(server.base_image or "").tag or "latest").lower()
    major = tag.split(".", 1)[0].split("-", 1)[0]
    if major.isdigit():
        if int(major) < 8:
            return False
    elif major not in {"latest", "lts", "innovation", "oracle", "debian"}:
        return False  # a tag that names no version we can place
    command = server.raw.get("command")
    words = command if isinstance(command, list) else [str(command or "")]
    texts = [str(w) for w in words] + [v.value or "" for v in server.env.values()]
    texts += [platform.texts.get(path, "") for path in server.init_scripts or ()]
    if any(_NATIVE_PASSWORD in text for text in texts):
        return False
    return not any(v.target.startswith("/etc/mysql") for v in server.volumes)


def _brings_cryptography(service: ServiceDef) -> bool:
    """Whether the service installs cryptography, directly, through an extra or through a
    package that depends on it; also by a `pip install` in its Dockerfile."""
    for req in (*service.requirements, *service.pyproject_dependencies):
        if req.name in _CRYPTOGRAPHY_PROVIDERS or _CRYPTOGRAPHY_EXTRAS & set(req.extras):
            return True
    dockerfile = service.dockerfile
    if dockerfile is not None:
        for install in dockerfile.pip_installs:
            for package in install.packages:
                name = package.split("[", 1)[0].split("=", 1)[0].split("<", 1)[0]
                if name.lower().replace("_", "-") in _CRYPTOGRAPHY_PROVIDERS or "[rsa]" in package:
                    return True
    return False


def _driver(url: Url, data: dict[str, Any]) -> str | None:
    """The SQLAlchemy driver a database URL names, or its dialect's default."""
    dialects: dict[str, str] = data["dialects"]
    if url.scheme not in dialects:
        return None
    if url.driver is None:
        return dialects[url.scheme]
    if url.driver == "psycopg":
        return "psycopg"
    return url.driver


class MissingDatabaseDriver(Rule):
    """## What it does
    Flags a database URL whose driver the service does not install, for example
    `postgresql+asyncpg://…` in a service without `asyncpg`; and an engine given a URL of the
    wrong kind: an async driver passed to `create_engine`, or a sync one (including a plain
    `postgresql://`, which means psycopg2) passed to `create_async_engine`; and a service
    installing PyMySQL (or aiomysql) without `cryptography` in a compose project whose MySQL
    servers are version 8 or later (an untagged or `latest` image included), which
    authenticate with caching_sha2_password unless their command, environment or first-start
    scripts switch back to mysql_native_password. Packages that bring cryptography along
    (`PyMySQL[rsa]`, `pyopenssl`, `paramiko`, `authlib`, `python-jose[cryptography]` …) count
    as installing it; projects with a MariaDB server, or a MySQL configuration file mounted
    over the server's, are left alone.

    URLs are read from the service's environment (compose `environment`, `env_file`) and from
    string literals in its code; the engine calls are read from its code with `ast`.

    ## Why is this bad?
    The service starts, then fails on its first database use with
    `ModuleNotFoundError: No module named 'asyncpg'`, or SQLAlchemy refuses the engine:
    `The asyncio extension requires an async driver to be used`. PyMySQL without
    cryptography fails its first login to MySQL 8: `RuntimeError: 'cryptography' package is
    required for sha256_password or caching_sha2_password auth methods`.

    ## Example
    ```yaml
    services:
      identity:
        environment:
          DATABASE_URL: postgresql+asyncpg://identity:pw@postgres:5432/identity
    ```
    with no `asyncpg` in `services/identity/requirements.txt`.

    ## How to fix
    Add the driver to the service's own requirements (`asyncpg==0.29.0`), or change the URL to
    the driver the service installs; give `create_async_engine` an async URL
    (`postgresql+asyncpg://`) and `create_engine` a sync one. Install `PyMySQL[rsa]` (or
    `cryptography`) beside PyMySQL.
    """

    code = "REQ005"
    name = "missing-database-driver"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        data = table("databases")
        drivers: dict[str, dict[str, Any]] = data["drivers"]
        env_urls: dict[str, dict[str, str]] = {}
        for service in platform.every_service():
            urls = env_urls.setdefault(service.name, {})
            for name, value, var in env_values(service):
                for url in find_urls(value):
                    driver = _driver(url, data)
                    if driver is None:
                        continue
                    urls[name] = value
                    if url.driver is None:
                        continue  # plain URLs are also read by non-SQLAlchemy clients
                    problem = self._missing(service, driver, drivers)
                    if problem:
                        yield self.finding(
                            f"{name} uses the {driver} driver but {problem}",
                            var.path,
                            var.line,
                            service=service.name,
                            key=f"env:{name}:{driver}",
                        )
        for service, source in owned_python_files(platform):
            if "_engine" in source.text:
                yield from self._engines(service, source, env_urls.get(service.name, {}), data)
        yield from self._mysql_authentication(platform)

    def _mysql_authentication(self, platform: Platform) -> Iterator[Finding]:
        """PyMySQL (and aiomysql, built on it) clients of MySQL 8 servers without the
        `cryptography` package that server's default authentication needs."""
        for members in platform.services_by_project():
            servers = [s for s in members if s.is_database]
            mysql = [s for s in servers if _mysql_family(s.base_image)]
            if not mysql or any(not _sha2_by_default(platform, s) for s in mysql):
                continue  # no MySQL, or one a client may reach with the old authentication
            if any(_mariadb(s.base_image) for s in servers):
                continue  # MariaDB keeps mysql_native_password: which one a client uses is open
            for service in members:
                if service.is_database:
                    continue
                client = next(
                    (r for name in _PURE_CLIENTS if (r := service.requirement(name))), None
                )
                if client is None or _brings_cryptography(service):
                    continue
                hosts = {url.host for _, v, _ in env_values(service) for url in find_urls(v)}
                hosts |= {v.lower() for n, v, _ in env_values(service) if n.endswith("HOST")}
                named = [s for s in mysql if s.hostnames & hosts] or mysql
                where = (
                    f"{named[0].name} ({named[0].base_image}), whose"
                    if len(named) == 1
                    else f"the project's MySQL servers ({', '.join(s.name for s in named)}), whose"
                )
                yield self.finding(
                    f"{service.name} connects with {client.name} to {where} default "
                    f"authentication (caching_sha2_password) needs the cryptography package; "
                    f"{service.name} does not install it",
                    client.path,
                    client.line,
                    service=service.name,
                    related=[
                        Location(server.path, server.line, message="MySQL 8", service=server.name)
                        for server in named
                    ],
                    key=f"mysql-auth:{client.name}",
                )

    @staticmethod
    def _missing(service: ServiceDef, driver: str, drivers: dict[str, dict[str, Any]]) -> str:
        info = drivers.get(driver)
        if info is None:
            return ""
        packages: list[str] = info.get("packages", [])
        if not packages or any(service.has_package(p) for p in packages):
            return ""
        if not service.requirement_files and not service.pyproject_dependencies:
            return ""  # nothing known about what the service installs
        return f"{service.name} does not install {' or '.join(packages)}"

    def _engines(
        self, service: ServiceDef, source: PythonFile, env_urls: dict[str, str], data: Any
    ) -> Iterator[Finding]:
        drivers: dict[str, dict[str, Any]] = data["drivers"]
        module = source.facts
        if module is not None:
            for call in module.engine_calls:
                text = call.url
                origin = "its URL"
                if text is None and call.env_var is not None:
                    text = env_urls.get(call.env_var)
                    origin = call.env_var
                if text is None:
                    continue
                found = find_urls(text)
                if not found:
                    continue
                url = found[0]
                driver = _driver(url, data)
                if driver is None:
                    continue
                is_async = drivers.get(driver, {}).get("async", False)
                wants_async = call.factory == "create_async_engine"
                related: list[Location] = []
                if call.env_var and call.env_var in service.env:
                    var = service.env[call.env_var]
                    related.append(Location(var.path, var.line, message=call.env_var))
                if wants_async and is_async is False:
                    yield self.finding(
                        f"create_async_engine gets a sync {driver} URL from {origin}; use an "
                        f"async driver such as postgresql+asyncpg://",
                        source.path,
                        call.line,
                        service=service.name,
                        related=related,
                        key=f"engine:{call.factory}:{driver}",
                    )
                elif not wants_async and is_async is True:
                    yield self.finding(
                        f"create_engine gets an async {driver} URL from {origin}; use "
                        f"create_async_engine or a sync driver",
                        source.path,
                        call.line,
                        service=service.name,
                        related=related,
                        key=f"engine:{call.factory}:{driver}",
                    )
                elif url.driver is None:
                    problem = self._missing(service, driver, drivers)
                    if problem:
                        yield self.finding(
                            f"{call.factory} with a plain {url.scheme}:// URL uses the {driver} "
                            f"driver, but {problem}",
                            source.path,
                            call.line,
                            service=service.name,
                            related=related,
                            key=f"engine:{call.factory}:{driver}",
                        )
