"""SLA escalations and held notifications go through the outbox like incidents do."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from passmuster.core.issues import IssueDraft, LinkKind, Severity
from passmuster.storage.monitor_store import MonitorStore
from passmuster.usecases.desk import Desk
from passmuster.usecases.incidents import ChannelRule, feed_escalations
from tests.monitor.helpers import config, incidents, monitor
from tests.monitor.servers import ProcessServer, Receiver


def test_an_sla_breach_is_notified_once(database_url: str) -> None:
    now = [datetime.now(UTC) - timedelta(hours=10)]
    desk = Desk.connect(database_url, clock=lambda: now[0])
    desk.file(IssueDraft(title="payments fail", severity=Severity.CRITICAL), actor="alice")
    now[0] = datetime.now(UTC)  # ten hours later: respond (1 h) and resolve (4 h) breached
    store = MonitorStore(desk.engine)
    store.ensure_channels({"ops": ("webhook", "d1")})
    rules = [ChannelRule("ops")]
    moment = int(now[0].timestamp() * 1000)
    assert feed_escalations(desk, store, rules, worker="w", now_ms=moment) == 2
    assert feed_escalations(desk, store, rules, worker="w", now_ms=moment + 1) == 0
    assert feed_escalations(desk, store, rules, worker="other", now_ms=moment + 2) == 0
    notes = store.outbox()
    assert [(n.kind, n.payload["ref"]) for n in notes] == [("escalated", "#001")] * 2
    assert sorted(n.payload["reason"] for n in notes) == ["resolve breached", "respond breached"]
    desk.close()


def test_a_dependent_down_before_its_database_waits_and_is_then_suppressed(desk: Desk) -> None:
    db = ProcessServer().start()
    targets = [
        {
            "name": "db",
            "url": f"tcp://127.0.0.1:{db.port}",
            "service": "db",
            "failure_threshold": 3,
        },
        {
            "name": "api",
            "url": db.url(),
            "service": "api",
            "depends_on": ["db"],
            "failure_threshold": 1,
        },
    ]
    with Receiver() as hook:
        cfg = config(targets=targets, notify={"ops": {"kind": "webhook", "url": hook.url()}})

        async def scenario() -> None:
            async with monitor(desk, cfg) as m:
                await m.probe_all()
                db.kill()
                await m.probe_all()  # api is down at once; db has failed only once
                (api_note,) = m.store.outbox()
                assert api_note.status == "pending" and api_note.not_before > api_note.created_at
                await m.deliver()
                assert hook.requests == []  # held: its dependency is failing
                await m.probe_all()
                await m.probe_all()  # db down: it explains api's outage
                for _ in range(3):
                    await m.deliver()

        try:
            asyncio.run(scenario())
        finally:
            db.kill()
        assert [p["service"] for _, _, p in hook.requests] == ["db"]  # type: ignore[index]
    found = {i.services[0]: i for i in incidents(desk)}
    assert (LinkKind.CAUSED_BY, found["db"].number) in {
        (link.kind, link.target) for link in found["api"].links
    }
    statuses = {n.payload["service"]: n.status for n in MonitorStore(desk.engine).outbox()}
    assert statuses == {"api": "suppressed", "db": "sent"}
