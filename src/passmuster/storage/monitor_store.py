"""The monitor's store: one handle over the stores of what the monitor keeps, each in its own
module: targets, their leases and health (`target_store`), probe history (`probe_history_store`),
the notification outbox (`outbox_store`), channels (`channel_store`) and job leases
(`job_store`). The monitor's loop and its use cases hold one `MonitorStore`; code that needs one
concept only may use that store alone.
"""

from __future__ import annotations

from passmuster.storage.channel_store import ChannelStore
from passmuster.storage.job_store import JobStore
from passmuster.storage.outbox_store import OutboxStore
from passmuster.storage.probe_history_store import ProbeHistoryStore
from passmuster.storage.target_store import TargetStore


class MonitorStore(TargetStore, ProbeHistoryStore, OutboxStore, ChannelStore, JobStore):
    """Every read and write the monitor makes outside the tracker's issues."""
