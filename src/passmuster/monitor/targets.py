"""What the monitor probes: targets from the service catalog and from explicit configuration.

Three sources, later ones overriding earlier ones by target name:

1. the catalog — each service's health URL (its compose health check, labels, or its first
   port plus `[monitor] health_path`); databases, caches and brokers get a TCP probe;
2. `[[monitor.targets]]` in `passmuster.toml`;
3. Gatus-compatible YAML files named by `[monitor] gatus` (`endpoints:` with `name`, `url`,
   `interval`, `conditions`, `client.timeout`).

`[monitor] base_urls` maps compose host names to addresses reachable from where the monitor
runs (`identity = "http://127.0.0.1:8001"`), so a catalog written for the compose network can
be probed from a laptop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from passmuster.core.catalog import Service
from passmuster.core.issues import Severity
from passmuster.core.targets import MonitorConfig, ServiceOverride, Target, apply_base_url
from passmuster.errors import ConfigError, InvalidValue, ParseError
from passmuster.settings import ProjectConfig

TCP_KINDS = frozenset({"database", "cache", "broker", "queue"})
DEFAULT_TCP_PORTS = {"postgres": 5432, "redis": 6379, "rabbitmq": 5672, "mysql": 3306}


def load_monitor_config(project: ProjectConfig) -> MonitorConfig:
    """`[monitor]` of the project's configuration, validated; errors name the file and field.

    Each notification channel comes out as its kind's model (the registry of kinds checks it).
    """
    from passmuster.monitor.notify import channel_config

    config = project.section("monitor", MonitorConfig)
    where = str(project.path) if project.path else "passmuster.toml"
    notify = {name: channel_config(name, c, where=where) for name, c in config.notify.items()}
    return config.model_copy(update={"notify": notify}) if notify else config


# -- base URL overrides --------------------------------------------------------------------------


def parse_base_urls(pairs: Iterable[str]) -> dict[str, str]:
    """`host=url` pairs from the command line (`--base-url identity=http://127.0.0.1:8001`)."""
    found: dict[str, str] = {}
    for pair in pairs:
        host, sep, url = pair.partition("=")
        if not sep or not host.strip() or not url.strip():
            raise InvalidValue(
                "--base-url", pair, ["HOST=URL, e.g. identity=http://127.0.0.1:8001"]
            )
        found[host.strip()] = url.strip().rstrip("/")
    return found


# -- the catalog ---------------------------------------------------------------------------------

_URL_IN_TEXT = re.compile(r"https?://[^\s'\"]+")


def _container_port(port: str) -> int | None:
    """The container side of a compose port string: "8001:8000" → 8000, "5432/tcp" → 5432."""
    text = port.split("/")[0].strip()
    last = text.rsplit(":", 1)[-1]
    if "-" in last:
        last = last.split("-")[0]
    return int(last) if last.isdigit() else None


def catalog_targets(services: Sequence[Service], config: MonitorConfig) -> list[Target]:
    """One target per catalog service that can be probed.

    The URL: `[monitor.services.NAME] url`, else the service's health URL (a `localhost` health
    check inside the container means the service itself, so it becomes the service's host
    name), else its first container port with `path` / `[monitor] health_path`, else a TCP
    connect to that port. Databases, caches and brokers are probed over TCP. Workers and
    services without a port are skipped.
    """
    targets: list[Target] = []
    for service in services:
        override = config.services.get(service.name, ServiceOverride())
        if override.disabled or (service.kind == "worker" and override.url is None):
            continue
        url = override.url or _catalog_url(service, config, override)
        if url is None:
            continue
        url = apply_base_url(url, config.base_urls)
        tcp = url.startswith("tcp://")
        targets.append(
            Target(
                name=service.name,
                url=url,
                service=service.name,
                interval=override.interval or config.interval,
                timeout=override.timeout or config.timeout,
                conditions=tuple(
                    override.conditions
                    if override.conditions is not None
                    else (["[CONNECTED] == true"] if tcp else [])
                ),
                severity=Severity.parse(override.severity or config.severity).value,
                failure_threshold=config.failure_threshold,
                success_threshold=config.success_threshold,
                cooldown=config.cooldown,
                depends_on=tuple(service.depends_on),
                source="catalog",
            )
        )
    return targets


def _catalog_url(service: Service, config: MonitorConfig, override: ServiceOverride) -> str | None:
    port = next((p for p in (_container_port(x) for x in service.ports) if p is not None), None)
    if service.kind in TCP_KINDS:
        port = port or DEFAULT_TCP_PORTS.get(service.name)
        return f"tcp://{service.name}:{port}" if port else None
    if service.health_url and not override.path:
        found = _URL_IN_TEXT.search(service.health_url)
        if found:
            parts = urlsplit(found.group(0))
            if parts.hostname in ("localhost", "127.0.0.1", "0.0.0.0"):
                netloc = f"{service.name}:{parts.port}" if parts.port else service.name
                return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
            return found.group(0)
        if service.health_url.startswith("/") and port:
            return f"http://{service.name}:{port}{service.health_url}"
    if port is None:
        return None
    path = override.path or config.health_path
    return f"http://{service.name}:{port}{path}" if path else f"tcp://{service.name}:{port}"


# -- explicit configuration ----------------------------------------------------------------------


def config_targets(config: MonitorConfig, where: str) -> list[Target]:
    targets = []
    for index, entry in enumerate(config.targets):
        targets.append(
            _checked(
                Target(
                    name=entry.name,
                    url=apply_base_url(entry.url, config.base_urls),
                    service=entry.service,
                    interval=entry.interval or config.interval,
                    timeout=entry.timeout or config.timeout,
                    conditions=tuple(entry.conditions),
                    severity=Severity.parse(entry.severity or config.severity).value,
                    failure_threshold=entry.failure_threshold or config.failure_threshold,
                    success_threshold=entry.success_threshold or config.success_threshold,
                    cooldown=config.cooldown,
                    depends_on=tuple(entry.depends_on),
                    method=entry.method.upper(),
                    headers=tuple(sorted(entry.headers.items())),
                    source="config",
                ),
                f"{where}: [monitor.targets][{index}]",
            )
        )
    return targets


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_duration(text: Any, field_name: str) -> float:
    """Go-style durations as Gatus writes them: `30s`, `1m`, `1h30m`, `500ms`; numbers are s."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    value = str(text).strip()
    pos, total = 0, 0.0
    for match in _DURATION.finditer(value):
        if match.start() != pos:
            break
        number, unit = float(match[1]), match[2]
        total += number * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]
        pos = match.end()
    if pos != len(value) or not value or total <= 0:
        raise InvalidValue(field_name, text, ["a duration such as 500ms, 30s, 1m, 1h30m"])
    return total


def gatus_targets(path: Path, config: MonitorConfig) -> list[Target]:
    """Targets from a Gatus configuration file's `endpoints:`; errors name the file and line."""
    from passmuster.scanner.context.yamldoc import load_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    doc = load_yaml(text, str(path))
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("endpoints", []), list):
        raise ParseError(path, 1, "expected a mapping with an `endpoints:` list")
    targets: list[Target] = []
    for index, entry in enumerate(data.get("endpoints") or []):
        line = doc.line(data["endpoints"], index)
        if not isinstance(entry, dict):
            raise ParseError(path, line, "an endpoint must be a mapping")
        if entry.get("enabled") is False:
            continue
        try:
            name = entry.get("name")
            url = entry.get("url")
            if not isinstance(name, str) or not name:
                raise InvalidValue("name", name, ["a non-empty name"])
            if not isinstance(url, str) or not url:
                raise InvalidValue("url", url, ["a URL: http://, https:// or tcp://"])
            raw_client = entry.get("client")
            client: dict[str, Any] = raw_client if isinstance(raw_client, dict) else {}
            conditions = entry.get("conditions") or []
            if not isinstance(conditions, list):
                raise InvalidValue("conditions", conditions, ["a list of conditions"])
            # Gatus has no services; `service:` (a passmuster extension) links one. A Gatus
            # `group` is a dashboard heading, not a service, so it is not used.
            service = entry.get("service")
            target = Target(
                name=name,
                url=apply_base_url(url, config.base_urls),
                service=str(service) if service else None,
                interval=parse_duration(entry.get("interval", "60s"), "interval"),
                timeout=parse_duration(client.get("timeout", config.timeout), "client.timeout"),
                conditions=tuple(str(c) for c in conditions),
                severity=Severity.parse(str(entry.get("severity") or config.severity)).value,
                failure_threshold=int(
                    _alert_value(entry, "failure-threshold", config.failure_threshold)
                ),
                success_threshold=int(
                    _alert_value(entry, "success-threshold", config.success_threshold)
                ),
                cooldown=config.cooldown,
                method=str(entry.get("method", "GET")).upper(),
                headers=tuple(
                    sorted((str(k), str(v)) for k, v in (entry.get("headers") or {}).items())
                ),
                source="gatus",
            )
            targets.append(_checked(target, f"{path}:{line}"))
        except InvalidValue as exc:
            raise ParseError(path, line, f"endpoint {index + 1}: {exc.message}") from None
    return targets


def _alert_value(entry: dict[str, Any], key: str, default: int) -> Any:
    """Gatus keeps thresholds per alert; the first alert that sets one wins."""
    for alert in entry.get("alerts") or []:
        if isinstance(alert, dict) and key in alert:
            return alert[key]
    return default


def _checked(target: Target, where: str) -> Target:
    scheme = urlsplit(target.url).scheme
    if scheme not in ("http", "https", "tcp"):
        raise ConfigError(
            f"{where}: url {target.url!r} must start with http://, https:// or tcp://"
        )
    if scheme == "tcp" and urlsplit(target.url).port is None:
        raise ConfigError(f"{where}: tcp url {target.url!r} needs a port")
    try:
        target.parsed_conditions()
    except InvalidValue as exc:
        raise ConfigError(f"{where}: {exc.message}", field="conditions") from None
    return target


@dataclass(slots=True)
class TargetSet:
    """Every target, by name, with the dependency graph the incident logic needs."""

    targets: dict[str, Target] = field(default_factory=dict)

    def depends_on(self) -> dict[str, list[str]]:
        graph: dict[str, list[str]] = {}
        for target in self.targets.values():
            graph.setdefault(target.label, []).extend(target.depends_on)
        return graph


def build_targets(
    config: MonitorConfig,
    *,
    services: Sequence[Service] = (),
    root: Path | None = None,
    where: str = "passmuster.toml",
) -> TargetSet:
    """All targets: catalog, then `[[monitor.targets]]`, then Gatus files (later names win)."""
    found: dict[str, Target] = {}
    if config.catalog:
        for target in catalog_targets(services, config):
            found[target.name] = target
    for target in config_targets(config, where):
        found[target.name] = target
    for name in config.gatus:
        path = Path(name)
        if not path.is_absolute() and root is not None:
            path = root / path
        for target in gatus_targets(path, config):
            found[target.name] = target
    return TargetSet(found)
