"""The example platform's services as local processes, watched by the monitor."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from passmuster.core.issues import Status
from passmuster.core.targets import MonitorConfig
from passmuster.monitor.setup import discover_services, setup_from
from passmuster.settings import load_config
from passmuster.usecases.desk import Desk
from passmuster.usecases.local_platform import start_local_platform
from tests.monitor.helpers import FAST, incidents

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
