"""A channel one 4xx disabled comes back: when its configuration changes, or when someone
enables it. Its notifications wait meanwhile and are sent once it is back — before, neither
fixing the URL nor restarting helped, and alerts waited with no end."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from passmuster.monitor.channel_status import channels, enable_channel
from passmuster.monitor.configuration import load_setup
from passmuster.monitor.scheduler import Monitor
from passmuster.usecases.desk import Desk
from tests.child_process import passmuster_env
from tests.monitor.helpers import FAST
from tests.monitor.servers import Receiver, free_port


def _config(path: Path, hook: str, down_port: int) -> None:
    path.write_text(
        "[monitor]\ncatalog = false\ninterval = 0.1\nfailure_threshold = 1\n"
        f'[[monitor.targets]]\nname = "db"\nurl = "http://127.0.0.1:{down_port}/health"\n'
        f'[monitor.notify.pager]\nkind = "webhook"\nurl = "{hook}"\n'
    )


async def _until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def _state(desk: Desk) -> str:
    (pager,) = channels(desk)
    return pager.state


def test_fixing_the_url_in_the_configuration_enables_the_channel_again(
    desk: Desk, tmp_path: Path
) -> None:
    path = tmp_path / "passmuster.toml"
    with Receiver([404] * 100) as wrong, Receiver() as right:
        _config(path, wrong.url(), free_port())
        loader = lambda: load_setup(path)  # noqa: E731
        first = Monitor(desk, loader(), loader=loader, timings=FAST)

        async def until_disabled() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(first.run(stop))
            await _until(lambda: bool(channels(desk)) and _state(desk) == "disabled")
            stop.set()
            await asyncio.wait_for(task, 10)

        asyncio.run(until_disabled())
        (pager,) = channels(desk)
        assert pager.disabled_reason is not None and "HTTP 404" in pager.disabled_reason
        assert pager.pending == 1  # kept, not dropped

        # A restart with the same configuration leaves it disabled: nothing was fixed.
        restarted = Monitor(desk, loader(), loader=loader, timings=FAST)
        asyncio.run(_run_briefly(restarted))
        assert _state(desk) == "disabled" and right.accepted == []

        # The URL is fixed while the monitor runs: the channel comes back, the alert goes out.
        running = Monitor(desk, loader(), loader=loader, timings=FAST)

        async def fix_and_wait() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(running.run(stop))
            await asyncio.sleep(0.2)
            _config(path, right.url(), free_port())
            await _until(lambda: len(right.accepted) == 1)
            stop.set()
            await asyncio.wait_for(task, 10)

        asyncio.run(fix_and_wait())
        assert _state(desk) == "enabled"
        (pager,) = channels(desk)
        assert pager.pending == 0 and pager.sent == 1
        assert isinstance(right.accepted[0], dict) and right.accepted[0]["event"] == "opened"


async def _run_briefly(monitor: Monitor) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(monitor.run(stop))
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(task, 10)


def test_notify_enable_sends_what_waited_once_the_receiver_is_back(
    desk: Desk, tmp_path: Path
) -> None:
    path = tmp_path / "passmuster.toml"
    with Receiver([404]) as hook:  # 404 once (a deploy in progress), then 200
        _config(path, hook.url(), free_port())
        loader = lambda: load_setup(path)  # noqa: E731
        monitor = Monitor(desk, loader(), loader=loader, timings=FAST)

        async def scenario() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(monitor.run(stop))
            await _until(lambda: bool(channels(desk)) and _state(desk) == "disabled")
            listed = _cli(tmp_path, desk, "notify", "channels", "--json")
            assert listed[0]["state"] == "disabled" and listed[0]["pending"] == 1
            assert "HTTP 404" in listed[0]["disabled_reason"]
            assert enable_channel(desk, "pager") is True
            await _until(lambda: len(hook.accepted) == 1)
            stop.set()
            await asyncio.wait_for(task, 10)

        asyncio.run(scenario())
    assert _state(desk) == "enabled"
    assert enable_channel(desk, "pager") is False  # already enabled: nothing to do


def _cli(cwd: Path, desk: Desk, *args: str) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "passmuster", *args],
        cwd=cwd,
        env=passmuster_env(PASSMUSTER_DATABASE_URL=desk.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    data: list[dict[str, object]] = json.loads(done.stdout)
    return data


def test_notify_enable_on_the_command_line(desk: Desk, tmp_path: Path) -> None:
    from passmuster.storage.monitor_store import MonitorStore

    store = MonitorStore(desk.engine)
    store.ensure_channels({"pager": ("webhook", "d1")})
    store.disable_channel("pager", "webhook pager answered HTTP 410: gone", 1)
    done = subprocess.run(
        [sys.executable, "-m", "passmuster", "notify", "enable", "pager"],
        cwd=tmp_path,
        env=passmuster_env(PASSMUSTER_DATABASE_URL=desk.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "pager enabled" in done.stdout
    assert _state(desk) == "enabled"
    unknown = subprocess.run(
        [sys.executable, "-m", "passmuster", "notify", "enable", "pagr"],
        cwd=tmp_path,
        env=passmuster_env(PASSMUSTER_DATABASE_URL=desk.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 3
    assert "no notification channel 'pagr' (known: pager)" in unknown.stderr
