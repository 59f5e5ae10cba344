"""Requests are checked before their bodies are read: the attacks once made on `serve`
(anonymous 300 MB bodies that grew the server to 1.9 GB, a 100 MB body accepted with a token,
no limit on /login, 405 for HEAD) each get the answer they should, at once."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.helpers import Api
from api.live_server import passmuster_serve, serve_pid
from passmuster.api.guard import LoginLimiter
from passmuster.usecases.desk import Desk

HUGE = 300 * 1024 * 1024


def _raw(base: str, head: str, body: bytes = b"", *, wait: float = 10.0) -> str:
    """Send a request's head and the start of its body on a raw socket; the status line back.

    The server must answer without waiting for the rest of the body, which never comes.
    """
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as conn:
        conn.sendall(head.encode() + b"\r\n" + body)
        answer = conn.recv(65536).decode("latin-1")
    return answer.split("\r\n", 1)[0]


def test_an_anonymous_body_declared_huge_is_refused_unread(api: Api) -> None:
    base = str(api.client.base_url)
    head = (
        "POST /api/v1/issues HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
        f"content-length: {HUGE}\r\n"
    )
    assert _raw(base, head, b'{"title": "') == "HTTP/1.1 413 Request Entity Too Large"


def test_an_anonymous_chunked_body_is_refused_before_it_is_read(api: Api) -> None:
    base = str(api.client.base_url)
    head = (
        "POST /api/v1/issues HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
        "transfer-encoding: chunked\r\n"
    )
    assert _raw(base, head, b"100000\r\n" + b"x" * 4096) == "HTTP/1.1 401 Unauthorized"


def test_a_token_holder_cannot_send_a_body_over_the_limit(api: Api) -> None:
    big = {"title": "x", "description": "y" * (2 * 1024 * 1024)}
    response = api.post("/api/v1/issues", "reporter", json=big)
    assert response.status_code == 413
    assert response.json()["error"]["message"] == "request body larger than 1048576 bytes"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"title": "x", "description": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    streamed = api.client.post(
        "/api/v1/issues",
        headers={**api.auth("reporter"), "content-type": "application/json"},
        content=chunks(),
    )
    assert streamed.status_code == 413
    assert api.get("/api/v1/issues").json()["total"] == 0


def test_a_body_within_the_limit_is_accepted(api: Api) -> None:
    text = "y" * 99_000
    draft = {"title": "x", "description": text, "impact": text, "error_details": [text] * 8}
    response = api.post("/api/v1/issues", "reporter", json=draft)  # some 990 kB
    assert response.status_code == 201, response.text[:300]


def test_an_uploaded_scan_report_may_be_larger(api: Api) -> None:
    finding = {"code": "PM001", "message": "m" * 4000, "path": "a.yml", "severity": "low"}
    report = {"rules": ["PM001"], "findings": [dict(finding, path=f"f{i}.yml") for i in range(600)]}
    response = api.post("/api/v1/scans", "coordinator", json=report)  # some 2.4 MB
    assert response.status_code == 200, response.text[:300]


def test_a_page_form_without_a_session_goes_to_login_unread(api: Api) -> None:
    base = str(api.client.base_url)
    head = (
        "POST /issues/new HTTP/1.1\r\nHost: x\r\n"
        "content-type: application/x-www-form-urlencoded\r\ncontent-length: 500000\r\n"
    )
    assert _raw(base, head, b"title=") == "HTTP/1.1 303 See Other"


def test_login_attempts_are_limited_per_client(api: Api) -> None:
    answers = [
        api.client.post("/login", data={"token": "pm_wrong", "csrf_token": "x"}) for _ in range(12)
    ]
    codes = [a.status_code for a in answers]
    assert 429 not in codes[:10]
    assert codes[10:] == [429, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert "too many login attempts" in answers[-1].text


def test_the_login_limiter_refills_over_time() -> None:
    limiter = LoginLimiter(attempts=2, window=10.0)
    assert limiter.wait("a", now=0.0) == 0 and limiter.wait("a", now=0.0) == 0
    assert limiter.wait("a", now=0.0) == pytest.approx(5.0)
    assert limiter.wait("b", now=0.0) == 0  # per client
    assert limiter.wait("a", now=5.0) == 0


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/issues", "/api/v1/openapi.json", "/login"])
def test_head_answers_every_get_route_without_a_body(api: Api, path: str) -> None:
    get = api.get(path)
    head = api.client.head(path, headers=api.auth("reader"))
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize("path", ["/api/v1/events/stream"])
def test_head_on_a_stream_ends_after_its_headers(api: Api, path: str) -> None:
    head = api.client.head(path, headers=api.auth("reader"), timeout=10)
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/event-stream")


def test_head_without_a_token_is_refused_like_get(api: Api) -> None:
    assert api.client.head("/api/v1/issues").status_code == 401


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_four_anonymous_300_mb_uploads_leave_the_server_small(tmp_path: Path) -> None:
    """The attack as made, against a real `passmuster serve`; before, it grew to 1.9 GB."""
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    Desk.connect(url).close()
    with passmuster_serve(url, cwd=tmp_path) as base:
        pid = serve_pid(base.rsplit(":", 1)[1])
        # /mcp answers once the server has loaded the MCP SDK, which it does after starting:
        # measure from there, or that load would count as growth.
        assert httpx.post(f"{base}/mcp", timeout=60).status_code == 401
        before = _rss_mb(pid)
        answers: list[int] = []

        def upload() -> None:
            def body() -> Iterator[bytes]:
                block = b"x" * (1024 * 1024)
                for _ in range(300):
                    yield block

            try:
                with httpx.Client(timeout=30) as client:
                    answers.append(client.post(f"{base}/api/v1/issues", content=body()).status_code)
            except httpx.HTTPError:
                answers.append(0)  # the server closed the connection mid-upload: also fine

        threads = [threading.Thread(target=upload) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        after = _rss_mb(pid)
        assert httpx.get(f"{base}/healthz").status_code == 200
    assert set(answers) <= {401, 0} and len(answers) == 4
    assert after - before < 50, f"RSS grew from {before:.0f} MB to {after:.0f} MB"
