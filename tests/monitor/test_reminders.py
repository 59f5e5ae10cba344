"""Reminders while an incident stays open: a real service on 127.0.0.1 killed and started again,
real webhook receivers, the durable outbox. Time is moved by passing `now_ms` to the job."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import update

from passmuster.storage.engine import write_transaction
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.monitor_tables import monitor_outbox
from passmuster.usecases.desk import Desk
from passmuster.usecases.reminders import feed_reminders
from tests.monitor.helpers import config, incidents, monitor
from tests.monitor.servers import ProcessServer, Receiver

MINUTE = 60_000


def _events(hook: Receiver) -> list[str]:
    return [body["event"] for _, _, body in hook.requests]  # type: ignore[index]


def test_an_open_incident_is_recalled_every_interval_on_the_channels_that_ask(desk: Desk) -> None:
    service = ProcessServer().start()
    with Receiver() as paged, Receiver() as quiet:
        cfg = config(
            targets=[{"name": "billing", "url": service.url(), "service": "billing"}],
            notify={
                "pager": {"kind": "webhook", "url": paged.url(), "remind_every": 600},
                "ops": {"kind": "webhook", "url": quiet.url()},  # no reminders: the default
            },
        )

        async def scenario() -> None:
            async with monitor(desk, cfg) as m:
                await m.probe_all()
                service.kill()
                for _ in range(3):
                    await m.probe_all()
                await m.deliver()
                store = MonitorStore(desk.engine)
                (opened,) = [r for r in store.outbox() if r.channel == "pager"]

                def feed(announced_minutes_ago: int) -> int:
                    # Time passes: the opening is dated that long ago, the job runs now.
                    now = int(time.time() * 1000)
                    with write_transaction(desk.engine) as conn:
                        conn.execute(
                            update(monitor_outbox)
                            .where(monitor_outbox.c.id == opened.id)
                            .values(created_at=now - announced_minutes_ago * MINUTE)
                        )
                    return feed_reminders(
                        desk, store, m.setup.rules, worker="w", now_ms=now, lease_ms=1
                    )

                assert feed(5) == 0  # not yet
                assert feed(11) == 1
                time.sleep(0.01)
                assert feed(12) == 0  # the same reminder: not again
                time.sleep(0.01)
                assert feed(21) == 1
                await m.deliver()
                service.start()
                for _ in range(2):
                    await m.probe_all()
                await m.deliver()
                time.sleep(0.01)
                assert feed(31) == 0  # resolved: no more reminders
                for _ in range(5):  # one notification per channel per round, in order
                    if not store.outbox(status="pending"):
                        break
                    await m.deliver()

        try:
            asyncio.run(scenario())
        finally:
            service.kill()
        assert _events(paged) == ["opened", "reminder", "reminder", "resolved"]
        assert _events(quiet) == ["opened", "resolved"]
        reminder = paged.requests[1][2]
        assert reminder["ref"] == incidents(desk)[0].ref  # type: ignore[index]
        assert reminder["reason"] == "still down after 11 min"  # type: ignore[index]


def test_reminders_are_off_unless_a_channel_sets_an_interval() -> None:
    cfg = config(targets=[], notify={"ops": {"kind": "webhook", "url": "http://127.0.0.1:9/"}})
    assert cfg.notify["ops"].remind_every is None
    with pytest.raises(ValueError, match="remind_every"):
        config(
            targets=[],
            notify={"ops": {"kind": "webhook", "url": "http://127.0.0.1:9/", "remind_every": 5}},
        )
