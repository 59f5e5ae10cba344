"""Notification channels: one module per kind, found through one registry.

A channel turns a notification (a plain mapping: event, incident, title, service, severity …)
into one delivery. It raises `Retry` for what may pass (a timeout, 5xx, 429 with its
`Retry-After`) and `Permanent` for what will not (a 404 webhook URL, rejected credentials):
the outbox retries the first with backoff and disables the channel on the second, showing why.

Each kind is one typed model of its settings (`config_model`, a `ChannelConfig` subclass) and
one sender, in one module. Built-in kinds register the way a plugin would: `@register` on the
class, or an entry point in the `passmuster.notifiers` group naming such a class. The registry
is the one way a `[monitor.notify.NAME]` table becomes its kind's model (`channel_config`, when
the configuration is loaded) and then a channel (`build_channel`).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Annotated, Any, ClassVar, Protocol

import httpx
from pydantic import AfterValidator, ValidationError

from passmuster.core.targets import ChannelConfig
from passmuster.errors import ConfigError, InvalidValue

BUILTIN_MODULES = (
    "passmuster.monitor.notify.webhook",
    "passmuster.monitor.notify.slack",
    "passmuster.monitor.notify.email",
)
ENTRY_POINT_GROUP = "passmuster.notifiers"


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"url {value!r} must be an http:// or https:// URL")
    return value


# The receiver's URL in a kind's settings (webhook, slack).
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class Retry(Exception):
    """A delivery that may succeed later; `retry_after` (seconds) when the receiver said so."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Permanent(Exception):
    """A delivery that will never succeed as configured; the channel is disabled."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Channel(Protocol):
    kind: ClassVar[str]
    config_model: ClassVar[type[ChannelConfig]]
    name: str

    async def send(self, client: httpx.AsyncClient, note: Mapping[str, Any], key: str) -> None:
        """Deliver one notification; `key` is stable across retries (an idempotency key)."""


ChannelFactory = type[Any]

_REGISTRY: dict[str, ChannelFactory] = {}
_LOADED = False


def register(cls: ChannelFactory) -> ChannelFactory:
    """Class decorator: make a channel kind available by its `kind`."""
    _REGISTRY[cls.kind] = cls
    return cls


def kinds() -> dict[str, ChannelFactory]:
    _load()
    return dict(_REGISTRY)


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        register(entry.load())
    _LOADED = True


def _factory(name: str, kind: str, where: str) -> ChannelFactory:
    available = kinds()
    factory = available.get(kind)
    if factory is None:
        raise ConfigError(
            f"{where}: [monitor.notify.{name}] kind {kind!r} is none of "
            f"{', '.join(sorted(available))}",
            field=f"monitor.notify.{name}.kind",
        )
    return factory


def channel_config(
    name: str, config: ChannelConfig, *, where: str = "passmuster.toml"
) -> ChannelConfig:
    """`[monitor.notify.NAME]` as its kind's model; a bad setting names file and field."""
    # A kind registered without a model of its own takes the common settings and keeps the rest.
    model: type[ChannelConfig] = getattr(
        _factory(name, config.kind, where), "config_model", ChannelConfig
    )
    if isinstance(config, model):
        return config
    try:
        return model.model_validate(config.model_dump())
    except ValidationError as exc:
        first = exc.errors()[0]
        table = ".".join(str(part) for part in ("monitor.notify", name, *first["loc"]))
        raise ConfigError(f"{where}: [{table}] {first['msg']}", field=table) from None


def build_channel(name: str, config: ChannelConfig, *, where: str = "passmuster.toml") -> Any:
    """A channel instance from `[monitor.notify.NAME]`; a bad setting names file and field."""
    typed = channel_config(name, config, where=where)
    factory = _factory(name, typed.kind, where)
    try:
        return factory(name, typed)
    except (InvalidValue, ValueError) as exc:
        raise ConfigError(
            f"{where}: [monitor.notify.{name}] {exc}", field=f"monitor.notify.{name}"
        ) from None


def classify_response(response: httpx.Response, what: str) -> None:
    """Raise Retry or Permanent for a receiver's non-2xx answer; return for 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (408, 425, 429) or status >= 500:
        raise Retry(f"{what} answered HTTP {status}", retry_after=retry_after(response))
    raise Permanent(f"{what} answered HTTP {status}: {response.text[:200].strip()}")


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    body: Any,
    *,
    headers: Mapping[str, str],
    timeout: float,
    what: str,
) -> None:
    """POST JSON; transport failures are Retry, receiver answers classified."""
    try:
        # One deadline for the whole exchange: the outbox lease is sized from it.
        async with asyncio.timeout(timeout):
            response = await client.post(url, json=body, headers=dict(headers), timeout=timeout)
    except (TimeoutError, httpx.TimeoutException):
        raise Retry(f"{what} did not answer within {timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise Retry(f"{what} unreachable: {exc or type(exc).__name__}") from None
    classify_response(response, what)
