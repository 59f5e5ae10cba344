"""HTTP and TCP probes on an injected httpx client.

Each probe runs under one total deadline (`asyncio.timeout`), not a per-read timeout: a server
that trickles one byte a second (slowloris) or streams a gigabyte still ends at the target's
timeout. Bodies are read in chunks and abandoned past `max_body_bytes`; redirects are followed
by hand so a redirect's own body is never read and a loop ends after `max_redirects`. Every
way a probe can go wrong ends as a failed `ProbeResult` with a reason a person can act on.

The default client uses `ProbeTransport`: a lean HTTP/1.1 transport on h11 over asyncio
streams that opens a fresh connection per probe (as blackbox_exporter does, so a probe also
proves the service still accepts connections) and skips httpx's connection pool, which is the
slow part of httpx at thousands of probes a second. Tests and users may inject any
`httpx.AsyncClient` instead.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import h11
import httpx

from passmuster.core.health import (
    Condition,
    ProbeResult,
    Seen,
    check_conditions,
    health_json_verdict,
)
from passmuster.monitor.targets import Target

USER_AGENT = "passmuster-monitor"
HEALTH_JSON = "application/health+json"


class ProbeTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over a fresh connection per request, body streamed lazily.

    No timeouts of its own: the prober wraps the whole exchange in one deadline.
    """

    def __init__(self, *, verify: bool = True) -> None:
        self._ssl = ssl.create_default_context() if verify else _insecure_context()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        https = url.scheme == "https"
        port = url.port or (443 if https else 80)
        try:
            reader, writer = await asyncio.open_connection(
                url.host,
                port,
                ssl=self._ssl if https else None,
                server_hostname=url.host if https else None,
            )
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        conn = h11.Connection(h11.CLIENT)
        try:
            headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"connection"]
            headers.append((b"Connection", b"close"))
            body = await request.aread()
            writer.write(
                conn.send(h11.Request(method=request.method, target=url.raw_path, headers=headers))
            )
            if body:
                writer.write(conn.send(h11.Data(data=body)))
            writer.write(conn.send(h11.EndOfMessage()))
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    data = await reader.read(65536)
                    conn.receive_data(data)
                    continue
                if isinstance(event, h11.InformationalResponse):
                    continue
                if isinstance(event, h11.Response):
                    break
                raise httpx.RemoteProtocolError(
                    "connection closed before a response", request=request
                )
        except h11.RemoteProtocolError as exc:
            writer.close()
            raise httpx.RemoteProtocolError(
                f"invalid HTTP response: {exc}", request=request
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            writer.close()
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        except BaseException:
            writer.close()
            raise
        return httpx.Response(
            event.status_code,
            headers=[(bytes(k), bytes(v)) for k, v in event.headers],
            stream=_H11Body(conn, reader, writer),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )


class _H11Body(httpx.AsyncByteStream):
    def __init__(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._conn = conn
        self._reader = reader
        self._writer = writer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(f"invalid HTTP body: {exc}") from exc
            if event is h11.NEED_DATA:
                try:
                    data = await self._reader.read(65536)
                except (OSError, ssl.SSLError) as exc:
                    raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
                self._conn.receive_data(data)
                continue
            if isinstance(event, h11.Data):
                yield bytes(event.data)
                continue
            return

    async def aclose(self) -> None:
        self._writer.close()


def _insecure_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def default_client(*, verify: bool = True) -> httpx.AsyncClient:
    """The client the monitor uses unless one is injected. Redirects are the prober's job."""
    return httpx.AsyncClient(
        transport=ProbeTransport(verify=verify),
        follow_redirects=False,
        timeout=None,
        headers={"User-Agent": USER_AGENT},
    )


class Prober:
    """Runs probes with a global concurrency limit; never raises for a failing target."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        concurrency: int = 256,
        max_body_bytes: int = 65536,
        max_redirects: int = 5,
    ) -> None:
        self._client = client
        self._limit = asyncio.Semaphore(concurrency)
        self.max_body_bytes = max_body_bytes
        self.max_redirects = max_redirects

    async def probe(self, target: Target) -> ProbeResult:
        async with self._limit:
            at = int(time.time() * 1000)
            started = time.perf_counter()
            try:
                async with asyncio.timeout(target.timeout):
                    if target.kind == "tcp":
                        seen, reason, degraded = await self._tcp(target, started)
                    else:
                        seen, reason, degraded = await self._http(target, started)
            except TimeoutError:
                return ProbeResult(
                    ok=False,
                    latency=time.perf_counter() - started,
                    at=at,
                    reason=f"no complete answer within {target.timeout:g}s",
                )
            except httpx.HTTPError as exc:
                return ProbeResult(
                    ok=False, latency=time.perf_counter() - started, at=at, reason=_reason(exc)
                )
            except (OSError, ssl.SSLError) as exc:
                return ProbeResult(
                    ok=False, latency=time.perf_counter() - started, at=at, reason=_reason(exc)
                )
            return ProbeResult(
                ok=reason is None or degraded,
                latency=seen.latency,
                at=at,
                reason=reason or "",
                status_code=seen.status_code,
                degraded=degraded,
            )

    async def _tcp(self, target: Target, started: float) -> tuple[Seen, str | None, bool]:
        parts = urlsplit(target.url)
        host, port = parts.hostname or "", parts.port or 0
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            seen = Seen(connected=False, latency=time.perf_counter() - started)
            conditions = target.parsed_conditions() or [Condition.parse("[CONNECTED] == true")]
            failed = check_conditions(conditions, seen)
            return seen, (_reason(exc) if failed else None), False
        latency = time.perf_counter() - started
        writer.close()
        seen = Seen(connected=True, latency=latency)
        conditions = target.parsed_conditions() or [Condition.parse("[CONNECTED] == true")]
        return seen, check_conditions(conditions, seen), False

    async def _http(self, target: Target, started: float) -> tuple[Seen, str | None, bool]:
        request = self._client.build_request(
            target.method, target.url, headers=dict(target.headers) or None
        )
        redirects = 0
        while True:
            response = await self._client.send(request, stream=True)
            try:
                if response.has_redirect_location and response.next_request is not None:
                    if redirects >= self.max_redirects:
                        return (
                            Seen(True, time.perf_counter() - started, response.status_code),
                            f"redirected more than {self.max_redirects} times "
                            f"(last to {response.headers.get('location', '?')})",
                            False,
                        )
                    redirects += 1
                    request = response.next_request
                    continue
                raw, too_big = await self._read_capped(response)
            finally:
                await response.aclose()
            latency = time.perf_counter() - started
            if too_big:
                return (
                    Seen(True, latency, response.status_code),
                    f"body larger than {self.max_body_bytes} bytes",
                    False,
                )
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            body = _decode(raw, content_type)
            seen = Seen(True, latency, response.status_code, body)
            conditions = target.parsed_conditions()
            if conditions:
                failed = check_conditions(conditions, seen)
            elif response.status_code >= 400:
                failed = f"HTTP {response.status_code}"
            else:
                failed = None
            if failed is None and content_type == HEALTH_JSON:
                ok, degraded, note = health_json_verdict(body)
                if not ok:
                    return seen, note, False
                if degraded:
                    return seen, note, True
            return seen, failed, False

    async def _read_capped(self, response: httpx.Response) -> tuple[bytes, bool]:
        """The body up to the cap; (bytes, True) once more arrives. Never holds more than cap."""
        if response.is_stream_consumed:  # a client that read it already (e.g. a mock)
            body = response.content
            return (b"", True) if len(body) > self.max_body_bytes else (body, False)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return b"", True
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"", True
            chunks.append(chunk)
        return b"".join(chunks), False


def _decode(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if content_type.endswith("json") or text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _reason(exc: BaseException) -> str:
    """A clear reason from an exception chain: refused, DNS, TLS, reset …"""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return f"DNS lookup failed: {current.strerror or current}"
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted: {current.verify_message or current.reason}"
        if isinstance(current, ssl.SSLError):
            return f"TLS handshake failed: {current.reason or current}"
        if isinstance(current, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(current, httpx.TooManyRedirects):
            return "too many redirects"
        if isinstance(current, httpx.RemoteProtocolError):
            return f"bad HTTP response: {current}"
        current = current.__cause__ or current.__context__
    text = str(exc).strip()
    if "Name or service not known" in text or "nodename nor servname" in text:
        return f"DNS lookup failed: {text}"
    if "refused" in text.lower():
        return "connection refused"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
