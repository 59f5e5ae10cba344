"""What the monitor probes (`Target`) and the `[monitor]` configuration targets come from.

Pure data shared by the monitor, the desk's monitor store and the incident logic, so the layers
below the monitor can name a target without importing it. Reading the configuration file, the
catalog and Gatus files lives in `passmuster.monitor.targets`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from passmuster.core.health import Condition, Thresholds
from passmuster.core.issues import Severity


@dataclass(frozen=True, slots=True)
class Target:
    """One thing to probe, with everything the probe and the incident logic need."""

    name: str
    url: str
    service: str | None = None
    interval: float = 10.0
    timeout: float = 5.0
    conditions: tuple[str, ...] = ()
    severity: str = "high"
    failure_threshold: int = 3
    success_threshold: int = 2
    cooldown: float = 600.0
    depends_on: tuple[str, ...] = ()
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    source: str = "config"  # catalog, config, gatus

    @property
    def kind(self) -> str:
        return "tcp" if self.url.startswith("tcp://") else "http"

    @property
    def label(self) -> str:
        """The name metrics and messages use: the service's, else the target's."""
        return self.service or self.name

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            failure=self.failure_threshold,
            success=self.success_threshold,
            cooldown_ms=int(self.cooldown * 1000),
        )

    def parsed_conditions(self) -> list[Condition]:
        return list(_parse_conditions(self.conditions))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Target:
        data = json.loads(text)
        data["conditions"] = tuple(data.get("conditions", ()))
        data["depends_on"] = tuple(data.get("depends_on", ()))
        data["headers"] = tuple(tuple(h) for h in data.get("headers", ()))
        return cls(**data)

    def digest(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:32]


@functools.lru_cache(maxsize=4096)
def _parse_conditions(texts: tuple[str, ...]) -> tuple[Condition, ...]:
    # Parsed once per distinct condition list, not on every probe.
    return tuple(Condition.parse(text) for text in texts)


class TargetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    url: str
    service: str | None = None
    interval: float | None = Field(default=None, gt=0)
    timeout: float | None = Field(default=None, gt=0)
    conditions: list[str] = Field(default_factory=list)
    severity: str | None = None
    failure_threshold: int | None = Field(default=None, ge=1)
    success_threshold: int | None = Field(default=None, ge=1)
    depends_on: list[str] = Field(default_factory=list)
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)


class ServiceOverride(BaseModel):
    """Per-service tweaks for catalog targets: `[monitor.services.identity]`."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    path: str | None = None
    severity: str | None = None
    interval: float | None = Field(default=None, gt=0)
    timeout: float | None = Field(default=None, gt=0)
    conditions: list[str] | None = None
    disabled: bool = False


class ChannelConfig(BaseModel):
    """What every notification channel takes: `[monitor.notify.ops]`.

    The settings of its kind (a webhook's `url`, an email's `host` …) are checked by the kind's
    own model, a subclass declared beside its sender and found through the one registry of
    kinds (`passmuster.monitor.notify.channel_config`); until then they are kept as given.
    """

    model_config = ConfigDict(extra="allow")

    kind: str
    events: list[str] = Field(default_factory=list)  # empty: every kind
    # Seconds between reminders while an incident stays open (None: no reminders).
    remind_every: float | None = Field(default=None, ge=60)
    timeout: float = Field(default=10.0, gt=0)

    def digest(self) -> str:
        """SHA-256 of the whole configuration: a change to any setting changes it."""
        # Unset reminders stay out, so channels configured before reminders keep their digest.
        unset = {"remind_every"} if self.remind_every is None else set()
        given = self.model_dump(mode="json", exclude=unset)
        # Digests were first taken over one model holding every kind's settings: those defaults
        # stay in, so a channel keeps its digest (a new digest enables a disabled channel).
        canonical = json.dumps({**_SETTINGS_BEFORE_KINDS, **given}, sort_keys=True)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_SETTINGS_BEFORE_KINDS: dict[str, Any] = {
    "url": None,
    "template": None,
    "headers": {},
    "host": None,
    "port": 25,
    "sender": None,
    "to": [],
    "username": None,
    "password_env": None,
    "starttls": False,
}


class HistoryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    raw: float = Field(default=3600.0, gt=0)  # seconds of raw samples kept
    minutes: float = Field(default=7 * 86400.0, gt=0)  # seconds of per-minute roll-ups kept
    hours: float = Field(default=400 * 86400.0, gt=0)  # seconds of per-hour roll-ups kept


class MonitorConfig(BaseModel):
    """The `[monitor]` section of passmuster.toml."""

    model_config = ConfigDict(extra="forbid")

    interval: float = Field(default=10.0, gt=0)
    timeout: float = Field(default=5.0, gt=0)
    failure_threshold: int = Field(default=3, ge=1)
    success_threshold: int = Field(default=2, ge=1)
    cooldown: float = Field(default=600.0, ge=0)
    concurrency: int = Field(default=256, ge=1)
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    health_path: str | None = None  # for services whose health route the catalog lacks
    severity: str = "high"
    max_body_bytes: int = Field(default=65536, ge=1024)
    max_redirects: int = Field(default=5, ge=0)
    verify_tls: bool = True
    catalog: bool = True
    gatus: list[str] = Field(default_factory=list)
    base_urls: dict[str, str] = Field(default_factory=dict)
    services: dict[str, ServiceOverride] = Field(default_factory=dict)
    targets: list[TargetConfig] = Field(default_factory=list)
    notify: dict[str, ChannelConfig] = Field(default_factory=dict)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    max_attempts: int = Field(default=12, ge=1)  # delivery attempts before a notification fails
    retry_base: float = Field(default=1.0, gt=0)  # seconds before the first delivery retry

    def without(self, services: Iterable[str]) -> MonitorConfig:
        """This configuration with these catalog services left out (`disabled`)."""
        overrides = dict(self.services)
        for name in services:
            overrides[name] = overrides.get(name, ServiceOverride()).model_copy(
                update={"disabled": True}
            )
        return self.model_copy(update={"services": overrides})

    @field_validator("gatus", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("severity")
    @classmethod
    def _severity(cls, value: str) -> str:
        return Severity.parse(value, field_name="severity").value

    @field_validator("health_path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        return value if value is None or value.startswith("/") else "/" + value


def apply_base_url(url: str, base_urls: Mapping[str, str]) -> str:
    """Rewrite `url` when its host (or host:port) has an override; the path stays."""
    if not base_urls:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    key = f"{host}:{parts.port}" if parts.port else host
    base = base_urls.get(key) or base_urls.get(host)
    if base is None:
        return url
    new = urlsplit(base if "://" in base else f"{parts.scheme}://{base}")
    scheme = parts.scheme if parts.scheme == "tcp" else new.scheme or parts.scheme
    path = (new.path.rstrip("/") + parts.path) if new.path not in ("", "/") else parts.path
    return urlunsplit((scheme, new.netloc, path, parts.query, parts.fragment))
