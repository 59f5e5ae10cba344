from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.interpolate import fallback_of, variables_in
from passmuster.scanner.context.model import EnvVar, Platform, ServiceDef
from passmuster.scanner.facts.environment import env_values, service_prefixes
from passmuster.scanner.facts.paths import is_dev_file
from passmuster.scanner.rule import Rule, unique

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

    Values are compared after compose interpolation and are never shown. Compose fallbacks
    are compared too: `${JWT_SECRET:-a}` in one service and `${JWT_SECRET:-b}` in another
    disagree the day `JWT_SECRET` is unset, whatever the `.env` says today.

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

    def check(self, platform: Platform) -> Iterator[Finding]:
        return unique(self._check(platform))

    def _check(self, platform: Platform) -> Iterator[Finding]:
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
        for project in platform.projects:
            yield from self._fallbacks(platform.project_services(project.name), groups)
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
                    related=[
                        Location(
                            model_var.path,
                            model_var.line,
                            message=model_var.name,
                            service=model_service.name,
                        )
                    ],
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
                    related=[
                        Location(
                            server_var.path,
                            server_var.line,
                            message=server_var.name,
                            service=server.name,
                        )
                    ],
                    key=f"client:{name}:{server.name}",
                )
