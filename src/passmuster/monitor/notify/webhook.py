"""Generic JSON webhook: POSTs the notification, or a Jinja2 template of it, as JSON.

`template` is rendered in a sandbox with the notification's fields as variables (`{{ title }}`,
`{{ service }}`, `{{ event }}` …; `{{ x | tojson }}` quotes a value) and must yield JSON.
Every delivery carries an `Idempotency-Key` header that stays the same across retries, so a
receiver can drop the rare duplicate left by a crash between its answer and our bookkeeping.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import ConfigDict, Field

from passmuster.core.targets import ChannelConfig
from passmuster.monitor.notify import HttpUrl, Permanent, post_json, register

SAMPLE = {
    "event": "opened",
    "incident": 1,
    "ref": "#001",
    "title": "identity is down",
    "service": "identity",
    "target": "identity",
    "severity": "high",
    "health": "down",
    "reason": "connection refused",
    "at": "2026-11-23T15:00:00+00:00",
    "suppressed_by": None,
}


class WebhookConfig(ChannelConfig):
    """`kind = "webhook"`: where to POST, extra headers, and a template for the body."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["webhook"] = "webhook"
    url: HttpUrl
    template: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)


@register
class Webhook:
    kind: ClassVar[str] = "webhook"
    config_model: ClassVar[type[ChannelConfig]] = WebhookConfig

    def __init__(self, name: str, config: WebhookConfig) -> None:
        self.name = name
        self.url = config.url
        self.headers = dict(config.headers)
        self.timeout = config.timeout
        self._template = None
        if config.template is not None:
            env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
            try:
                self._template = env.from_string(config.template)
                json.loads(self._template.render(**SAMPLE))
            except TemplateError as exc:
                raise ValueError(f"template: {exc}") from None
            except ValueError as exc:
                raise ValueError(f"template does not render to JSON: {exc}") from None

    def body(self, note: Mapping[str, Any]) -> Any:
        if self._template is None:
            return dict(note)
        try:
            return json.loads(self._template.render(**note))
        except (TemplateError, ValueError) as exc:
            raise Permanent(f"template failed for this notification: {exc}") from None

    async def send(self, client: httpx.AsyncClient, note: Mapping[str, Any], key: str) -> None:
        headers = {**self.headers, "Idempotency-Key": key}
        await post_json(
            client,
            self.url,
            self.body(note),
            headers=headers,
            timeout=self.timeout,
            what=f"webhook {self.name}",
        )
