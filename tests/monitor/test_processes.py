"""Monitor processes killed with SIGKILL, and two monitors sharing one PostgreSQL desk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from passmuster.storage.monitor_store import MonitorStore
from passmuster.usecases.desk import Desk
from tests.monitor.helpers import incidents
from tests.monitor.servers import ProcessServer, Receiver, free_port, wait_until


def _config(folder: Path, targets: list[tuple[str, str]], hook: str, **extra: object) -> Path:
    lines = [
        "[monitor]",
        "catalog = false",
        "interval = 0.1",
        "timeout = 2",
        "failure_threshold = 2",
        "success_threshold = 1",
        "retry_base = 0.05",
        "jitter = 0.0",
        *(f"{k} = {v!r}".replace("'", '"') for k, v in extra.items()),
        "[monitor.notify.ops]",
        'kind = "webhook"',
        f'url = "{hook}"',
        "timeout = 1",
    ]
    for name, url in targets:
        lines += [
            "[[monitor.targets]]",
            f'name = "{name}"',
            f'url = "{url}"',
            f'service = "{name}"',
        ]
    path = folder / "passmuster.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def connect() -> Iterator[Callable[[str], Desk]]:
    """Open desks for the test; closed afterwards even when an assertion fails."""
    opened: list[Desk] = []

    def open_desk(url: str) -> Desk:
        opened.append(Desk.connect(url))
        return opened[-1]

    yield open_desk
    for desk in opened:
        desk.close()


def _start(url: str, config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PASSMUSTER_DATABASE_URL": url, "PASSMUSTER_ACTOR": "monitor"}
    return subprocess.Popen(
        [sys.executable, "-m", "passmuster", "monitor", "--config", str(config)],
        env=env,
        cwd=config.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _stop(proc: subprocess.Popen[bytes]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    _, err = proc.communicate()
    return err.decode() if err else ""


@pytest.mark.slow
def test_a_monitor_killed_with_pending_notifications_delivers_them_after_restart_once(
    database_url: str, tmp_path: Path, connect: Callable[[str], Desk]
) -> None:
    desk = connect(database_url)
    store = MonitorStore(desk.engine)
    dead = [(f"svc{i}", f"http://127.0.0.1:{free_port()}/health") for i in range(3)]
    with Receiver(delay=0.1) as hook:
        hook.closed = True  # the receiver is down: notifications pile up, some mid-send
        config = _config(tmp_path, dead, hook.url())
        first = _start(database_url, config)
        try:
            wait_until(lambda: len(store.outbox()) == 3 and len(hook.requests) >= 4, timeout=30)
        finally:
            first.kill()  # SIGKILL: no clean-up, leases and `sending` rows left behind
            first.wait(5)
            first.communicate()
        assert all(r.status != "sent" for r in store.outbox())
        hook.closed = False
        second = _start(database_url, config)
        try:
            wait_until(lambda: all(r.status == "sent" for r in store.outbox()), timeout=30)
        finally:
            log = _stop(second)
        keys = Counter(h["idempotency-key"] for _, h, p in hook.requests if p in hook.accepted)
        delivered = Counter(str(p["target"]) for p in hook.accepted)  # type: ignore[index]
        assert delivered == {"svc0": 1, "svc1": 1, "svc2": 1}, log
        assert len(keys) == 3
    assert len(incidents(desk)) == 3


@pytest.mark.postgres
@pytest.mark.slow
def test_two_monitors_on_one_postgresql_desk_open_one_incident_and_notify_once(
    postgres_url: str, tmp_path: Path, connect: Callable[[str], Desk]
) -> None:
    desk = connect(postgres_url)  # migrated once, before the monitors race to it
    store = MonitorStore(desk.engine)
    service = ProcessServer().start()
    others = [(f"ok{i}", service.url(f"/ok{i}")) for i in range(6)]
    with Receiver() as hook:
        config = _config(tmp_path, [("identity", service.url()), *others], hook.url())
        monitors = [_start(postgres_url, config) for _ in range(2)]
        try:
            wait_until(
                lambda: (
                    len(store.target_rows()) == 7
                    and all(r.state.health.value == "up" for r in store.target_rows())
                ),
                timeout=30,
            )
            service.kill()
            wait_until(lambda: len(hook.accepted) >= 7, timeout=30)  # one per target
            service.start()
            wait_until(
                lambda: sum(1 for p in hook.accepted if p["event"] == "resolved") >= 7,  # type: ignore[index]
                timeout=30,
            )
            wait_until(lambda: sum(r.probes for r in store.target_rows()) > 100, timeout=30)
        finally:
            logs = [_stop(m) for m in monitors]  # before the service goes, or they see it go
            service.kill()
        events = Counter((p["event"], p["target"]) for p in hook.accepted)  # type: ignore[index]
        assert set(events.values()) == {1}, (events, logs)
        assert len(events) == 14
    found = incidents(desk)
    assert len(found) == 7 and len({i.title for i in found}) == 7


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_ctrl_c_stops_the_monitor_with_130_like_every_command_and_sigterm_with_0(
    sqlite_url: str,
    tmp_path: Path,
    connect: Callable[[str], Desk],
    sig: signal.Signals,
    code: int,
) -> None:
    store = MonitorStore(connect(sqlite_url).engine)
    config = _config(tmp_path, [("svc", f"http://127.0.0.1:{free_port()}/h")], "http://127.0.0.1:9")
    proc = _start(sqlite_url, config)
    try:
        wait_until(lambda: bool(store.target_rows()), timeout=30)
        proc.send_signal(sig)
        assert proc.wait(20) == code
    finally:
        log = _stop(proc)
    assert "stopped after" in log and "Traceback" not in log
