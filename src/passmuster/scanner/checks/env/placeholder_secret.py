from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.interpolate import fallback_of
from passmuster.scanner.context.model import EnvVar, Platform, ServiceDef
from passmuster.scanner.context.urls import find_urls
from passmuster.scanner.facts.code import owned_python_files, unread_setting
from passmuster.scanner.facts.development import in_development_setup
from passmuster.scanner.facts.environment import env_values
from passmuster.scanner.facts.paths import is_test_file
from passmuster.scanner.facts.secrets import is_secret_name, placeholder_kind
from passmuster.scanner.rule import Rule, also_at, reported_once


class PlaceholderSecret(Rule):
    """## What it does
    Flags a secret a service actually receives (a variable named like `*_PASSWORD`,
    `*_SECRET*`, `*_TOKEN`, `*_API_KEY`, or the password inside a URL) whose value is a
    placeholder or a well-known default: `change_me`, `secret`, `password`, `admin`,
    `your-secret-key`, a value that only names itself for development (`dev-jwt-secret`,
    `local_signing_key`), … This includes compose defaults such as
    `${POSTGRES_PASSWORD:-secure_password_change_me}` when nothing overrides them, and
    fallbacks in code (`os.getenv("JWT_SECRET", "secret")`, a pydantic settings field
    `jwt_secret: str = "change_me"`) when the service's environment does not set the
    variable. Values in `.env.example` files are not reported: placeholders belong there.

    Messages never show the value.

    ## Why is this bad?
    Defaults get deployed. A JWT signing key of `secret` lets anyone mint tokens for any
    user; a database password of `postgres` is the first one an attacker tries.

    ## Example
    ```yaml
    services:
      identity:
        environment:
          JWT_SECRET_KEY: ${JWT_SECRET_KEY:-change_me}
    ```

    ## How to fix
    Remove the default so a missing secret fails loudly (`${JWT_SECRET_KEY:?set it}`), and
    provide real values from an untracked `.env` or a secret store.

    ## Configuration
    ```toml
    [scan.options.ENV003]
    placeholders = ["odoo", "acme"]   # more values to treat as placeholders
    ```
    """

    code = "ENV003"
    name = "placeholder-secret"
    severity = Severity.HIGH
    fix = Fix.NONE
    default_options: ClassVar[Mapping[str, Any]] = {"placeholders": []}

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        extra = frozenset(str(v).lower() for v in self.options["placeholders"])
        # One finding per variable and value in a project: six services given the same
        # placeholder SECRET_KEY are one mistake, listed with its six places.
        groups: dict[tuple[str, str, str, str], list[tuple[ServiceDef, EnvVar]]] = {}
        kinds: dict[tuple[str, str, str, str], str] = {}
        for service in platform.services:
            for name, value, var in env_values(service):
                if ".example" in var.path or var.path.endswith(".sample"):
                    continue
                if in_development_setup(platform, service, var.path):
                    continue  # a local development set-up: its dev secrets are expected
                if var.template is not None and _from_example(platform, var.path):
                    # Interpolated from an example env file (no real .env is committed):
                    # the example's placeholders are not what runs; only the compose file's
                    # own defaults are.
                    fallback = fallback_of(var.template)
                    if fallback is None:
                        continue
                    value = fallback
                kind: str | None = None
                what = name
                secret = value
                if is_secret_name(name):
                    kind = placeholder_kind(value, extra)
                if kind is None:
                    for url in find_urls(value):
                        if url.password is not None:
                            kind = placeholder_kind(url.password, extra)
                            what = f"the password in {name}"
                            secret = url.password
                            break
                if kind is None:
                    continue
                group = (service.project, name, what, secret)
                members = groups.setdefault(group, [])
                if all((v.path, v.line) != (var.path, var.line) for _, v in members):
                    members.append((service, var))
                kinds[group] = kind
        for group, members in groups.items():
            _, name, what, _ = group
            (service, var), *rest = members
            names = list(dict.fromkeys(s.name for s, _ in members))
            where = f" for {len(names)} services ({', '.join(names)})" if len(names) > 1 else ""
            yield self.finding(
                f"{what} is {kinds[group]}{where} (value masked); set a real secret outside "
                f"the repository",
                var.path,
                var.line,
                service=service.name,
                related=also_at(rest, f"{name} again"),
                key=name,
            )
        yield from self._code_fallbacks(platform, extra)

    def _code_fallbacks(self, platform: Platform, extra: frozenset[str]) -> Iterator[Finding]:
        for service, source in owned_python_files(platform):
            if is_test_file(source.path):
                continue
            if (
                "getenv" not in source.text
                and "environ" not in source.text
                and ("BaseSettings" not in source.text)
            ):
                continue
            module = source.facts
            if module is None:
                continue
            for constant in module.strings:
                name = constant.env_default_for
                if name is None or not is_secret_name(name):
                    continue
                if constant.overridden_by(service.env.keys() | service.documented_env):
                    continue
                if service.environment_unknown:
                    continue  # the env file kept out of the repository may well set it
                if unread_setting(platform, service, constant, name):
                    continue  # a setting no code reads
                if _TEST_ONLY.search(name):
                    continue  # a token for tests, not a credential of the running service
                kind = placeholder_kind(constant.value, extra)
                if kind is None:
                    continue
                yield self.finding(
                    f"{name} falls back to {kind} in code (value masked) and the environment "
                    f"of {service.name} does not set it",
                    source.path,
                    constant.line,
                    column=constant.col + 1,
                    service=service.name,
                    key=f"code:{name}",
                )


_TEST_ONLY = re.compile(r"(^|_)(TEST|TESTS|TESTING|DUMMY|FAKE|MOCK|EXAMPLE)(_|$)")


def _from_example(platform: Platform, compose_path: str) -> bool:
    """Whether the compose file is interpolated from an example env file."""
    compose = platform.compose_files.get(compose_path)
    env_file = compose.env_file if compose is not None else None
    return env_file is not None and not env_file.endswith("/.env") and env_file != ".env"
