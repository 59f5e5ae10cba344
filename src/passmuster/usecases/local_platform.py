"""Run a platform's services as local processes, so the monitor has something real to watch.

For every service whose command is `uvicorn module:app` (read from its compose file or
Dockerfile by the scanner, never by importing it), start `python -m uvicorn module:app` on a
free 127.0.0.1 port with `PORT` set, in the folder its image would run it from. Compose
environment values that name other services (`http://identity:8001`) are rewritten to the
local ports. Infrastructure images (PostgreSQL, Redis, RabbitMQ) are mapped to a local server
when one answers on its usual port, and otherwise left out.

`LocalPlatform.base_urls` is what the monitor needs (`--base-url` pairs), and `unavailable`
the services it should skip. A service that crashes on start (say, an import error) is kept
and reported: its port stays allocated so the monitor sees it down.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from passmuster.core.targets import MonitorConfig, apply_base_url

# Infrastructure a developer often runs locally, by compose image name prefix.
LOCAL_INFRA = {"postgres": 5432, "redis": 6379, "rabbitmq": 5672, "mysql": 3306}


@dataclass(slots=True)
class LocalService:
    name: str
    port: int
    cwd: Path
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(slots=True)
class LocalPlatform:
    root: Path
    services: dict[str, LocalService] = field(default_factory=dict)
    base_urls: dict[str, str] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)  # not runnable here; skip them
    log_dir: Path | None = None
    _logs: list[IO[bytes]] = field(default_factory=list)

    def __enter__(self) -> LocalPlatform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def failed(self) -> dict[str, str]:
        """Services that did not come up, with the last lines of their output."""
        return {n: s.error for n, s in self.services.items() if s.error}

    def start(self, name: str, *, wait: float = 15.0) -> bool:
        """(Re)start one service on its port; True once it accepts connections."""
        self._launch(name)
        return self._ready([name], wait)[name]

    def _launch(self, name: str) -> None:
        service = self.services[name]
        if service.running:
            return
        log = service.log.open("ab")
        self._logs.append(log)
        service.process = subprocess.Popen(
            _dies_with_this_process(service.command),
            cwd=service.cwd,
            env=service.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal reaches the monitor, not these
        )
        service.error = None

    def _ready(self, names: list[str], wait: float) -> dict[str, bool]:
        """Wait until each service listens or exits; records why those that fail did."""
        result: dict[str, bool] = {}
        deadline = time.monotonic() + wait
        pending = list(names)
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                service = self.services[name]
                assert service.process is not None
                if service.process.poll() is not None:
                    service.error = (
                        _tail(service.log) or f"exited with {service.process.returncode}"
                    )
                    result[name] = False
                    pending.remove(name)
                elif _listening(service.port):
                    result[name] = True
                    pending.remove(name)
            time.sleep(0.05)
        for name in pending:
            self.services[name].error = f"not listening on 127.0.0.1:{self.services[name].port}"
            result[name] = False
        return result

    def kill(self, name: str) -> None:
        """SIGKILL one service, as a crash would."""
        service = self.services[name]
        if service.process is not None and service.process.poll() is None:
            service.process.kill()
            service.process.wait(5)

    def stop(self, names: Iterable[str] | None = None) -> None:
        """Stop services (all by default): SIGTERM, then SIGKILL after five seconds."""
        chosen = [self.services[n] for n in names] if names is not None else self.services.values()
        running = [s for s in chosen if s.process is not None and s.process.poll() is None]
        for service in running:
            assert service.process is not None
            with contextlib.suppress(ProcessLookupError):
                service.process.send_signal(signal.SIGTERM)
        for service in running:
            assert service.process is not None
            try:
                service.process.wait(5)
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait(5)
        if names is None:
            for log in self._logs:
                log.close()
            self._logs.clear()

    def monitor_config(self, config: MonitorConfig) -> MonitorConfig:
        """`config` with these base URLs, and the services not running here disabled."""
        merged = config.model_copy(update={"base_urls": {**config.base_urls, **self.base_urls}})
        return merged.without(self.unavailable)


def start_local_platform(
    root: Path,
    *,
    only: Iterable[str] | None = None,
    log_dir: Path | None = None,
    python: str = sys.executable,
    wait: float = 15.0,
    env: Callable[[str], Mapping[str, str]] | None = None,
) -> LocalPlatform:
    """Start the platform under `root` (its compose files) as local processes.

    `env(name)` gives variables to set for one service beyond its compose environment (the
    demo's SENTRY_DSN, so the services report their errors to the demo's desk).
    """
    from passmuster.scanner.config import ScanConfig
    from passmuster.scanner.context import discover
    from passmuster.settings import find_config

    root = root.resolve()
    project = find_config(root)
    platform = discover(root, ScanConfig.from_project(project) if project.root == root else None)
    wanted = set(only) if only is not None else None
    logs = log_dir or root / ".passmuster" / "local"
    logs.mkdir(parents=True, exist_ok=True)
    local = LocalPlatform(root, log_dir=logs)
    runnable: list[tuple[Any, Path, str]] = []
    for service in platform.by_name().values():
        if wanted is not None and service.name not in wanted:
            continue
        found = uvicorn_app(service, root)
        if found is not None:
            runnable.append((service, *found))
            continue
        infra = local_infra_port(service)
        if infra is not None and _listening(infra):
            local.base_urls[service.name] = f"127.0.0.1:{infra}"
        else:
            local.unavailable.append(service.name)
    ports = {service.name: _free_port() for service, _, _ in runnable}
    for name, port in ports.items():
        local.base_urls[name] = f"http://127.0.0.1:{port}"
    for service, cwd, app in runnable:
        port = ports[service.name]
        service_env: dict[str, str] = {**os.environ}
        for var in service.env.values():
            if var.value is not None:
                service_env[var.name] = localise_url(var.value, local.base_urls)
        service_env.update({"PORT": str(port), "HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1"})
        service_env.update(env(service.name) if env is not None else {})
        local.services[service.name] = LocalService(
            name=service.name,
            port=port,
            cwd=cwd,
            command=[python, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)],
            env=service_env,
            log=logs / f"{service.name}.log",
        )
    try:
        for name in local.services:
            local._launch(name)
        local._ready(list(local.services), wait)
    except BaseException:
        local.stop()
        raise
    return local


# A service must not outlive the process that started it, even when that process is killed
# with SIGKILL and cleans up nothing. On Linux the child asks the kernel for SIGTERM when its
# parent dies (prctl PR_SET_PDEATHSIG), then execs the real command: the setting survives exec,
# and doing it in the child before exec (rather than in a preexec_fn) is safe with threads. If
# the parent died before the request was made, the child leaves at once. The signal comes when
# the *thread* that started the child ends, so services are started from long-lived threads
# (the demo and the tests start them from the main thread). Other systems have no such request:
# there the services are stopped by `stop()`, on exit, on Ctrl-C and on SIGTERM.
_DIE_WITH_PARENT = """
import ctypes, os, signal, sys
PR_SET_PDEATHSIG = 1
parent = int(sys.argv[1])
try:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
except (OSError, AttributeError):
    pass
if os.getppid() != parent:
    sys.exit(0)
os.execv(sys.argv[2], sys.argv[2:])
"""


def _dies_with_this_process(command: list[str]) -> list[str]:
    """`command`, run so that it ends when this process ends (see _DIE_WITH_PARENT)."""
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *command]


def uvicorn_app(service: Any, root: Path) -> tuple[Path, str] | None:
    """(the folder to run in, `module:attribute`) for a service whose command is
    `uvicorn module:app` and whose module is found in the repository; None otherwise."""
    entry = service.entry
    if (
        entry is None
        or entry.server != "uvicorn"
        or not entry.module
        or not entry.attribute
        or not entry.module_path
    ):
        return None
    depth = entry.module.count(".") + 1
    cwd = (root / entry.module_path).parents[depth - 1]
    return cwd, f"{entry.module}:{entry.attribute}"


def local_infra_port(service: Any) -> int | None:
    """The usual local port of an infrastructure image (PostgreSQL 5432, Redis 6379 …)."""
    image = service.image or ""
    return next((port for prefix, port in LOCAL_INFRA.items() if image.startswith(prefix)), None)


def localise_url(value: str, base_urls: dict[str, str]) -> str:
    """Rewrite a compose URL value (`http://identity:8001/x`) to the local port."""
    if "://" not in value:
        return value
    http = {k: v for k, v in base_urls.items() if v.startswith("http")}
    return apply_base_url(value, http)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
