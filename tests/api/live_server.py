"""Real HTTP servers on 127.0.0.1 for the tests: uvicorn in a thread, or `passmuster serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from passmuster.cli.serve import server_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(base: str, *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server at {base} did not come up within {timeout}s")


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = server_for(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def passmuster_serve(
    database_url: str,
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    start_timeout: float = 90.0,
) -> Iterator[str]:
    """A real `passmuster serve` process on a free loopback port; yields the base URL.

    The wait is long because a busy shared machine has taken more than 20 s to start one."""
    port = free_port()
    full_env = {**os.environ, "PASSMUSTER_DATABASE_URL": database_url, **(env or {})}
    log = (cwd / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "passmuster", "serve", "--port", str(port), *args],
        cwd=cwd,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, timeout=start_timeout)
        yield base
    except RuntimeError:
        log.flush()
        raise RuntimeError((cwd / f"serve-{port}.log").read_text()) from None
    finally:
        stop_process(process)
        log.close()


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 10) -> None:
    """SIGTERM (a clean stop: servers and SDKs flush), then SIGKILL if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def serve_pid(port: str) -> int:
    """The pid of the `passmuster serve` process listening on `port` (found through /proc)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in cmd and port.encode() in cmd:
                return int(entry.name)
    raise AssertionError("serve process not found")
