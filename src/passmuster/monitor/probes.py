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
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import h11
import httpx

from passmuster.core.health import (
    Condition,
    ProbeResult,
    Seen,
    check_conditions,
    health_json_verdict,
)
from passmuster.core.targets import Target
from passmuster.monitor.clock import now_ms

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
        client: httpx.AsyncClient | None = None,
        *,
        concurrency: int = 256,
        max_body_bytes: int = 65536,
        max_redirects: int = 5,
        verify: bool = True,
    ) -> None:
        # Without an injected client, HTTP goes straight to h11 over asyncio (`_fetch_native`):
        # half the work per probe of going through httpx, which is what lets one core keep
        # ahead of blackbox_exporter. An injected client (tests, proxies, custom auth) is used
        # as it is.
        self._client = client
        self._ssl = ssl.create_default_context() if verify else _insecure_context()
        self._limit = asyncio.Semaphore(concurrency)
        self.max_body_bytes = max_body_bytes
        self.max_redirects = max_redirects

    async def probe(self, target: Target) -> ProbeResult:
        async with self._limit:
            at = now_ms()
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
            except (OSError, ssl.SSLError, h11.ProtocolError) as exc:
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
        if self._client is None:
            got = await self._fetch_native(target)
        else:
            got = await self._fetch_httpx(self._client, target)
        latency = time.perf_counter() - started
        if got.problem is not None:
            return Seen(True, latency, got.status), got.problem, False
        body = _decode(got.raw, got.content_type)
        seen = Seen(True, latency, got.status, body)
        conditions = target.parsed_conditions()
        if conditions:
            failed = check_conditions(conditions, seen)
        elif got.status >= 400:
            failed = f"HTTP {got.status}"
        else:
            failed = None
        if failed is None and got.content_type == HEALTH_JSON:
            ok, degraded, note = health_json_verdict(body)
            if not ok:
                return seen, note, False
            if degraded:
                return seen, note, True
        return seen, failed, False

    async def _fetch_httpx(self, client: httpx.AsyncClient, target: Target) -> _Fetched:
        request = client.build_request(
            target.method, target.url, headers=dict(target.headers) or None
        )
        redirects = 0
        while True:
            response = await client.send(request, stream=True)
            try:
                if response.has_redirect_location and response.next_request is not None:
                    if redirects >= self.max_redirects:
                        return _Fetched(
                            response.status_code,
                            problem=self._too_many(response.headers.get("location", "?")),
                        )
                    redirects += 1
                    request = response.next_request
                    continue
                raw, too_big = await self._read_capped(response)
            finally:
                await response.aclose()
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if too_big:
                return _Fetched(response.status_code, problem=self._too_big())
            return _Fetched(response.status_code, content_type, raw)

    async def _fetch_native(self, target: Target) -> _Fetched:
        url, method = target.url, target.method
        loop = asyncio.get_running_loop()
        redirects = 0
        while True:
            parts = urlsplit(url)
            https = parts.scheme == "https"
            host = parts.hostname or ""
            port = parts.port or (443 if https else 80)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            headers = [
                ("Host", parts.netloc.rpartition("@")[2]),
                ("User-Agent", USER_AGENT),
                ("Accept", "*/*"),
                ("Connection", "close"),
                *target.headers,
            ]
            cap = self.max_body_bytes
            exchange = _Exchange(h11.Request(method=method, target=path, headers=headers), cap)
            transport, _ = await loop.create_connection(
                lambda exchange=exchange: exchange,
                host,
                port,
                ssl=self._ssl if https else None,
                server_hostname=host if https else None,
            )
            try:
                head = await exchange.head
                fields = {bytes(k).decode("latin-1"): bytes(v) for k, v in head.headers}
                location = fields.get("location")
                if 300 <= head.status_code < 400 and location is not None:
                    where = location.decode("latin-1")
                    if redirects >= self.max_redirects:
                        return _Fetched(head.status_code, problem=self._too_many(where))
                    redirects += 1
                    url = urljoin(url, where)
                    if head.status_code == 303:
                        method = "GET"
                    continue
                declared = fields.get("content-length", b"")
                if declared.isdigit() and int(declared) > cap:
                    return _Fetched(head.status_code, problem=self._too_big())
                raw, too_big = await exchange.body
                if too_big:
                    return _Fetched(head.status_code, problem=self._too_big())
                content_type = (
                    fields.get("content-type", b"").decode("latin-1").split(";")[0].strip().lower()
                )
                return _Fetched(head.status_code, content_type, raw)
            finally:
                transport.close()

    def _too_many(self, location: str) -> str:
        return f"redirected more than {self.max_redirects} times (last to {location})"

    def _too_big(self) -> str:
        return f"body larger than {self.max_body_bytes} bytes"

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


@dataclass(frozen=True, slots=True)
class _Fetched:
    status: int
    content_type: str = ""
    raw: bytes = b""
    problem: str | None = None  # a reason the probe fails before its body is looked at


class _Exchange(asyncio.Protocol):
    """One HTTP/1.1 request and its response on a fresh connection, parsed by h11.

    A protocol rather than asyncio streams: a probe is a few small reads, and skipping the
    stream layer saves a quarter of the CPU per probe. The body is kept only up to `cap`
    bytes; past it the connection is closed, so a gigabyte is never held.
    """

    def __init__(self, request: h11.Request, cap: int) -> None:
        loop = asyncio.get_running_loop()
        self.head: asyncio.Future[h11.Response] = loop.create_future()
        self.body: asyncio.Future[tuple[bytes, bool]] = loop.create_future()
        self._request = request
        self._cap = cap
        self._size = 0
        self._chunks: list[bytes] = []
        self._conn = h11.Connection(h11.CLIENT)
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(self._conn.send(self._request) + self._conn.send(h11.EndOfMessage()))

    def data_received(self, data: bytes) -> None:
        self._feed(data)

    def eof_received(self) -> bool | None:
        self._feed(b"")
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        error = exc or ConnectionResetError("connection closed before a complete response")
        for future in (self.head, self.body):
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: an abandoned exchange must not log noise

    def _feed(self, data: bytes) -> None:
        if self.body.done() or self.head.cancelled():
            # Finished, or the probe gave up (its deadline cancelled the wait): drop the rest.
            if self._transport is not None:
                self._transport.close()
            return
        try:
            self._conn.receive_data(data)
            while True:
                event = self._conn.next_event()
                if event is h11.NEED_DATA:
                    return
                if isinstance(event, h11.Response):
                    if not self.head.done():
                        self.head.set_result(event)
                elif isinstance(event, h11.Data):
                    self._size += len(event.data)
                    if self._size > self._cap:
                        self._finish(b"", True)
                        return
                    self._chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    self._finish(b"".join(self._chunks), False)
                    return
        except h11.RemoteProtocolError as exc:
            for future in (self.head, self.body):
                if not future.done():
                    future.set_exception(exc)
                    future.exception()
            if self._transport is not None:
                self._transport.close()

    def _finish(self, raw: bytes, too_big: bool) -> None:
        if not self.head.done():
            self.head.set_exception(h11.RemoteProtocolError("no response head"))
            self.head.exception()
        self.body.set_result((raw, too_big))
        self._chunks = []
        if self._transport is not None:
            self._transport.close()


def _decode(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if content_type.endswith("json") or text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # a body nested too deeply is just text
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
        if isinstance(current, httpx.RemoteProtocolError | h11.ProtocolError):
            return f"bad HTTP response: {current}"
        current = current.__cause__ or current.__context__
    text = str(exc).strip()
    if "Name or service not known" in text or "nodename nor servname" in text:
        return f"DNS lookup failed: {text}"
    if "refused" in text.lower():
        return "connection refused"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
