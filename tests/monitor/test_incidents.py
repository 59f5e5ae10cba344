"""Incidents from real services on 127.0.0.1 that the tests kill and start again."""

from __future__ import annotations

import asyncio

from passmuster.core.issues import LinkKind, Status
from passmuster.usecases.desk import Desk
from tests.monitor.helpers import config, incidents, monitor
from tests.monitor.servers import ProcessServer, Receiver, ThreadServer, free_port


def test_a_killed_service_opens_one_incident_resolves_and_reopens_within_the_cooldown(
    desk: Desk,
) -> None:
    service = ProcessServer().start()
    cfg = config(
        targets=[{"name": "identity", "url": service.url(), "service": "identity"}],
        severity="critical",
    )

    async def scenario() -> None:
        async with monitor(desk, cfg) as m:
            await m.probe_all()
            service.kill()
            await m.probe_all()
            await m.probe_all()
            assert incidents(desk) == []  # two failures: under the threshold of three
            await m.probe_all()
            (incident,) = incidents(desk)
            assert incident.status is Status.OPEN and incident.severity.value == "critical"
            assert incident.services == ["identity"] and incident.title == "identity is down"
            assert incident.error_details == ["connection refused"] * 3
            await m.probe_all()  # still down: nothing new
            assert len(incidents(desk)) == 1

            service.start()
            await m.probe_all()
            assert desk.get(incident.number).status is Status.OPEN  # one success of two
            await m.probe_all()
            assert desk.get(incident.number).status is Status.RESOLVED

            service.kill()
            for _ in range(3):
                await m.probe_all()
            (again,) = incidents(desk)
            assert again.number == incident.number and again.status is Status.OPEN

    try:
        asyncio.run(scenario())
    finally:
        service.kill()
    health = [
        (e.old, e.new) for e in desk.events(issue=incident_number(desk)) if e.field == "health"
    ]
    assert health == [("up", "down"), ("down", "up"), ("up", "down")]


def incident_number(desk: Desk) -> int:
    return int(incidents(desk)[0].number)


def test_a_failure_after_the_cooldown_opens_a_new_incident(desk: Desk) -> None:
    port = free_port()
    cfg = config(
        targets=[{"name": "billing", "url": f"http://127.0.0.1:{port}/health"}],
        failure_threshold=1,
        success_threshold=1,
        cooldown=0,
    )

    async def scenario() -> None:
        async with monitor(desk, cfg) as m:
            await m.probe_all()
            server = ProcessServer(port).start()
            await m.probe_all()
            server.kill()
            await asyncio.sleep(0.01)
            await m.probe_all()

    asyncio.run(scenario())
    assert [i.status for i in incidents(desk)] == [Status.RESOLVED, Status.OPEN]


def test_a_database_killed_under_three_dependents_notifies_once_and_suppresses_three(
    desk: Desk,
) -> None:
    db = ProcessServer().start()
    apps = ThreadServer()  # the dependents' own probes fail because the database is gone
    targets = [{"name": "db", "url": f"tcp://127.0.0.1:{db.port}", "service": "db"}] + [
        {
            "name": name,
            "url": f"http://127.0.0.1:{db.port}/health",  # their health checks hit the db
            "service": name,
            "depends_on": ["db"],
        }
        for name in ("identity", "billing", "tenants")
    ]
    with Receiver() as hook, apps:
        cfg = config(targets=targets, notify={"ops": {"kind": "webhook", "url": hook.url()}})

        async def scenario() -> None:
            async with monitor(desk, cfg) as m:
                await m.probe_all()
                db.kill()
                for _ in range(3):
                    await m.probe_all()
                for _ in range(3):
                    await m.deliver()
                db.start()
                for _ in range(2):
                    await m.probe_all()
                for _ in range(3):
                    await m.deliver()
                states = {r.kind: r.status for r in m.store.outbox()}
                assert states

        try:
            asyncio.run(scenario())
        finally:
            db.kill()
        found = {i.services[0]: i for i in incidents(desk)}
        assert set(found) == {"db", "identity", "billing", "tenants"}
        root = found["db"].number
        for name in ("identity", "billing", "tenants"):
            assert (LinkKind.CAUSED_BY, root) in {
                (link.kind, link.target) for link in found[name].links
            }
        events = [(p["event"], p["service"]) for _, _, p in hook.requests]  # type: ignore[index]
        assert events == [("opened", "db"), ("resolved", "db")]
        from passmuster.storage.monitor_store import MonitorStore

        suppressed = MonitorStore(desk.engine).outbox(status="suppressed")
        assert sorted(r.payload["service"] for r in suppressed) == [
            "billing",
            "identity",
            "tenants",
        ]
