"""The `[deploy]` section of passmuster.toml and the command templates it holds.

    [deploy]
    runner = "auto"          # auto: compose when `docker compose` works here, else local
    command = "docker compose up -d --build {service}"
    timeout = 120            # seconds per service: its command and its health gate
    parallel = 4             # services of one wave started at once

    [deploy.services.billing]
    command = "make -C services/billing deploy"
    timeout = 300

A template is split like a shell line (quotes group words) and each word is then filled in, so a
value with spaces stays one argument and nothing is ever passed through a shell. Placeholders:
`{service}`, `{port}`, `{root}`, `{python}`, `{app}` (the `module:attribute` a uvicorn command
serves) and `{commit}`.
"""

from __future__ import annotations

import shlex
import string
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from passmuster.core.sla import parse_duration
from passmuster.errors import ConfigError

PLACEHOLDERS = ("service", "port", "root", "python", "app", "commit")
Runner = Literal["auto", "compose", "local", "command"]

COMPOSE_UP = "docker compose up -d --build {service}"
COMPOSE_STOP = "docker compose stop {service}"
COMPOSE_LOGS = "docker compose logs --no-color --tail 200 {service}"
LOCAL_UVICORN = "{python} -m uvicorn {app} --host 127.0.0.1 --port {port}"


class ServiceDeploy(BaseModel):
    """`[deploy.services.NAME]`: what differs for one service."""

    model_config = ConfigDict(extra="forbid")

    command: str | None = None
    stop: str | None = None
    logs: str | None = None
    timeout: float | None = Field(default=None, gt=0)
    health: str | None = None  # a URL (http://, https://, tcp://) to probe, or "none"
    port: int | None = Field(default=None, ge=1, le=65535)  # the local runner's port
    cwd: str | None = None  # where the command runs, relative to the platform root
    env: dict[str, str] = Field(default_factory=dict)
    skip: bool = False  # never deployed (and not waited for)


class DeployConfig(BaseModel):
    """`[deploy]`."""

    model_config = ConfigDict(extra="forbid")

    runner: Runner = "auto"
    command: str | None = None
    stop: str | None = None
    logs: str | None = None
    timeout: float = Field(default=120.0, gt=0)
    parallel: int = Field(default=4, ge=1, le=256)
    settle: float = Field(default=2.0, ge=0)  # seconds a probe-less service must stay up
    python: str | None = None  # the local runner's interpreter (default: passmuster's)
    keep_output: int = Field(default=20, ge=1)  # newest attempts per service keeping output
    failure_window: timedelta = timedelta(hours=24)  # change failure rate: incidents after
    services: dict[str, ServiceDeploy] = Field(default_factory=dict)

    @field_validator("failure_window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> timedelta:
        parsed = parse_duration(value)
        if parsed is None or parsed <= timedelta(0):
            raise ValueError("expected a duration like 30m, 4h, 1d")
        return parsed

    def check(self, where: str = "passmuster.toml") -> None:
        """Refuse templates that cannot work; the message names the file and the field."""
        if self.runner == "command" and not self.command:
            raise ConfigError(
                f'{where}: [deploy] runner = "command" needs a command template, e.g. '
                f'command = "{COMPOSE_UP}"',
                field="deploy.command",
            )
        for name in ("command", "stop", "logs"):
            value = getattr(self, name)
            if value is not None:
                check_template(value, f"deploy.{name}", where, needs_service=True)
        for service, override in self.services.items():
            for name in ("command", "stop", "logs"):
                value = getattr(override, name)
                if value is not None:
                    field = f"deploy.services.{service}.{name}"
                    check_template(value, field, where, needs_service=False)
            if override.health is not None and override.health.lower() != "none":
                scheme = override.health.split("://", 1)[0] if "://" in override.health else ""
                if scheme not in ("http", "https", "tcp"):
                    raise ConfigError(
                        f"{where}: [deploy.services.{service}.health] {override.health!r} must "
                        "be an http://, https:// or tcp:// URL, or none",
                        field=f"deploy.services.{service}.health",
                    )


def check_template(template: str, field: str, where: str, *, needs_service: bool) -> None:
    """A template must split into words, name only known placeholders, and (when it serves
    every service) contain `{service}`."""
    try:
        words = shlex.split(template)
    except ValueError as exc:
        raise ConfigError(
            f"{where}: [{field}] cannot be split into words: {exc}", field=field
        ) from None
    if not words:
        raise ConfigError(f"{where}: [{field}] is empty", field=field)
    names: set[str] = set()
    for word in words:
        try:
            parsed = list(string.Formatter().parse(word))
        except ValueError as exc:
            raise ConfigError(f"{where}: [{field}] {exc} in {word!r}", field=field) from None
        for _, name, _, _ in parsed:
            if name is None:
                continue
            if name not in PLACEHOLDERS:
                raise ConfigError(
                    f"{where}: [{field}] unknown placeholder {{{name}}}; use "
                    + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
                    field=field,
                )
            names.add(name)
    if needs_service and "service" not in names:
        raise ConfigError(
            f"{where}: [{field}] {template!r} has no {{service}}: every service would run the "
            "same command (put a per-service command under [deploy.services.NAME] instead)",
            field=field,
        )


def render(template: str, values: Mapping[str, str]) -> list[str]:
    """The argument list a checked template makes with `values` (missing ones become "")."""
    filled = {name: values.get(name, "") for name in PLACEHOLDERS}
    return [word.format_map(filled) for word in shlex.split(template)]
