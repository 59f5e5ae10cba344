"""Maintenance windows against a real service on 127.0.0.1 that the test kills, and a real
webhook receiver: an outage under a window opens no incident and pages nobody."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from passmuster.core.catalog import Service
from passmuster.usecases import maintenance
from passmuster.usecases.desk import Desk
from tests.monitor.helpers import config, incidents, monitor
from tests.monitor.servers import ProcessServer, Receiver


@pytest.fixture(autouse=True)
def billing(desk: Desk) -> None:
    """The service the windows name, in the desk's catalog."""
    desk.ensure_service(Service(name="billing"))


def _config(url: str, hook: str) -> object:
    return config(
        targets=[{"name": "billing", "url": url, "service": "billing"}],
        notify={"ops": {"kind": "webhook", "url": hook}},
    )


async def _outage(desk: Desk, cfg: object, *, rounds: int = 4, before: object = None) -> None:
    async with monitor(desk, cfg) as m:  # type: ignore[arg-type]
        await m.probe_all()
        if before is not None:
            before()  # type: ignore[operator]
        for _ in range(rounds):
            await m.probe_all()
        await m.deliver()


def test_an_outage_inside_a_window_opens_no_incident_and_sends_nothing(desk: Desk) -> None:
    service = ProcessServer().start()
    now = datetime.now(UTC)
    with Receiver() as hook:
        cfg = _config(service.url(), hook.url())
        try:
            asyncio.run(_outage(desk, cfg, before=service.kill, rounds=0))  # targets known
            maintenance.schedule(
                desk,
                message="Database upgrade",
                services=["billing"],
                starts_at=now - timedelta(minutes=5),
                ends_at=now + timedelta(hours=1),
                actor="alice",
            )
            asyncio.run(_outage(desk, cfg, rounds=5))
        finally:
            service.kill()
        assert incidents(desk) == []
        assert hook.requests == []


def test_the_same_outage_outside_a_window_opens_one_incident_and_one_notification(
    desk: Desk,
) -> None:
    service = ProcessServer().start()
    now = datetime.now(UTC)
    with Receiver() as hook:
        cfg = _config(service.url(), hook.url())
        maintenance.schedule(  # a window that is over: it silences nothing
            desk,
            message="Last week's upgrade",
            services=["billing"],
            starts_at=now - timedelta(days=7),
            ends_at=now - timedelta(days=7) + timedelta(hours=1),
            actor="alice",
        )
        try:
            asyncio.run(_outage(desk, cfg, before=service.kill, rounds=5))
        finally:
            service.kill()
        assert len(incidents(desk)) == 1
        assert [body["event"] for _, _, body in hook.requests] == ["opened"]  # type: ignore[index]


def test_a_window_ending_while_the_service_is_down_opens_the_incident_then(desk: Desk) -> None:
    service = ProcessServer().start()
    now = datetime.now(UTC)
    with Receiver() as hook:
        cfg = _config(service.url(), hook.url())
        window = maintenance.schedule(
            desk,
            message="Migration",
            services=["billing"],
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=1),
            actor="alice",
        )
        try:
            asyncio.run(_outage(desk, cfg, before=service.kill, rounds=4))
            assert incidents(desk) == [] and hook.requests == []
            maintenance.cancel(desk, window.id, actor="alice")  # the window is over early
            asyncio.run(_outage(desk, cfg, rounds=1))
        finally:
            service.kill()
        (incident,) = incidents(desk)
        assert incident.title == "billing is down"
        assert [body["event"] for _, _, body in hook.requests] == ["opened"]  # type: ignore[index]
        assert "maintenance window" in hook.requests[0][2]["reason"]  # type: ignore[index]


def test_a_window_on_a_database_also_covers_the_services_failing_because_it_is_down(
    desk: Desk,
) -> None:
    for name in ("db", "identity"):
        desk.ensure_service(Service(name=name))
    db = ProcessServer().start()
    targets = [{"name": "db", "url": f"tcp://127.0.0.1:{db.port}", "service": "db"}] + [
        {
            "name": name,
            "url": f"http://127.0.0.1:{db.port}/health",  # their health checks hit the db
            "service": name,
            "depends_on": ["db"],
        }
        for name in ("identity", "billing")
    ]
    now = datetime.now(UTC)
    with Receiver() as hook:
        cfg = config(targets=targets, notify={"ops": {"kind": "webhook", "url": hook.url()}})
        window = maintenance.schedule(
            desk,
            message="Database upgrade",
            services=["db"],  # the dependents are not named
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=1),
            actor="alice",
        )
        try:
            asyncio.run(_outage(desk, cfg, before=db.kill, rounds=4))
            assert incidents(desk) == [] and hook.requests == []
            maintenance.cancel(desk, window.id, actor="alice")  # over, the database still down
            asyncio.run(_outage(desk, cfg, rounds=1))
        finally:
            db.kill()
        found = {i.services[0]: i for i in incidents(desk)}
        assert set(found) == {"db", "identity", "billing"}
        # The database's incident pages; its dependents' are held back as caused by it.
        events = [(p["event"], p["service"]) for _, _, p in hook.requests]  # type: ignore[index]
        assert events == [("opened", "db")]
