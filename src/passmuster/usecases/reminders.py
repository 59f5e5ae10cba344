"""Reminders: while a monitor incident stays open, tell each channel again every
`remind_every` seconds (`[monitor.notify.NAME] remind_every`; off by default).

A reminder goes through the same durable outbox as every notification. Its key names the
opening it follows and how many intervals have passed, so a retried round or a second worker
never sends one twice, and a monitor that was stopped for a while sends one reminder, not the
ones it missed. A channel that was never told of the incident (held back as caused by another
outage, or not wanting `opened`) gets no reminders either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from passmuster.core.epoch_ms import moment
from passmuster.core.health import Health
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.outbox_store import Outgoing
from passmuster.storage.reminder_store import latest_openings
from passmuster.storage.target_store import TargetRow
from passmuster.usecases.incidents import ChannelRule, notification


def _for(seconds: int) -> str:
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} d"


def feed_reminders(
    desk: Any,
    store: MonitorStore,
    channels: Sequence[ChannelRule],
    *,
    worker: str,
    now_ms: int,
    lease_ms: int = 60_000,
) -> int:
    """Enqueue the reminders due now; returns how many. Runs on one worker at a time."""
    wanted = [rule for rule in channels if rule.remind_ms]
    if not wanted or store.acquire_job("reminders", worker, now_ms, lease_ms) is None:
        return 0
    open_now: dict[int, TargetRow] = {}
    for row in store.target_rows():
        state = row.state
        if state.incident_open and state.incident is not None and state.health is Health.DOWN:
            open_now.setdefault(state.incident, row)
    openings = latest_openings(store.engine, list(open_now))
    items: list[Outgoing] = []
    for number, row in open_now.items():
        issue = desk.get(number)
        if not issue.status.is_active:
            continue  # resolved by hand while the probe still fails: nobody is waiting on it
        for rule in wanted:
            opening = openings.get((number, rule.name))
            if opening is None or rule.remind_ms is None:
                continue
            opening_id, opened_at = opening
            nth = (now_ms - opened_at) // rule.remind_ms
            if nth < 1:
                continue
            note = notification(
                "reminder",
                issue,
                service=row.service,
                target=(row.name, Health.DOWN.value),
                reason=f"still down after {_for((now_ms - opened_at) // 1000)}",
                at=moment(now_ms).isoformat(timespec="seconds"),
            )
            items.append(
                Outgoing(
                    key=f"incident:{number}:reminder:{opening_id}:{nth}",
                    channel=rule.name,
                    kind="reminder",
                    payload=note,
                    incident=number,
                )
            )
    return store.enqueue(items, now_ms)
