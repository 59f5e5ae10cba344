"""Building monitors for tests: a desk, a configuration, a monitor driven round by round."""

from __future__ import annotations

from typing import Any

from passmuster.core.issues import IssueQuery, IssueType
from passmuster.core.targets import MonitorConfig
from passmuster.monitor.configuration import setup_from
from passmuster.monitor.notify.outbox import Backoff
from passmuster.monitor.scheduler import Monitor, Timings
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.outbox_store import Outgoing
from passmuster.usecases.desk import Desk

FAST = Timings(delivery=0.02, jobs=3600.0, batch_window=0.005, max_idle=0.05)


def config(**kw: Any) -> MonitorConfig:
    base: dict[str, Any] = {"catalog": False, "interval": 0.1, "timeout": 3.0, "jitter": 0.0}
    base.update(kw)
    return MonitorConfig.model_validate(base)


def monitor(desk: Desk, cfg: MonitorConfig, **kw: Any) -> Monitor:
    kw.setdefault("timings", FAST)
    kw.setdefault("backoff", Backoff(base=0.01, cap=0.05, max_attempts=cfg.max_attempts))
    return Monitor(desk, setup_from(cfg), **kw)


def incidents(desk: Desk) -> list[Any]:
    return desk.issues(IssueQuery(types=[IssueType.INCIDENT]))


def disable_pager(desk: Desk) -> None:
    """Channels `pager` (disabled by a 404, one notification waiting) and `ops` (enabled)."""
    store = MonitorStore(desk.engine)
    store.ensure_channels({"pager": ("webhook", "d1"), "ops": ("slack", "d2")})
    store.enqueue(
        [
            Outgoing(
                key="k1", channel="pager", kind="opened", payload={"event": "opened"}, incident=1
            )
        ],
        1,
    )
    store.disable_channel("pager", "webhook pager answered HTTP 404: no such hook", 1)
