"""Probes against real servers on 127.0.0.1: good answers, and every way a target can misbehave."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from passmuster.core.health import Health, ProbeResult
from passmuster.core.targets import Target
from passmuster.monitor.probes import Prober, default_client
from tests.monitor.servers import ThreadServer, free_port


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadServer]:
    with ThreadServer() as running:
        yield running


ENGINE = "native"  # set per test by the `engine` fixture


@pytest.fixture(autouse=True, params=["native", "httpx"])
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every probe test runs on the built-in h11 path and on an httpx client."""
    global ENGINE
    ENGINE = request.param
    yield ENGINE
    ENGINE = "native"


async def _closed() -> None:
    """Let the loop run the connection closes a timed-out probe scheduled, before it ends."""
    await asyncio.sleep(0.05)


def _probe(
    target: Target, client: httpx.AsyncClient | None = None, verify: bool = True, **kw: int
) -> ProbeResult:
    async def go() -> ProbeResult:
        if client is None and ENGINE == "native":
            result = await Prober(None, verify=verify, **kw).probe(target)
        else:
            async with client or default_client(verify=verify) as http:
                result = await Prober(http, **kw).probe(target)
        await _closed()
        return result

    return asyncio.run(go())


def test_a_healthy_service_passes(server: ThreadServer) -> None:
    result = _probe(Target(name="t", url=server.url("/health")))
    assert result.ok and result.status_code == 200 and result.health is Health.UP


def test_gatus_conditions_are_checked_against_the_body(server: ThreadServer) -> None:
    good = Target(name="t", url=server.url(), conditions=("[STATUS] == 200", "[BODY].status == UP"))
    bad = Target(name="t", url=server.url(), conditions=("[BODY].status == DOWN",))
    assert _probe(good).ok
    result = _probe(bad)
    assert not result.ok and result.reason == "condition [BODY].status == DOWN failed (saw 'UP')"


def test_an_error_status_fails_with_the_status(server: ThreadServer) -> None:
    result = _probe(Target(name="t", url=server.url("/status/503")))
    assert not result.ok and result.reason == "HTTP 503" and result.status_code == 503


def test_health_json_warn_is_degraded_and_fail_is_down(server: ThreadServer) -> None:
    warn = _probe(Target(name="t", url=server.url("/warn")))
    assert warn.ok and warn.health is Health.DEGRADED and "db:connections warn" in warn.reason
    fail = _probe(Target(name="t", url=server.url("/fail")))
    assert not fail.ok and fail.health is Health.DOWN


def test_a_body_nested_too_deeply_for_json_is_read_as_text(server: ThreadServer) -> None:
    plain = _probe(Target(name="t", url=server.url("/deep")))
    assert plain.ok  # no condition on the body: any status below 400 passes
    checked = _probe(Target(name="t", url=server.url("/deep"), conditions=("[BODY].a == 1",)))
    assert not checked.ok and checked.reason.startswith("condition [BODY].a == 1 failed")


def test_a_refused_connection_says_so() -> None:
    result = _probe(Target(name="t", url=f"http://127.0.0.1:{free_port()}/health"))
    assert not result.ok and result.reason == "connection refused"


def test_an_unknown_host_is_a_dns_failure() -> None:
    result = _probe(Target(name="t", url="http://no-such-host.invalid/health", timeout=5))
    assert not result.ok and result.reason.startswith("DNS lookup failed")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with ThreadServer(tls=context) as running:
        yield running


def test_a_self_signed_certificate_is_not_trusted(tls_server: ThreadServer) -> None:
    url = f"https://127.0.0.1:{tls_server.port}/health"
    result = _probe(Target(name="t", url=url, timeout=5))
    assert not result.ok and result.reason.startswith("TLS certificate not trusted")


def test_tls_without_verification_passes(tls_server: ThreadServer) -> None:
    url = f"https://127.0.0.1:{tls_server.port}/health"
    result = _probe(Target(name="t", url=url, timeout=5), verify=False)
    assert result.ok


@pytest.mark.parametrize(
    ("path", "timeout", "reason"),
    [
        ("/hang", 0.3, "no complete answer within 0.3s"),
        ("/slow", 0.3, "no complete answer within 0.3s"),
        # These end on their own long before the deadline; a roomy one keeps a busy machine
        # from turning them into timeouts.
        ("/huge", 10, "body larger than 65536 bytes"),
        ("/loop", 10, "redirected more than 5 times (last to /loop/6)"),
    ],
)
def test_a_hostile_target_fails_within_its_timeout(
    server: ThreadServer, path: str, timeout: float, reason: str
) -> None:
    started = time.monotonic()
    result = _probe(Target(name="t", url=server.url(path), timeout=timeout))
    assert not result.ok and result.reason == reason
    assert time.monotonic() - started < timeout + 5  # bounded; not a timing claim


def test_a_gigabyte_body_fails_even_with_a_large_cap_and_a_short_timeout(
    server: ThreadServer,
) -> None:
    result = _probe(Target(name="t", url=server.url("/huge"), timeout=0.3), max_body_bytes=1 << 31)
    assert not result.ok and result.reason == "no complete answer within 0.3s"


def test_tcp_probe_connects_or_says_refused(server: ThreadServer) -> None:
    assert _probe(Target(name="db", url=f"tcp://127.0.0.1:{server.port}")).ok
    result = _probe(Target(name="db", url=f"tcp://127.0.0.1:{free_port()}"))
    assert not result.ok and result.reason == "connection refused"


def test_an_injected_httpx_client_is_used(server: ThreadServer) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"status": "UP"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    result = _probe(Target(name="t", url="http://identity:8000/healthz"), client=client)
    assert result.ok and seen == ["http://identity:8000/healthz"]


def test_a_hanging_target_does_not_hold_up_the_others(server: ThreadServer) -> None:
    async def go() -> list[ProbeResult]:
        async with default_client() as http:
            prober = Prober(http if ENGINE == "httpx" else None, concurrency=4)
            targets = [Target(name="h", url=server.url("/hang"), timeout=2)] * 2 + [
                Target(name=f"ok{i}", url=server.url()) for i in range(20)
            ]
            tasks = [asyncio.create_task(prober.probe(t)) for t in targets]
            done, _ = await asyncio.wait(tasks[2:], timeout=1.5)
            assert len(done) == 20  # all fine probes finished while the two hung
            results = await asyncio.gather(*tasks)
        await _closed()
        return results

    results = asyncio.run(go())
    assert [r.ok for r in results] == [False, False] + [True] * 20


def test_an_answer_arriving_after_the_probe_gave_up_is_dropped_quietly() -> None:
    # The race (deadline fires, then the response is read in the same loop turn) cannot be
    # forced with a real server; the protocol object is driven directly instead.
    import h11

    from passmuster.monitor.probes import _Exchange

    class Transport(asyncio.WriteTransport):
        closed = False

        def write(self, data: bytes | bytearray | memoryview) -> None:
            pass

        def close(self) -> None:
            self.closed = True

    async def go() -> bool:
        exchange = _Exchange(h11.Request(method="GET", target="/", headers=[("Host", "x")]), 100)
        transport = Transport()
        exchange.connection_made(transport)
        exchange.head.cancel()
        exchange.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        exchange.connection_lost(None)
        return transport.closed

    assert asyncio.run(go()) is True
