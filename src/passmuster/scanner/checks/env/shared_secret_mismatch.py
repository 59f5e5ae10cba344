from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.interpolate import fallback_of, variables_in
from passmuster.scanner.context.model import EnvVar, Platform, ServiceDef
from passmuster.scanner.context.urls import find_urls
from passmuster.scanner.facts.development import in_development_setup
from passmuster.scanner.facts.environment import env_values, service_prefixes
from passmuster.scanner.facts.paths import is_dev_file
from passmuster.scanner.facts.secrets import is_secret_name
from passmuster.scanner.rule import Rule, also_at, reported_once

# What a service calls the key it accepts from its clients.
_SERVER_KEYS = ("API_KEY", "SERVICE_API_KEY", "INTERNAL_API_KEY", "CLIENT_SECRET", "SERVICE_TOKEN")
# What a client calls the key it sends to `<SERVICE>_…`.
_CLIENT_SUFFIXES = ("API_KEY", "CLIENT_SECRET", "SERVICE_KEY", "SERVICE_TOKEN", "TOKEN")


def _issuer(service: ServiceDef) -> bool:
    return any(word in service.name for word in ("identity", "auth", "user", "account", "sso"))


class SharedSecretMismatch(Rule):
    """## What it does
    Flags a secret that must be the same in several services but is not:

    * the JWT signing key (`JWT_SECRET`, `JWT_SECRET_KEY`, `JWT_SIGNING_KEY`, … treated as
      one key whatever each service calls it), between every service that sets it;
    * a client key sent to another service (`BILLING_API_KEY` in the gateway) against the key
      that service accepts (`API_KEY` or `BILLING_API_KEY` in `billing`).

    * a secret variable one service takes without a default (`${MONGO_ROOT_PASSWORD}`)
      while others fall back to a value (`${MONGO_ROOT_PASSWORD:-changeme123}`): the day it
      is unset, one side gets an empty password and the other a password it never had;
    * a Redis server that requires a password (`redis-server --requirepass …`, or
      `REDIS_PASSWORD` for the Bitnami image) while its clients' `redis://` URLs carry none
      and they are given no Redis password otherwise: every command fails with `NOAUTH`.

    Values are compared after compose interpolation and are never shown. Compose fallbacks
    are compared too: `${JWT_SECRET:-a}` in one service and `${JWT_SECRET:-b}` in another
    disagree the day `JWT_SECRET` is unset, whatever the `.env` says today. Each cause is
    one finding that lists every place involved.

    ## Why is this bad?
    Tokens issued by the identity service fail signature checks in every service holding
    another key (`401 Signature verification failed`), and service-to-service calls are
    rejected, typically only after a secret is rotated in one place.

    ## Example
    ```yaml
    services:
      identity:
        environment: {JWT_SECRET_KEY: "k3y-one…"}
      tenants:
        environment: {JWT_SECRET: "k3y-two…"}
    ```

    ## How to fix
    Define the shared secret once (in `.env`, or an `x-` anchor) and reference it from each
    service: `JWT_SECRET_KEY: ${JWT_SECRET_KEY}`.

    ## Configuration
    ```toml
    [scan.options.ENV004]
    groups = { jwt = ["JWT_SECRET", "JWT_SECRET_KEY", "JWT_SIGNING_KEY", "AUTH_SECRET"] }
    ```
    """

    code = "ENV004"
    name = "shared-secret-mismatch"
    severity = Severity.HIGH
    fix = Fix.NONE
    default_options: ClassVar[Mapping[str, Any]] = {
        "groups": {"jwt": ["JWT_SECRET", "JWT_SECRET_KEY", "JWT_SIGNING_KEY", "JWT_KEY"]}
    }

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        everyone = platform.unique_services()
        groups: dict[str, list[str]] = dict(self.options["groups"])
        for group, names in sorted(groups.items()):
            holders: list[tuple[ServiceDef, EnvVar, str]] = []
            for service in everyone:
                for name in names:
                    var = service.env.get(name)
                    if var is not None and var.value and "${" not in var.value:
                        holders.append((service, var, var.value))
                        break
            yield from self._disagreements(f"{group} key", holders)
        for members in platform.services_by_project():
            yield from self._fallbacks(members, groups)
            yield from self._required_against_fallbacks(platform, members)
            yield from self._redis_without_password(platform, members)
        yield from self._client_keys(everyone)

    def _fallbacks(
        self, members: list[ServiceDef], groups: dict[str, list[str]]
    ) -> Iterator[Finding]:
        """`${JWT_SECRET:-a}` in one service and `${JWT_SECRET:-b}` in another agree only
        while JWT_SECRET is set: the day it is not, tokens fail between them."""
        names = {name for group in groups.values() for name in group}
        by_variable: dict[str, list[tuple[ServiceDef, EnvVar, str]]] = defaultdict(list)
        for service in members:
            for name in sorted(names & set(service.env)):
                var = service.env[name]
                if var.template is None or is_dev_file(var.path):
                    continue
                uses = variables_in(var.template)
                fallback = fallback_of(var.template)
                if len(uses) == 1 and uses[0].has_default and fallback:
                    by_variable[uses[0].name].append((service, var, fallback))
        for variable, holders in sorted(by_variable.items()):
            if len({value for _, _, value in holders}) < 2:
                continue
            (first, first_var, first_value), *rest = holders
            other = next(h for h in rest if h[2] != first_value)
            service, var, _ = other
            yield self.finding(
                f"{var.name} in {service.name} falls back to another value than "
                f"{first_var.name} in {first.name} when {variable} is unset (values masked); "
                f"the day it is, their tokens stop matching",
                var.path,
                var.line,
                service=service.name,
                related=[
                    Location(
                        first_var.path, first_var.line, message=first_var.name, service=first.name
                    )
                ],
                key=f"fallback:{variable}",
            )

    def _required_against_fallbacks(
        self, platform: Platform, members: list[ServiceDef]
    ) -> Iterator[Finding]:
        """`${PW}` in one place and `${PW:-changeme}` in others: while PW is set they agree;
        the day it is not, one side gets an empty value and the other the fallback."""
        bare: dict[str, list[tuple[ServiceDef, EnvVar]]] = defaultdict(list)
        defaulted: dict[str, list[tuple[ServiceDef, EnvVar]]] = defaultdict(list)
        for service in members:
            for var in service.env.values():
                if var.template is None or var.origin == "dockerfile":
                    continue
                if is_dev_file(var.path) or in_development_setup(platform, service, var.path):
                    continue
                for use in variables_in(var.template):
                    if not is_secret_name(use.name):
                        continue
                    if use.operator is None:
                        bare[use.name].append((service, var))
                    elif use.has_default and use.default:
                        defaulted[use.name].append((service, var))
        for variable in sorted(bare.keys() & defaulted.keys()):
            # The database's own place first: it is the side that initialises with the value.
            places = sorted(bare[variable], key=lambda held: held[0].kind != "database")
            (service, var), *rest = places
            falling = defaulted[variable]
            names = list(dict.fromkeys(s.name for s, _ in falling))
            yield self.finding(
                f"{variable} has no default for {service.name} ({var.name}) but "
                f"{len(names)} service(s) ({', '.join(names)}) fall back to a value when it "
                f"is unset (values masked); the day it is, they no longer hold the same secret",
                var.path,
                var.line,
                service=service.name,
                related=[
                    *(
                        Location(
                            v.path, v.line, message=f"{v.name} without default", service=s.name
                        )
                        for s, v in rest
                    ),
                    *(
                        Location(
                            v.path, v.line, message=f"{v.name} with a fallback", service=s.name
                        )
                        for s, v in falling
                    ),
                ],
                key=f"required:{variable}",
            )

    def _redis_without_password(
        self, platform: Platform, members: list[ServiceDef]
    ) -> Iterator[Finding]:
        """A Redis server started with a password, reached through URLs that carry none."""
        for server in members:
            how = _redis_password_setting(server)
            if how is None:
                continue
            clients: list[tuple[ServiceDef, EnvVar]] = []
            for client in members:
                if client is server or any(
                    "REDIS" in name and ("PASSWORD" in name or name.endswith("_PASS"))
                    for name in client.env
                ):
                    continue  # given the password on its own: the code may pass it along
                for _, value, var in env_values(client):
                    if in_development_setup(platform, client, var.path):
                        continue
                    if any(
                        url.scheme in ("redis", "rediss")
                        and url.host in server.hostnames
                        and not url.password
                        for url in find_urls(value)
                    ):
                        clients.append((client, var))
            if not clients:
                continue
            (client, var), *rest = clients
            names = list(dict.fromkeys(c.name for c, _ in clients))
            yield self.finding(
                f"{server.name} requires a password ({how}) but {var.name} and the Redis URLs "
                f"of {len(names)} service(s) ({', '.join(names)}) connect to it without one: "
                f"every command fails with NOAUTH",
                var.path,
                var.line,
                service=client.name,
                related=[
                    Location(
                        server.command.path if server.command is not None else server.path,
                        server.command.line if server.command is not None else server.line,
                        message=how,
                        service=server.name,
                    ),
                    *(Location(v.path, v.line, message=v.name, service=c.name) for c, v in rest),
                ],
                key=f"redis-auth:{server.name}",
            )

    def _disagreements(
        self, what: str, holders: list[tuple[ServiceDef, EnvVar, str]]
    ) -> Iterator[Finding]:
        by_value: dict[str, list[tuple[ServiceDef, EnvVar]]] = defaultdict(list)
        for service, var, value in holders:
            by_value[value].append((service, var))
        if len(by_value) < 2:
            return
        # The most common value is the reference; on a tie, the service that issues tokens.
        ranked = sorted(
            by_value.values(),
            key=lambda users: (-len(users), not _issuer(users[0][0]), users[0][0].name),
        )
        model_service, model_var = ranked[0][0]
        for users in ranked[1:]:
            for service, var in users:
                yield self.finding(
                    f"{var.name} in {service.name} differs from {model_var.name} in "
                    f"{model_service.name}; the {what} must be the same (values masked)",
                    var.path,
                    var.line,
                    service=service.name,
                    related=also_at([(model_service, model_var)], lambda v: v.name),
                    key=f"{what}:{model_service.name}",
                )

    def _client_keys(self, everyone: list[ServiceDef]) -> Iterator[Finding]:
        accepted: dict[str, tuple[ServiceDef, EnvVar, str]] = {}
        prefixes: dict[str, ServiceDef] = {}
        for service in everyone:
            for prefix in service_prefixes(service):
                prefixes[prefix] = service
        for provider in everyone:
            for name in (
                *_SERVER_KEYS,
                *(p + s for p in service_prefixes(provider) for s in _CLIENT_SUFFIXES),
            ):
                var = provider.env.get(name)
                if var is not None and var.value and "${" not in var.value:
                    accepted[provider.name] = (provider, var, var.value)
                    break
        for client in everyone:
            for name, value, var in env_values(client):
                if "${" in value or not value:
                    continue
                # `<PREFIX><SUFFIX>`: look the prefix up rather than trying every service.
                server = next(
                    (
                        prefixes[name[: -len(suffix)]]
                        for suffix in _CLIENT_SUFFIXES
                        if name.endswith(suffix) and name[: -len(suffix)] in prefixes
                    ),
                    None,
                )
                if server is None or server is client:
                    continue
                held = accepted.get(server.name)
                if held is None or held[2] == value:
                    continue
                _, server_var, _ = held
                yield self.finding(
                    f"{name} in {client.name} differs from {server_var.name} that "
                    f"{server.name} accepts (values masked)",
                    var.path,
                    var.line,
                    service=client.name,
                    related=also_at([(server, server_var)], lambda v: v.name),
                    key=f"client:{name}:{server.name}",
                )


def _redis_password_setting(service: ServiceDef) -> str | None:
    """How a Redis server is told to require a password (`--requirepass`, the Bitnami
    image's REDIS_PASSWORD), or None when it requires none."""
    image = (service.image or "").lower()
    command = service.command
    if command is not None and ("redis" in image or "redis-server" in command.raw):
        argv = list(command.argv)
        if len(argv) == 1 or command.shell:
            argv = command.raw.split()
        for i, arg in enumerate(argv[:-1]):
            if arg == "--requirepass" and argv[i + 1].strip("'\"") not in ("", '""'):
                return "--requirepass"
    if image.startswith(("bitnami/redis", "docker.io/bitnami/redis")):
        var = service.env.get("REDIS_PASSWORD")
        if var is not None and var.value:
            return "REDIS_PASSWORD"
    return None
