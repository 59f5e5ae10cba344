"""The monitor's loop: hostile targets never hold up the others; configuration hot reload."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from passmuster.monitor.configuration import load_setup
from passmuster.monitor.scheduler import Monitor
from passmuster.usecases.desk import Desk
from tests.monitor.helpers import FAST, config, monitor
from tests.monitor.servers import ThreadServer


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """On SQLite only: these tests are about the scheduler, which the store tests cover on both."""
    return sqlite_url


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadServer]:
    with ThreadServer() as running:
        yield running


async def _run_for(m: Monitor, seconds: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(m.run(stop))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 10)


def test_hostile_targets_fail_within_their_timeout_and_the_others_stay_on_schedule(
    desk: Desk, server: ThreadServer
) -> None:
    hostile = {"hang": "/hang", "gigabyte": "/huge", "redirects": "/loop", "slowloris": "/slow"}
    slow = {"hang", "slowloris"}
    targets = [
        # Hanging ones hit their 0.8 s deadline; the others end by themselves well before theirs.
        {"name": name, "url": server.url(path), "timeout": 0.8 if name in slow else 10}
        for name, path in hostile.items()
    ] + [{"name": f"ok{i}", "url": server.url(f"/ok{i}")} for i in range(3)]
    m = monitor(desk, config(targets=targets, interval=0.1))
    asyncio.run(_run_for(m, 2.0))
    store = m.store
    for name in hostile:
        samples = store.samples(name)
        assert samples and not any(s.ok for s in samples)
        if name in slow:
            assert all(s.latency < 1.6 for s in samples)  # bounded by the 0.8 s deadline
    assert {store.samples(n)[0].reason for n in hostile} == {
        "no complete answer within 0.8s",
        "body larger than 65536 bytes",
        "redirected more than 5 times (last to /loop/6)",
    }
    hang = store.samples("hang")[0]
    start, end = hang.at, hang.at + int(hang.latency * 1000)
    for i in range(3):
        samples = store.samples(f"ok{i}")
        assert all(s.ok for s in samples)
        # While the hanging probe held its slot for 0.8 s, the others kept being probed.
        assert len([s for s in samples if start <= s.at <= end]) >= 3


def _write_targets(path: Path, server: ThreadServer, *names: str) -> None:
    entries = "".join(
        f'[[monitor.targets]]\nname = "{name}"\nurl = "{server.url("/" + name)}"\n'
        for name in names
    )
    path.write_text("[monitor]\ncatalog = false\ninterval = 0.1\n" + entries)


def _reloading_monitor(desk: Desk, path: Path) -> Monitor:
    loader = lambda: load_setup(path)  # noqa: E731
    return Monitor(desk, loader(), loader=loader, timings=FAST)


def test_a_configuration_change_is_picked_up_without_restart(
    desk: Desk, server: ThreadServer, tmp_path: Path
) -> None:
    path = tmp_path / "passmuster.toml"
    _write_targets(path, server, "a")
    m = _reloading_monitor(desk, path)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(m.run(stop))
        await _until(lambda: bool(m.store.samples("a")))
        _write_targets(path, server, "a", "b")
        await _until(lambda: bool(m.store.samples("b")))
        # A write may reach the watcher as two changes (truncate, then write), so the good
        # file can be loaded more than once; what counts is that the broken one never is.
        await asyncio.sleep(0.2)
        good_reloads = m.reloads
        path.write_text("[monitor]\ninterval = -1\n")  # broken: the running config stays
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.wait_for(task, 10)
        reloads_after_broken.append(m.reloads - good_reloads)

    reloads_after_broken: list[int] = []
    asyncio.run(scenario())
    assert m.reloads >= 1
    assert reloads_after_broken == [0]
    assert m.setup.config.interval == 0.1
    assert {r.name for r in m.store.target_rows()} == {"a", "b"}


def test_a_change_made_before_the_watcher_runs_is_picked_up_too(
    desk: Desk, server: ThreadServer, tmp_path: Path
) -> None:
    path = tmp_path / "passmuster.toml"
    _write_targets(path, server, "a")
    m = _reloading_monitor(desk, path)
    # Written after the configuration was read and before the monitor (and its file watcher)
    # started, as a busy machine's slow start allows: a watcher alone never sees this change.
    _write_targets(path, server, "a", "b")

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(m.run(stop))
        await _until(lambda: bool(m.store.samples("b")))
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    assert m.reloads == 1


async def _until(check: object, timeout: float = 10.0) -> None:
    assert callable(check)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)
