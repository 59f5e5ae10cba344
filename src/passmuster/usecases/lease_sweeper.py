"""The loop that returns lapsed claims to the ready queue, for processes that run a while.

`passmuster serve` and `passmuster mcp` run it beside their work (the monitor sweeps in its own
`tick`). One step is `Desk.sweep_leases`, which any number of processes may run at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk

log = logging.getLogger("passmuster.leases")


async def sweep_leases_until(
    desk: Desk, stop: asyncio.Event, *, interval: float | None = None
) -> None:
    """Sweep every `interval` seconds (default: the desk's `[leases] sweep_interval`) until
    `stop` is set."""
    every = interval if interval is not None else desk.lease_policy.sweep_interval.total_seconds()
    while not stop.is_set():
        try:
            returned = await asyncio.to_thread(desk.sweep_leases)
        except Exception:  # a sweeper must outlive a database hiccup; it says so
            log.exception("returning lapsed claims failed; trying again later")
        else:
            for issue in returned:
                log.info("claim on %s ran out; back in the ready queue", issue.ref)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
