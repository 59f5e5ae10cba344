"""A runtime error event as the desk reads it from a Sentry event payload, and what an issue
shows of it: the stack trace as Python prints it, the request and the tags.

Clients vary and send what the failing program had in hand, so reading never fails on a
malformed part: it is skipped (the event as sent is kept whole beside it). Nothing here touches
a database or the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from passmuster.core.issues import Severity

# The source of the issues runtime-error groups file: only those have an error summary to show.
SOURCE = "errors"

# Sentry's levels, and the desk's severity for each.
LEVEL_SEVERITY: dict[str, Severity] = {
    "fatal": Severity.CRITICAL,
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "info": Severity.LOW,
    "debug": Severity.INFO,
}


@dataclass(frozen=True, slots=True)
class Frame:
    module: str | None
    function: str | None
    filename: str | None
    lineno: int | None
    in_app: bool
    context_line: str | None = None

    @property
    def where(self) -> str:
        name = self.filename or self.module or "?"
        line = f", line {self.lineno}" if self.lineno is not None else ""
        return f'File "{name}"{line}, in {self.function or "?"}'


@dataclass(frozen=True, slots=True)
class ExceptionInfo:
    type: str
    value: str
    module: str | None
    frames: tuple[Frame, ...]  # oldest call first, as Sentry sends them

    @property
    def in_app_frames(self) -> tuple[Frame, ...]:
        return tuple(f for f in self.frames if f.in_app)


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """What the desk reads from one event; `payload` is the event as sent."""

    event_id: str
    level: str
    exceptions: tuple[ExceptionInfo, ...]  # the chain, cause first and the one raised last
    message: str | None
    message_template: str | None
    release: str | None
    environment: str | None
    transaction: str | None
    user: str | None  # a stable key for the user: id, else username, email or IP address
    request: str | None
    tags: tuple[tuple[str, str], ...]
    fingerprint: tuple[str, ...] | None
    payload: Mapping[str, Any] = field(repr=False)

    @property
    def severity(self) -> Severity:
        return LEVEL_SEVERITY.get(self.level, Severity.HIGH)

    @property
    def main(self) -> ExceptionInfo | None:
        """The exception raised last (what the user saw)."""
        return self.exceptions[-1] if self.exceptions else None


def read_event(payload: Mapping[str, Any], event_id: str) -> ErrorEvent:
    """Read the parts of a Sentry event the desk uses; anything malformed is skipped, not fatal
    (clients vary, and the event as sent is kept whole)."""
    level = _text(payload.get("level")) or "error"
    level = level.lower() if level.lower() in LEVEL_SEVERITY else "error"
    exceptions = tuple(_exceptions(payload))
    template, message = _message(payload)
    fingerprint = payload.get("fingerprint")
    return ErrorEvent(
        event_id=event_id,
        level=level,
        exceptions=exceptions,
        message=message,
        message_template=template,
        release=_short(payload.get("release"), 200),
        environment=_short(payload.get("environment"), 200),
        transaction=_short(payload.get("transaction"), 500),
        user=_user_key(payload.get("user")),
        request=_request_line(payload.get("request")),
        tags=tuple(_tags(payload.get("tags"))),
        fingerprint=(
            tuple(str(part) for part in fingerprint)
            if isinstance(fingerprint, list) and fingerprint
            else None
        ),
        payload=payload,
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _short(value: Any, limit: int) -> str | None:
    text = _text(value)
    return text[:limit] if text else None


def _exceptions(payload: Mapping[str, Any]) -> Iterable[ExceptionInfo]:
    raw = payload.get("exception")
    values = raw.get("values") if isinstance(raw, dict) else raw
    if not isinstance(values, list):
        return
    for value in values:
        if not isinstance(value, dict):
            continue
        kind = _text(value.get("type")) or "Error"
        frames = _frames(value.get("stacktrace"))
        if not frames:
            frames = _thread_frames(payload, value.get("thread_id"))
        yield ExceptionInfo(
            type=kind,
            value=_text(value.get("value")) or "",
            module=_text(value.get("module")),
            frames=frames,
        )


def _thread_frames(payload: Mapping[str, Any], thread_id: Any) -> tuple[Frame, ...]:
    threads = payload.get("threads")
    values = threads.get("values") if isinstance(threads, dict) else threads
    if not isinstance(values, list):
        return ()
    for thread in values:
        if isinstance(thread, dict) and (thread_id is None or thread.get("id") == thread_id):
            frames = _frames(thread.get("stacktrace"))
            if frames:
                return frames
    return ()


def _frames(stacktrace: Any) -> tuple[Frame, ...]:
    if not isinstance(stacktrace, dict) or not isinstance(stacktrace.get("frames"), list):
        return ()
    found = []
    frames = [raw for raw in stacktrace["frames"] if isinstance(raw, dict)]
    # SDKs mark the app's own frames and leave the rest (the standard library, frozen import
    # machinery) unmarked: once any frame is marked, only marked frames are the app's. A client
    # that marks none gets all its frames counted as the app's.
    marked = any(raw.get("in_app") is True for raw in frames)
    for raw in frames:
        lineno = raw.get("lineno")
        found.append(
            Frame(
                module=_text(raw.get("module")),
                function=_text(raw.get("function")),
                filename=_text(raw.get("filename")) or _text(raw.get("abs_path")),
                lineno=lineno if isinstance(lineno, int) and not isinstance(lineno, bool) else None,
                in_app=raw.get("in_app") is True if marked else raw.get("in_app") is not False,
                context_line=_short(raw.get("context_line"), 500),
            )
        )
    return tuple(found)


def _message(payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(template, formatted) of a log message event."""
    entry = payload.get("logentry") or payload.get("sentry.interfaces.Message")
    message = payload.get("message")
    if isinstance(message, dict) and entry is None:
        entry, message = message, None
    if isinstance(entry, dict):
        template = _text(entry.get("message"))
        formatted = _text(entry.get("formatted")) or template
        return template or formatted, formatted
    text = _text(message)
    return text, text


def _user_key(user: Any) -> str | None:
    if not isinstance(user, dict):
        return None
    for key in ("id", "username", "email", "ip_address"):
        value = _text(user.get(key))
        if value and value != "{{auto}}":
            return f"{key}:{value}"
    return None


def _request_line(request: Any) -> str | None:
    if not isinstance(request, dict):
        return None
    url = _text(request.get("url"))
    if not url:
        return None
    method = _text(request.get("method")) or "GET"
    query = request.get("query_string")
    if isinstance(query, str) and query and "?" not in url:
        url = f"{url}?{query}"
    return f"{method.upper()} {url}"[:2000]


def _tags(tags: Any) -> Iterable[tuple[str, str]]:
    pairs: Iterable[Any] = tags.items() if isinstance(tags, dict) else tags or ()
    if not isinstance(pairs, Iterable):
        return
    for pair in pairs:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            key, value = _text(pair[0]), _text(pair[1])
            if key and value:
                yield key[:200], value[:200]


# --- what an issue shows -------------------------------------------------------------------------


def stack_trace_text(event: ErrorEvent) -> str | None:
    """The exception chain as a Python traceback reads (most recent call last)."""
    if not event.exceptions:
        return None
    blocks = []
    for position, exc in enumerate(event.exceptions):
        lines = ["Traceback (most recent call last):"] if exc.frames else []
        for frame in exc.frames:
            marker = "" if frame.in_app else "  [library]"
            lines.append(f"  {frame.where}{marker}")
            if frame.context_line:
                lines.append(f"    {frame.context_line.strip()}")
        lines.append(f"{exc.type}: {exc.value}" if exc.value else exc.type)
        if position < len(event.exceptions) - 1:
            lines.append("\nThe above exception was the direct cause of the following exception:\n")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def frames_for_display(exc: ExceptionInfo) -> tuple[list[Frame], list[Frame]]:
    """(in-app frames, library frames), each most recent call first: where to look first."""
    newest_first = list(reversed(exc.frames))
    return [f for f in newest_first if f.in_app], [f for f in newest_first if not f.in_app]


def details_blocks(event: ErrorEvent, service: str) -> list[str]:
    """Error details for the issue: stack trace, request, and the event's tags."""
    blocks = []
    trace = stack_trace_text(event)
    if trace:
        blocks.append(trace)
    elif event.message:
        blocks.append(event.message)
    if event.request:
        blocks.append(f"Request: {event.request}")
    tags: list[tuple[str, str | None]] = [
        ("service", service),
        ("level", event.level),
        ("release", event.release),
        ("environment", event.environment),
        ("transaction", event.transaction),
        *event.tags,
    ]
    blocks.append("Tags: " + ", ".join(f"{k}={v}" for k, v in tags if v))
    return blocks


def storable(text: str) -> str:
    """`text` as every desk stores it: lone surrogates replaced, NUL characters spelled out.

    Events carry whatever the failing program had in hand; the desk refuses both (core.limits).
    """
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\\0")
