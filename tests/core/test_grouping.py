"""Grouping runtime errors: one cause is one group, whatever differs per request."""

from __future__ import annotations

from typing import Any

from passmuster.core.error_events import details_blocks, frames_for_display, read_event, storable
from passmuster.core.grouping import group, same_cause, title
from passmuster.core.issues import Severity
from passmuster.core.regressions import (
    ResolvedIn,
    ResolveMode,
    is_newer_release,
    regresses,
)


def frame(
    function: str, lineno: int, *, module: str = "app.main", in_app: bool = True
) -> dict[str, Any]:
    return {
        "module": module,
        "function": function,
        "filename": module.replace(".", "/") + ".py",
        "lineno": lineno,
        "in_app": in_app,
        "context_line": f"    {function}()",
    }


def event(
    kind: str = "KeyError",
    value: str = "'DATABASE_URL'",
    frames: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    stack = (
        frames
        if frames is not None
        else [
            frame("run", 10, module="uvicorn.server", in_app=False),
            frame("handler", 12),
            frame("settings", 40, module="app.config"),
        ]
    )
    return {
        "exception": {"values": [{"type": kind, "value": value, "stacktrace": {"frames": stack}}]},
        **extra,
    }


def key(payload: dict[str, Any]) -> str:
    return group(read_event(payload, "e" * 32)).key


def test_the_same_cause_from_other_requests_lines_and_values_is_one_group() -> None:
    moved = [
        frame("run", 99, module="uvicorn.server", in_app=False),
        frame("handler", 80),
        frame("settings", 7, module="app.config"),
    ]
    assert key(event()) == key(
        event(value="'REDIS_URL'", frames=moved, release="2.0", user={"id": "u9"})
    )


def test_library_frames_do_not_split_a_group() -> None:
    other_library = [
        frame("serve", 1, module="gunicorn.worker", in_app=False),
        frame("handler", 12),
        frame("settings", 40, module="app.config"),
    ]
    assert key(event()) == key(event(frames=other_library))


def test_another_exception_type_or_another_place_is_another_group() -> None:
    assert key(event()) != key(event(kind="ValueError"))
    elsewhere = [frame("other_handler", 12), frame("settings", 40, module="app.config")]
    assert key(event()) != key(event(frames=elsewhere))


def test_without_a_stack_the_type_and_message_group_numbers_aside() -> None:
    assert key(event(frames=[], value="timeout after 30s on 10.0.0.7")) == key(
        event(frames=[], value="timeout after 12s on 10.0.0.9")
    )
    assert key(event(frames=[], value="timeout")) != key(event(frames=[], value="refused"))


def test_log_messages_group_by_their_template() -> None:
    one = {"logentry": {"message": "payment %s failed", "formatted": "payment 17 failed"}}
    two = {"logentry": {"message": "payment %s failed", "formatted": "payment 99 failed"}}
    assert key(one) == key(two)
    assert title(read_event(one, "e" * 32)) == "payment 17 failed"


def test_a_fingerprint_replaces_the_default_and_default_expands_inside_it() -> None:
    assert key(event(fingerprint=["db-down"])) == key(
        event(kind="OSError", fingerprint=["db-down"])
    )
    by_tenant = key(event(fingerprint=["{{ default }}", "tenant-a"]))
    assert by_tenant != key(event(fingerprint=["{{ default }}", "tenant-b"]))
    assert by_tenant == key(event(value="'X'", fingerprint=["{{default}}", "tenant-a"]))
    assert by_tenant != key(event(kind="ValueError", fingerprint=["{{ default }}", "tenant-a"]))
    assert key(event(fingerprint=["{{ type }}"])) == key(
        event(value="other", fingerprint=["{{ type }}"])
    )


def test_levels_set_the_severity() -> None:
    assert read_event({"level": "fatal"}, "e" * 32).severity is Severity.CRITICAL
    assert read_event({"level": "warning"}, "e" * 32).severity is Severity.MEDIUM
    assert read_event({"level": "nonsense"}, "e" * 32).severity is Severity.HIGH


def test_malformed_parts_of_an_event_are_skipped_not_fatal() -> None:
    odd = {
        "exception": {
            "values": [None, {"type": ["x"], "stacktrace": {"frames": [1, {"lineno": True}]}}]
        },
        "tags": "nope",
        "user": 5,
        "request": [],
    }
    read = read_event(odd, "e" * 32)
    assert read.exceptions[0].type == "Error" and read.user is None and read.tags == ()


def test_details_show_the_trace_request_and_tags_and_in_app_frames_come_first() -> None:
    payload = event(
        release="billing@1.2",
        environment="prod",
        request={"method": "post", "url": "http://x/pay", "query_string": "a=1"},
        tags={"region": "eu"},
    )
    read = read_event(payload, "e" * 32)
    trace, request, tags = details_blocks(read, "billing")
    assert trace.startswith("Traceback (most recent call last):") and trace.endswith(
        "KeyError: 'DATABASE_URL'"
    )
    assert "[library]" in trace
    assert request == "Request: POST http://x/pay?a=1"
    assert "release=billing@1.2" in tags and "region=eu" in tags and "service=billing" in tags
    in_app, library = frames_for_display(read.exceptions[0])
    assert [f.function for f in in_app] == ["settings", "handler"]
    assert [f.function for f in library] == ["run"]


def test_text_the_desk_cannot_store_is_made_storable() -> None:
    assert storable("a\x00b\ud800c") == "a\\0b?c"


def test_a_finding_and_an_error_about_the_same_cause_match() -> None:
    crash = read_event(
        event(
            kind="ImportError",
            value="cannot import name 'HTTPStatus' from 'fastapi'",
            frames=[
                {
                    "filename": "services/billing/app/main.py",
                    "lineno": 5,
                    "function": "<module>",
                    "in_app": True,
                }
            ],
        ),
        "e" * 32,
    )
    text = "CODE001 `from fastapi import HTTPStatus`: fastapi has no HTTPStatus"
    assert same_cause(crash, "services/billing/app/main.py", 5, text)
    assert same_cause(crash, "app/main.py", None, text)  # the file, and a name both quote
    assert not same_cause(crash, "services/billing/app/main.py", None, "REQ001 requirements copied")
    assert not same_cause(crash, "services/identity/app/main.py", 5, text)


def test_releases_compare_as_versions_else_by_first_seen() -> None:
    assert is_newer_release("billing@1.10.0", "billing@1.9.2", {})
    assert not is_newer_release("1.9.2", "1.10.0", {})
    seen = {"abc123": 1, "def456": 2}
    assert is_newer_release("def456", "abc123", seen)
    assert not is_newer_release("abc123", "def456", seen)
    assert is_newer_release("fresh", "abc123", seen)
    assert not is_newer_release(None, "abc123", seen)


def test_resolved_plainly_any_event_regresses_in_the_next_release_only_a_later_one() -> None:
    assert regresses(ResolvedIn(ResolveMode.ANY), None, {})
    nxt = ResolvedIn(ResolveMode.NEXT_RELEASE, "1.4.0")
    assert not regresses(nxt, "1.4.0", {}) and not regresses(nxt, "1.3.9", {})
    assert not regresses(nxt, None, {})
    assert regresses(nxt, "1.4.1", {})


def test_unmarked_frames_beside_marked_ones_are_not_the_apps() -> None:
    frames = [
        {"filename": "<frozen importlib._bootstrap>", "function": "_call", "lineno": 241},
        {"filename": "app/main.py", "function": "<module>", "lineno": 5, "in_app": True},
    ]
    read = read_event(event(kind="ImportError", frames=frames), "e" * 32)
    assert [f.function for f in read.exceptions[0].in_app_frames] == ["<module>"]
    unmarked = [{"filename": "worker.py", "function": "run", "lineno": 3}]
    assert read_event(event(frames=unmarked), "e" * 32).exceptions[0].frames[0].in_app
