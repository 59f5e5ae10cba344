"""Sentry's wire formats, read without I/O: the request body's encoding, envelopes, the older
`store` payload, and the key a client authenticates with.

An envelope is a JSON header line followed by items, each a JSON header line and a payload. A
payload is exactly `length` bytes when the item header gives one (then an optional newline),
else it runs to the next newline. Only `event` items become runtime errors here; every other
item type (transactions, sessions, attachments, client reports …, and types this code has never
heard of) is accepted and ignored, as Sentry's own relay does with what it does not know.

Every refusal is an `IngestError` with the HTTP status a client should get: 400 for a body that
cannot be read, 413 for one that is larger than allowed once decompressed, 415 for an encoding
nobody speaks.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from passmuster.errors import PassmusterError


class IngestError(PassmusterError):
    """A request the ingestion endpoints refuse; `status_code` is what the client gets."""

    exit_code = 2
    status_code = 400

    def __init__(self, message: str, *, status: int = 400, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.status_code = status


ENCODINGS = ("identity", "gzip", "deflate", "br")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")


# --- the body -----------------------------------------------------------------------------------


def decode_body(data: bytes, encoding: str | None, *, limit: int) -> bytes:
    """The body with its `Content-Encoding` undone, refused (413) once it inflates past `limit`.

    Encodings may be stacked (`gzip, br`): they are undone last first, as HTTP says.
    """
    names = [part.strip().lower() for part in (encoding or "").split(",") if part.strip()]
    for name in reversed(names):
        data = _decode_one(data, name, limit)
    if len(data) > limit:
        raise _too_large(limit)
    return data


def _decode_one(data: bytes, name: str, limit: int) -> bytes:
    if name in ("identity", ""):
        return data
    if name in ("gzip", "x-gzip"):
        return _inflate(data, zlib.MAX_WBITS | 16, limit, "gzip")
    if name == "deflate":
        # HTTP's deflate is zlib-wrapped, but enough clients send raw deflate to accept both.
        try:
            return _inflate(data, zlib.MAX_WBITS, limit, "deflate")
        except IngestError as exc:
            if exc.status_code == 413:
                raise
            return _inflate(data, -zlib.MAX_WBITS, limit, "deflate")
    if name == "br":
        return _unbrotli(data, limit)
    raise IngestError(
        f"unsupported Content-Encoding {name!r}: send one of {', '.join(ENCODINGS)}",
        status=415,
        field="content-encoding",
    )


def _inflate(data: bytes, wbits: int, limit: int, name: str) -> bytes:
    inflater = zlib.decompressobj(wbits)

    def run() -> tuple[bytes, bool]:
        out = inflater.decompress(data, limit + 1)
        return out, inflater.eof

    return _decompressed(name, limit, zlib.error, run)


def _unbrotli(data: bytes, limit: int) -> bytes:
    import brotli  # a C extension; only brotli bodies need it

    decoder = brotli.Decompressor()

    def run() -> tuple[bytes, bool]:
        out = decoder.process(data, output_buffer_limit=limit + 1)
        return bytes(out), decoder.is_finished()

    return _decompressed("brotli", limit, brotli.error, run)


def _decompressed(
    name: str, limit: int, error: type[Exception], run: Callable[[], tuple[bytes, bool]]
) -> bytes:
    """What `run` decompresses (it says whether the stream ended too); an IngestError when the
    data is not valid `name` data, ends before its stream does, or outgrows `limit` bytes."""
    try:
        out, finished = run()
    except error as exc:
        raise IngestError(
            f"the body is not valid {name} data ({exc})", field="content-encoding"
        ) from None
    if len(out) > limit:
        raise _too_large(limit)
    if not finished:
        raise IngestError(
            f"the body is not valid {name} data: it ends before its stream does (truncated?)",
            field="content-encoding",
        )
    return out


def _too_large(limit: int) -> IngestError:
    return IngestError(f"the decompressed body is larger than {limit} bytes", status=413)


# --- envelopes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    type: str
    headers: Mapping[str, Any]
    payload: bytes


@dataclass(frozen=True, slots=True)
class Envelope:
    headers: Mapping[str, Any]
    items: tuple[Item, ...] = field(default=())

    def events(self) -> list[dict[str, Any]]:
        """The payloads of the `event` items as JSON objects (400 when one is not)."""
        found = []
        for position, item in enumerate(self.items, start=1):
            if item.type != "event":
                continue
            found.append(parse_event_json(item.payload, where=f"item {position} (event)"))
        return found

    def ignored(self) -> list[str]:
        return [item.type for item in self.items if item.type != "event"]


def parse_envelope(data: bytes, *, max_items: int = 1000) -> Envelope:
    """Split an envelope into its header and items; IngestError (400) names what is wrong."""
    header_line, position = _line(data, 0)
    headers = _json_object(header_line, "the envelope header") if header_line.strip() else {}
    items: list[Item] = []
    while position < len(data):
        # Blank lines between items are tolerated (some clients end every payload with one).
        if data[position : position + 1] in (b"\n", b"\r"):
            position += 1
            continue
        number = len(items) + 1
        if number > max_items:
            raise IngestError(f"the envelope has more than {max_items} items")
        line, position = _line(data, position)
        item_headers = _json_object(line, f"the header of item {number}")
        kind = item_headers.get("type")
        if not isinstance(kind, str) or not kind:
            raise IngestError(f"item {number} has no type in its header", field="type")
        length = item_headers.get("length")
        if length is None:
            payload, position = _line(data, position)
        else:
            if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                raise IngestError(
                    f"item {number} ({kind}) has an invalid length {length!r}", field="length"
                )
            end = position + length
            if end > len(data):
                raise IngestError(
                    f"the envelope is truncated: item {number} ({kind}) declares {length} bytes "
                    f"but {len(data) - position} remain"
                )
            payload = data[position:end]
            position = end
            if data[position : position + 1] == b"\n":
                position += 1
        items.append(Item(kind, item_headers, payload))
    return Envelope(headers, tuple(items))


def _line(data: bytes, start: int) -> tuple[bytes, int]:
    end = data.find(b"\n", start)
    if end < 0:
        return data[start:], len(data)
    return data[start:end], end + 1


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # Read again with the standard library for a message that says where it breaks (and
        # for what orjson alone refuses, such as a lone surrogate escape).
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise IngestError(f"{what} is not valid JSON ({_reason(exc)})") from None
    if not isinstance(value, dict):
        raise IngestError(f"{what} is not a JSON object")
    return value


def parse_event_json(raw: bytes, *, where: str = "the event") -> dict[str, Any]:
    """An event payload as a JSON object, or IngestError (400)."""
    if not raw.strip():
        raise IngestError(f"{where} is empty")
    return _json_object(raw, where)


def parse_store_body(data: bytes) -> dict[str, Any]:
    """The body of the older `store` endpoint: the event itself.

    Clients of the raven era sent it base64-encoded and zlib-compressed without saying so in a
    header; such a body is recognised by not starting with `{`.
    """
    stripped = data.lstrip()
    if stripped[:1] != b"{" and stripped:
        # When it is not that either, it is reported as the JSON it is not.
        with contextlib.suppress(binascii.Error, zlib.error, ValueError):
            data = zlib.decompress(base64.b64decode(stripped, validate=False))
    return parse_event_json(data)


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at character {exc.pos}"
    return str(exc)


def event_id_of(event: Mapping[str, Any], envelope: Mapping[str, Any] | None = None) -> str:
    """The event's id as 32 lowercase hex digits: its own, else the envelope's, else a new one."""
    raw = event.get("event_id") or (envelope or {}).get("event_id")
    if raw is None:
        return uuid.uuid4().hex
    text = str(raw).strip().lower().replace("-", "")
    if not _HEX32.match(text):
        raise IngestError(f"event_id {raw!r} is not a UUID", field="event_id")
    return text


# --- the key ------------------------------------------------------------------------------------


def sentry_key(headers: Mapping[str, str], query: str) -> str | None:
    """The DSN's public key a client sent: `X-Sentry-Auth` (`sentry_key=`), `?sentry_key=`, or
    an `Authorization: Sentry …` (or `DSN …`/`Bearer …`) header — in that order."""
    for name in ("x-sentry-auth", "authorization"):
        value = headers.get(name)
        if not value:
            continue
        found = _key_in_auth(value)
        if found:
            return found
    for name, value in parse_qsl(query, keep_blank_values=False):
        if name == "sentry_key" and value.strip():
            return value.strip()
    return None


def _key_in_auth(value: str) -> str | None:
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() in ("sentry", "dsn") or "=" in scheme:
        text = rest if scheme.lower() in ("sentry", "dsn") else value
        for part in _auth_parts(text):
            name, _, found = part.partition("=")
            if name.strip().lower() == "sentry_key" and found.strip():
                return found.strip().strip('"')
        if scheme.lower() == "dsn" and "@" in rest:
            return rest.split("//", 1)[-1].split("@", 1)[0].split(":", 1)[0] or None
        return None
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    return None


def _auth_parts(text: str) -> Iterable[str]:
    return (part for part in text.split(",") if part.strip())
