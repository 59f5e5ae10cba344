"""Real HTTP servers on 127.0.0.1 for the monitor's tests: well-behaved and hostile ones.

Run in a thread (`ThreadServer`) for probe tests, or as a process (`python servers.py PORT`) for
tests that kill a service and start it again. Every route is answered by raw asyncio so hostile
behaviour (never answering, a gigabyte body, endless redirects) is exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Self

CHUNK = b"x" * 65536
GIGABYTE = 1 << 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _response(
    status: int, body: bytes, content_type: str = "application/json", extra: str = ""
) -> bytes:
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
    )
    return head.encode() + body


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    path = head.split(b" ", 2)[1].decode()
    try:
        if path.startswith("/hang"):
            await asyncio.sleep(3600)
        elif path.startswith("/slow"):  # slowloris: a header byte a second, forever
            writer.write(b"HTTP/1.1 200 OK\r\n")
            while True:
                writer.write(b"X")
                await writer.drain()
                await asyncio.sleep(0.2)
        elif path.startswith("/huge"):  # a gigabyte, streamed, never allocated at once
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            sent = 0
            while sent < GIGABYTE:
                writer.write(b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n")
                await writer.drain()
                sent += len(CHUNK)
        elif path.startswith("/loop"):
            n = int(path.rsplit("/", 1)[-1]) if path.count("/") > 1 else 0
            writer.write(_response(302, b"", extra=f"Location: /loop/{n + 1}\r\n"))
        elif path.startswith("/status/"):
            writer.write(_response(int(path.rsplit("/", 1)[-1]), b"{}"))
        elif path.startswith("/warn"):
            body = {"status": "pass", "checks": {"db:connections": [{"status": "warn"}]}}
            writer.write(_response(200, json.dumps(body).encode(), "application/health+json"))
        elif path.startswith("/fail"):
            writer.write(_response(503, b'{"status":"fail"}', "application/health+json"))
        elif path.startswith("/deep"):  # JSON nested 30,000 levels: json.loads recursion
            writer.write(_response(200, b"[" * 30_000 + b"]" * 30_000, "application/json"))
        else:
            writer.write(_response(200, b'{"status":"UP"}'))
        await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class ThreadServer:
    """The hostile/ok server in a background thread with its own event loop."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.port = free_port()
        self._tls = tls
        self.handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]] = (
            handle
        )
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._server = await asyncio.start_server(
                self.handler, "127.0.0.1", self.port, ssl=self._tls
            )
            self._ready.set()
            await self._server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError):
            self._loop.run_until_complete(main())
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(asyncio.sleep(0.05))  # let the closes just scheduled run
        self._loop.close()

    def url(self, path: str = "/health") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(5)


class ProcessServer:
    """An ok server in its own process, so a test can kill it (SIGKILL) and start it again."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, path: str = "/health") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> ProcessServer:
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__)), str(self.port)])
        wait_for_port(self.port)
        return self

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None

    def __enter__(self) -> ProcessServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def wait_until(check: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise TimeoutError("condition not reached in time")


def main() -> None:
    port = int(sys.argv[1])

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers from a script, then 200, and records
    every request (path, headers, JSON body). `script` holds statuses (or (status, headers))
    to answer first, e.g. [503, 503] fails twice then succeeds."""

    def __init__(
        self, script: list[int | tuple[int, dict[str, str]]] | None = None, *, delay: float = 0.0
    ) -> None:
        self.script = list(script or [])
        self.closed = False  # while closed, every request gets a slow 503
        self.delay = delay
        self.requests: list[tuple[str, dict[str, str], object]] = []
        self.accepted: list[object] = []
        self._lock = threading.Lock()
        self._server = ThreadServer()
        self.port = self._server.port

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            payload = json.loads(body) if body else None
            if self.closed and self.delay:
                await asyncio.sleep(self.delay)
            with self._lock:
                self.requests.append((path, headers, payload))
                if self.closed:
                    answer: int | tuple[int, dict[str, str]] = 503
                else:
                    answer = self.script.pop(0) if self.script else 200
                status, extra = answer if isinstance(answer, tuple) else (answer, {})
                if status < 300:
                    self.accepted.append(payload)
            more = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
            writer.write(_response(status, b"{}", extra=more))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Receiver:
        self._server.handler = self._handle
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)
