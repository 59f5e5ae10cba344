"""Reading Sentry's wire formats: encodings, envelopes, the store body and the client's key."""

from __future__ import annotations

import base64
import gzip
import json
import zlib

import brotli
import pytest

from passmuster.core.envelopes import (
    IngestError,
    decode_body,
    event_id_of,
    parse_envelope,
    parse_store_body,
    sentry_key,
)

EVENT = {"event_id": "a" * 32, "level": "error", "message": "boom"}


def envelope(*items: tuple[dict[str, object], bytes], header: bytes = b"{}") -> bytes:
    out = header + b"\n"
    for item_header, payload in items:
        out += json.dumps(item_header).encode() + b"\n" + payload + b"\n"
    return out


def test_items_are_split_by_length_or_by_newline() -> None:
    event = json.dumps(EVENT).encode()
    binary = b"\x00\n\x01 attachment with newlines\n"
    data = envelope(
        ({"type": "attachment", "length": len(binary)}, binary),
        ({"type": "event"}, event),
        ({"type": "session", "length": 2}, b"{}"),
    )
    parsed = parse_envelope(data)
    assert [i.type for i in parsed.items] == ["attachment", "event", "session"]
    assert parsed.items[0].payload == binary
    assert parsed.events() == [EVENT]
    assert parsed.ignored() == ["attachment", "session"]


def test_unknown_item_types_are_accepted_and_ignored() -> None:
    parsed = parse_envelope(envelope(({"type": "hologram", "length": 3}, b"xyz")))
    assert parsed.events() == [] and parsed.ignored() == ["hologram"]


def test_an_envelope_of_only_a_header_is_empty_not_an_error() -> None:
    assert parse_envelope(b'{"event_id": "' + b"b" * 32 + b'"}').items == ()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b'{"event_id": 1\n', "envelope header is not valid JSON"),
        (b"{}\nnot json\n{}", "header of item 1 is not valid JSON"),
        (b'{}\n{"length": 2}\n{}', "item 1 has no type"),
        (b'{}\n{"type": "event", "length": 500}\n{"partial": ', "truncated: item 1 (event)"),
        (b'{}\n{"type": "event", "length": -1}\n', "invalid length -1"),
        (b'{}\n{"type": "event"}\n{"level": "error"', "item 1 (event) is not valid JSON"),
        (b'{}\n{"type": "event"}\n[1, 2]', "item 1 (event) is not a JSON object"),
        (b'{}\n{"type": "event"}\n', "item 1 (event) is empty"),
    ],
)
def test_a_malformed_envelope_is_refused_naming_what_is_wrong(data: bytes, says: str) -> None:
    with pytest.raises(IngestError) as caught:
        parse_envelope(data).events()
    assert caught.value.status_code == 400
    assert says in caught.value.message


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some clients send
        ("br", brotli.compress),
        ("identity", lambda b: b),
        (None, lambda b: b),
    ],
)
def test_bodies_are_decoded_whatever_the_encoding(encoding: str | None, encode: object) -> None:
    body = json.dumps(EVENT).encode() * 10
    assert decode_body(encode(body), encoding, limit=10_000) == body  # type: ignore[operator]


def test_a_body_that_is_not_what_its_encoding_says_is_a_clear_400() -> None:
    for encoding in ("gzip", "deflate", "br"):
        with pytest.raises(IngestError) as caught:
            decode_body(b'{"plain": "json"}', encoding, limit=10_000)
        assert caught.value.status_code == 400
        assert (
            f"not valid {encoding}" in caught.value.message or "ends before" in caught.value.message
        )


def test_a_truncated_compressed_body_is_refused() -> None:
    with pytest.raises(IngestError, match="ends before"):
        decode_body(gzip.compress(b"x" * 5000)[:-20], "gzip", limit=10_000)


def test_an_unknown_encoding_is_415() -> None:
    with pytest.raises(IngestError) as caught:
        decode_body(b"{}", "zstd", limit=10_000)
    assert caught.value.status_code == 415 and "gzip, deflate, br" in caught.value.message


@pytest.mark.parametrize(("encoding", "encode"), [("gzip", gzip.compress), ("br", brotli.compress)])
def test_a_body_inflating_past_the_limit_is_413_without_inflating_it_all(
    encoding: str, encode: object
) -> None:
    bomb = encode(b"\0" * 50_000_000)  # type: ignore[operator]
    assert len(bomb) < 100_000
    with pytest.raises(IngestError) as caught:
        decode_body(bomb, encoding, limit=1_000_000)
    assert caught.value.status_code == 413


def test_the_old_store_body_may_be_base64_zlib() -> None:
    packed = base64.b64encode(zlib.compress(json.dumps(EVENT).encode()))
    assert parse_store_body(packed) == EVENT
    assert parse_store_body(json.dumps(EVENT).encode()) == EVENT
    with pytest.raises(IngestError, match="not valid JSON"):
        parse_store_body(b"garbage")


def test_event_ids_are_normalised_or_made() -> None:
    dashed = "12345678-1234-1234-1234-123456789ABC"
    assert event_id_of({"event_id": dashed}) == "12345678123412341234123456789abc"
    assert event_id_of({}, {"event_id": "c" * 32}) == "c" * 32
    assert len(event_id_of({})) == 32
    with pytest.raises(IngestError, match="not a UUID"):
        event_id_of({"event_id": "1; drop table"})


@pytest.mark.parametrize(
    ("headers", "query", "key"),
    [
        (
            {"x-sentry-auth": "Sentry sentry_version=7, sentry_key=abc123, sentry_client=x"},
            "",
            "abc123",
        ),
        ({}, "sentry_key=def456&sentry_version=7", "def456"),
        ({"authorization": "Sentry sentry_key=ghi789"}, "", "ghi789"),
        ({"authorization": "DSN https://jkl012@errors.example.com/3"}, "", "jkl012"),
        ({"authorization": "Bearer mno345"}, "", "mno345"),
        ({}, "", None),
        ({"x-sentry-auth": "Sentry sentry_version=7"}, "", None),
    ],
)
def test_the_key_comes_from_the_auth_header_the_query_or_authorization(
    headers: dict[str, str], query: str, key: str | None
) -> None:
    assert sentry_key(headers, query) == key
