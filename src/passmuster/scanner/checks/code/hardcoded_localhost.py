from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, PythonFile, ServiceDef
from passmuster.scanner.context.pysource import StringConstant
from passmuster.scanner.context.urls import LOOPBACK_HOSTS, find_urls
from passmuster.scanner.facts.code import reachable_files, unread_setting, url_constants
from passmuster.scanner.facts.environment import env_values
from passmuster.scanner.rule import Rule, reported_once

_INFRASTRUCTURE_SCHEMES = frozenset(
    {"postgresql", "postgres", "mysql", "mariadb", "redis", "rediss", "amqp", "amqps", "mongodb"}
)
_PERSON = re.compile(
    r"(origin|cors|frontend|front_end|redirect|callback|return_url|success_url|cancel_url|"
    r"public|browser|site_url|web_url|dashboard|docs|link|^return$|email|template|ui_url|"
    r"allowed_hosts|CORSMiddleware|"
    # An API description's server list (OpenAPI `servers`, drf-spectacular's and Swagger's
    # settings): the addresses a person's browser tries the API at.
    r"^servers$|openapi|swagger|spectacular|"
    # OAuth2's token and authorisation URLs (`OAuth2PasswordBearer(tokenUrl=…)`): where the
    # API docs page in a person's browser posts the login form.
    r"tokenUrl|authorizationUrl|refreshUrl)",
    re.IGNORECASE,
)
_FOR_TESTS = re.compile(r"(^|_)(TEST|TESTS|TESTING)(_|$)")
_READERS = frozenset({"getenv", "get", "config", "Field", "str", "getattr", "env"})
# A value that is a piece of HTML: its URLs are links a person follows.
_MARKUP = re.compile(r"<(html|body|a\s|p>|div|table|td)", re.IGNORECASE)
_DOC_PATHS = ("/docs", "/redoc", "/swagger", "/openapi")
_TARGET = re.compile(
    r"(_url|_uri|_host|_endpoint|_addr|_address|_api|service|_server)$", re.IGNORECASE
)


class HardcodedLocalhostUrl(Rule):
    """## What it does
    Flags an address on `localhost`/`127.0.0.1` in the code a service runs, when it is how
    the service reaches something else: the port belongs to another service of its compose
    project (a port that service listens on or publishes), the value is a database, cache or
    broker URL (`redis://localhost:6379`), or the name it is given says it is another
    service's address (`ACCOUNTS_URL`, `user_service_url`, `settings.auth_host`).

    Left alone: addresses meant for a browser or a person (CORS origins, `FRONTEND_URL`,
    redirect and callback URLs, `/docs` links, the server list of an OpenAPI description,
    the OAuth2 `tokenUrl` the API docs page posts to, links in HTML pages and e-mails),
    fallbacks the service's environment overrides (`os.getenv`, `os.getenv("X") or …`, a
    value given when the variable read before is unset (`if not url: url = …`), chains of
    fallbacks, python-decouple's `config`, `getattr(settings, …)`, settings fields, model
    fields every construction of the model passes (`APIConfig(url=os.getenv(…))`); a
    variable counts as set when the committed example of a kept-out env file, such as
    `.env.example` beside a gitignored `.env`, sets it) or that it replaces because the
    environment gives that service's address, settings fields no code reads, settings of a
    feature its settings class keeps off by default (`OTEL_ENABLED: bool = False`), code the
    service's entry module never imports, configuration classes for the test run
    (`class TestingConfig(Config)`), test, smoke and end-to-end files, and host-side
    scripts.

    ## Why is this bad?
    Inside a container, localhost is the container itself: the call works on a developer's
    machine where every service runs on the host, and fails with `connection refused` once
    deployed.

    ## Example
    ```python
    identity_url = "http://localhost:8001"
    ```

    ## How to fix
    Read the address from the environment, with the compose service name as the default:
    ```python
    IDENTITY_SERVICE_URL = os.getenv("IDENTITY_SERVICE_URL", "http://identity:8001")
    ```
    """

    code = "CODE005"
    name = "hardcoded-localhost-url"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for members in platform.services_by_project():
            # A port belongs first to the service that listens on it, then to one that
            # publishes it: a compose mapping to a container port nothing listens on
            # (`8003:5000` for a server on 5001) does not make 5000 that service's.
            owners: dict[int, ServiceDef] = {}
            for service in members:
                for port in sorted(service.listening_ports()):
                    owners.setdefault(port, service)
            for service in members:
                for published in service.ports:
                    if published.host is not None:
                        owners.setdefault(published.host, service)
                        owners.setdefault(published.container, service)
            for service in members:
                yield from self._service(platform, service, owners)

    def _service(
        self, platform: Platform, service: ServiceDef, owners: dict[int, ServiceDef]
    ) -> Iterator[Finding]:
        files = reachable_files(platform, service)
        if files is None:
            files = service.python_files
        listening = service.listening_ports()
        own = listening | {p.host for p in service.ports if p.host}
        if not listening:
            # Where the server's port is unknown, the container ports compose maps stand in
            # for it; where it is known, a mapped port it does not listen on is not its own.
            own |= {p.container for p in service.ports}
        addressed = _addressed_hosts(service)
        environment = service.env.keys() | service.documented_env
        for _, source, constant in url_constants(platform, files):
            if constant.overridden_by(environment):
                continue  # the environment decides
            if _for_a_person(constant.context) or _MARKUP.search(constant.value):
                continue  # a link in a page or an e-mail: for a person to open
            if _replaced_default(platform, service, source, constant):
                continue  # every construction of the model passes its own value
            if _in_test_configuration(source, constant.line):
                continue  # `class TestingConfig(Config)`: what the test run connects to
            if constant.in_settings and constant.env_default_for:
                field = constant.env_default_for
                if unread_setting(platform, service, constant, field):
                    continue  # a setting no code reads
                if _FOR_TESTS.search(field):
                    continue  # TEST_DATABASE_URL: the test suite's, on a developer's machine
                if _switched_off(source, field, environment):
                    continue  # the feature it configures is off unless enabled
            for url in find_urls(constant.value):
                if url.host not in LOOPBACK_HOSTS or not url.explicit_port:
                    continue
                if url.port in own or _path_for_a_person(constant.value, url.start):
                    continue
                target = owners.get(url.port or 0)
                if target is not None and target is not service:
                    configurable = constant.in_settings or constant.env_default_for
                    if configurable and addressed & target.hostnames:
                        continue  # a default; the environment gives that address
                    what = f"{target.name}'s port"
                elif url.scheme in _INFRASTRUCTURE_SCHEMES:
                    what = f"a {url.scheme} server"
                elif (named := _target_name(constant)) is not None:
                    what = f"the address {named} names"
                else:
                    continue
                shown = f"{url.scheme}://{url.host}:{url.port}"
                related = (
                    [
                        Location(
                            target.path,
                            target.line,
                            message="defined here",
                            service=target.name,
                        )
                    ]
                    if target is not None and target is not service
                    else []
                )
                yield self.finding(
                    f"hard-coded {shown} is {what}; inside a container localhost is the "
                    f"container itself",
                    source.path,
                    constant.line,
                    column=constant.col + 1,
                    service=service.name,
                    related=related,
                    key=f"{url.host}:{url.port}",
                )


def _replaced_default(
    platform: Platform, service: ServiceDef, source: PythonFile, constant: StringConstant
) -> bool:
    """Whether the constant is a model field's default (`url: str = Field(default=…)` in a
    class) and the service's code builds that class only with the field given:
    `APIConfig(url=os.getenv(...))` leaves the default unused."""
    tree = source.tree
    if tree is None:
        return False
    owner = field = None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for child in node.body:
                if (
                    isinstance(child, ast.AnnAssign)
                    and isinstance(child.target, ast.Name)
                    and child.value is not None
                    and child.lineno <= constant.line <= (child.end_lineno or child.lineno)
                ):
                    owner, field = node.name, child.target.id
    if owner is None:
        return False
    calls = 0
    for path in service.python_files:
        other = platform.python.get(path)
        if other is None or f"{owner}(" not in other.text or other.tree is None:
            continue
        for node in ast.walk(other.tree):
            if isinstance(node, ast.Call) and _called(node.func) == owner:
                if all(k.arg != field for k in node.keywords):
                    return False
                calls += 1
    return calls > 0


_TEST_CLASS = re.compile(r"^Test|Test(ing)?(Config|Settings)$")


def _in_test_configuration(source: PythonFile, line: int) -> bool:
    """Whether the line lies in a configuration class for the test run (`TestingConfig`,
    `TestConfig`, `TestSettings`), as Flask's config-per-environment layout has."""
    tree = source.tree
    if tree is None or "Test" not in source.text:
        return False
    return any(
        isinstance(node, ast.ClassDef)
        and _TEST_CLASS.search(node.name) is not None
        and node.lineno <= line <= (node.end_lineno or node.lineno)
        for node in ast.walk(tree)
    )


def _called(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _switched_off(source: PythonFile, field: str, environment: Collection[str]) -> bool:
    """Whether the setting belongs to a feature its settings class keeps off by default
    (`OTEL_ENABLED: bool = False` beside `OTEL_EXPORTER_OTLP_ENDPOINT`) and the
    environment does not switch on."""
    prefix = field.split("_", 1)[0]
    switches = {f"{prefix}_ENABLED", f"ENABLE_{prefix}", f"USE_{prefix}", f"{prefix}_ENABLE"}
    tree = source.tree
    if tree is None or not prefix or any(s in environment for s in switches):
        return False
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id.upper() in switches
            and isinstance(node.value, ast.Constant)
            and node.value.value is False
        ):
            return True
    return False


def _addressed_hosts(service: ServiceDef) -> set[str]:
    """Hosts the service's environment gives an address for (`AUTH_SERVICE_URL=http://auth`)."""
    hosts: set[str] = set()
    for name, value, _ in env_values(service):
        for url in find_urls(value):
            hosts.add(url.host)
        if name.endswith("_HOST") and value:
            hosts.add(value.lower())
    return hosts


def _for_a_person(context: tuple[str, ...]) -> bool:
    """A value given to a name for browser-facing addresses (CORS origins, frontend,
    redirect and callback URLs) or to a response a person reads."""
    return any(_PERSON.search(name) for name in context)


def _path_for_a_person(text: str, start: int) -> bool:
    """A link to API documentation (`http://localhost:8000/docs`): for a person to open."""
    rest = text[start:].split("://", 1)[-1]
    path = "/" + rest.partition("/")[2]
    return path.startswith(_DOC_PATHS)


def _target_name(constant: StringConstant) -> str | None:
    """The name that says the value is a service's address (`MONITORING_SERVICE_URL`,
    `user_service_url`), looking past the calls that read it (`os.getenv`, `Field`)."""
    names = [constant.env_default_for or "", *constant.context]
    return next(
        (n for n in names if n and n not in _READERS and _TARGET.search(n) is not None), None
    )
