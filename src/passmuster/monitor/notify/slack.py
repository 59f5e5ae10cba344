"""Slack-compatible incoming webhook (also Mattermost and Rocket.Chat): a text message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx
from pydantic import ConfigDict, Field

from passmuster.core.targets import ChannelConfig
from passmuster.monitor.notify import HttpUrl, post_json, register

_ICONS = {
    "opened": ":red_circle:",
    "reopened": ":red_circle:",
    "resolved": ":large_green_circle:",
    "escalated": ":rotating_light:",
    "reminder": ":bell:",
}


def message(note: Mapping[str, Any]) -> str:
    """One line a person reads on a phone: what, which service, how bad, why."""
    event = str(note.get("event", ""))
    icon = _ICONS.get(event, ":information_source:")
    ref = note.get("ref") or ""
    text = f"{icon} {event.upper()} {ref} {note.get('title', '')}".strip()
    details = [f"severity {note['severity']}"] if note.get("severity") else []
    if note.get("reason"):
        details.append(str(note["reason"]))
    return text + (f" ({'; '.join(details)})" if details else "")


class SlackConfig(ChannelConfig):
    """`kind = "slack"`: the incoming webhook's URL, and extra headers."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["slack"] = "slack"
    url: HttpUrl
    headers: dict[str, str] = Field(default_factory=dict)


@register
class Slack:
    kind: ClassVar[str] = "slack"
    config_model: ClassVar[type[ChannelConfig]] = SlackConfig

    def __init__(self, name: str, config: SlackConfig) -> None:
        self.name = name
        self.url = config.url
        self.timeout = config.timeout
        self.headers = dict(config.headers)

    async def send(self, client: httpx.AsyncClient, note: Mapping[str, Any], key: str) -> None:
        await post_json(
            client,
            self.url,
            {"text": message(note)},
            headers=self.headers,
            timeout=self.timeout,
            what=f"slack webhook {self.name}",
        )
