"""Sentry events and envelopes shaped as the Python SDK sends them, for the ingestion tests."""

from __future__ import annotations

import json
import uuid
from typing import Any


def exception_event(
    kind: str = "KeyError",
    value: str = "'DATABASE_URL'",
    *,
    function: str = "handler",
    release: str | None = "billing@1.0.0",
    environment: str | None = "production",
    user: str | None = "u-1",
    **extra: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "level": "error",
        "platform": "python",
        "timestamp": "2026-12-01T10:00:00.000000Z",
        "exception": {
            "values": [
                {
                    "type": kind,
                    "value": value,
                    "mechanism": {"type": "generic", "handled": False},
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "starlette/routing.py",
                                "module": "starlette.routing",
                                "function": "handle",
                                "lineno": 74,
                                "in_app": False,
                            },
                            {
                                "filename": "app/main.py",
                                "module": "app.main",
                                "function": function,
                                "lineno": 21,
                                "in_app": True,
                                "context_line": "    return settings[key]",
                            },
                        ]
                    },
                }
            ]
        },
        "request": {"method": "GET", "url": "http://billing/api/v1/pay"},
        "tags": {"region": "eu"},
        **extra,
    }
    if release:
        payload["release"] = release
    if environment:
        payload["environment"] = environment
    if user:
        payload["user"] = {"id": user}
    return payload


def envelope(*events: dict[str, Any], extra_items: tuple[tuple[str, bytes], ...] = ()) -> bytes:
    """An envelope holding `events` (with a length, as the SDK writes them) and other items."""
    header = {"event_id": events[0]["event_id"]} if events else {}
    out = json.dumps(header).encode() + b"\n"
    for kind, payload in extra_items:
        out += json.dumps({"type": kind, "length": len(payload)}).encode() + b"\n" + payload + b"\n"
    for event in events:
        body = json.dumps(event).encode()
        out += json.dumps({"type": "event", "length": len(body)}).encode() + b"\n" + body + b"\n"
    return out
