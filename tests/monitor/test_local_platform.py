"""The example platform's services as local processes, watched by the monitor."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from passmuster.core.issues import Status
from passmuster.core.targets import MonitorConfig
from passmuster.monitor.configuration import discover_services, setup_from
from passmuster.settings import load_config
from passmuster.usecases.desk import Desk
from passmuster.usecases.local_platform import start_local_platform
from tests.monitor.helpers import FAST, incidents
from tests.monitor.servers import wait_until

PLATFORM = Path(__file__).parents[2] / "examples" / "platform"


@pytest.mark.slow
def test_the_example_platform_runs_locally_and_a_killed_service_becomes_an_incident(
    sqlite_url: str, tmp_path: Path
) -> None:
    from passmuster.monitor.scheduler import Monitor

    desk = Desk.connect(sqlite_url)
    only = ["gateway", "identity", "billing"]
    with start_local_platform(PLATFORM, only=only, log_dir=tmp_path) as local:
        assert local.services["identity"].running and local.services["gateway"].running
        # billing imports HTTPStatus from fastapi (a defect the scanner reports): it crashes.
        assert "cannot import name 'HTTPStatus'" in local.failed["billing"]
        project = load_config(PLATFORM / "passmuster.toml")
        services = [s for s in discover_services(project) if s.name in only]
        config = local.monitor_config(MonitorConfig(interval=0.1, timeout=2, jitter=0))
        setup = setup_from(config, services=services)
        assert setup.targets.targets["identity"].url == local.services["identity"].url + "/healthz"

        async def scenario() -> dict[str, bool]:
            async with Monitor(desk, setup, timings=FAST) as monitor:
                first = {t.name: r.ok for t, r in await monitor.probe_all()}
                local.kill("identity")
                for _ in range(3):
                    await monitor.probe_all()
                assert not local.services["identity"].running
                local.start("identity")
                for _ in range(2):
                    await monitor.probe_all()
                return first

        first = asyncio.run(scenario())
    assert first == {"gateway": True, "identity": True, "billing": False}
    assert all(not s.running for s in local.services.values())
    found = {i.services[0]: i.status for i in incidents(desk)}
    assert found == {"billing": Status.OPEN, "identity": Status.RESOLVED}
    desk.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_services_die_with_the_process_that_started_them_even_on_sigkill(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from passmuster.usecases.local_platform import start_local_platform\n"
        f"local = start_local_platform(Path({str(PLATFORM)!r}), only=['identity'],"
        f" log_dir=Path({str(tmp_path)!r}))\n"
        "print(local.services['identity'].url, local.services['identity'].process.pid,"
        " flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    child: int | None = None
    try:
        assert parent.stdout is not None
        url, pid = parent.stdout.readline().split()
        child = int(pid)
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        parent.kill()  # SIGKILL: the parent cleans up nothing
        parent.wait(10)
        wait_until(lambda: not _alive(int(pid)), timeout=15)
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()
        if child is not None and _alive(child):  # the test failed: leave no stray server
            os.kill(child, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie no one reaps (its parent is gone, so init reaps it soon) is no service either.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
