"""The monitor's store: one handle over the stores of what the monitor keeps, each in its own
module: targets, their leases and health (`target_store`), probe history (`probe_history_store`),
the notification outbox (`outbox_store`), channels (`channel_store`) and job leases
(`job_store`). Code that needs one concept uses that store alone (the pages' channel list,
health readings, metrics); the monitor's loop and the use cases that touch several (incident
keeping, reminders, escalations, delivery) hold one `MonitorStore`, whose `compact` is the
compaction job over history and outbox in one transaction.
"""

from __future__ import annotations

from passmuster.storage.channel_store import ChannelStore
from passmuster.storage.engine import write_transaction
from passmuster.storage.job_store import JobStore
from passmuster.storage.outbox_store import OutboxStore
from passmuster.storage.probe_history_store import CompactReport, ProbeHistoryStore
from passmuster.storage.target_store import TargetStore


class MonitorStore(TargetStore, ProbeHistoryStore, OutboxStore, ChannelStore, JobStore):
    """Every read and write the monitor makes outside the tracker's issues."""

    def compact(self, now: int, *, raw_ms: int, minutes_ms: int, hours_ms: int) -> CompactReport:
        """The monitor's compaction job, in one transaction: roll up and drop probe history
        (`ProbeHistoryStore.compact`), and drop the notifications delivered before the minute
        roll-ups' window (`OutboxStore.drop_delivered`)."""
        with write_transaction(self.engine):
            report = super().compact(now, raw_ms=raw_ms, minutes_ms=minutes_ms, hours_ms=hours_ms)
            self.drop_delivered(now - minutes_ms)
        return report
