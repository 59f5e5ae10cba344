"""Delivering the outbox: claim due notifications, send each once, record what happened.

A notification is claimed under a lease (see MonitorStore.claim_outbox), sent, then marked sent
only by the worker still holding it. A worker killed mid-way leaves a `sending` row whose lease
runs out, and another worker (or the same one, restarted) sends it. Failures back off
exponentially (honouring `Retry-After`); a permanent failure disables the channel with its
reason and leaves its notifications waiting until someone fixes the configuration.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from passmuster.monitor.clock import lease_ms_beyond, now_ms
from passmuster.monitor.notify import Permanent, Retry
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.outbox_store import OutboxRow

T = TypeVar("T")
Runner = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float = 1.0  # seconds before the first retry
    cap: float = 3600.0
    max_attempts: int = 12

    def delay(self, attempts: int, retry_after: float | None) -> float:
        """Exponential with jitter (between half and all of base·2^n), never under Retry-After."""
        exp = min(self.cap, self.base * 2.0 ** max(attempts - 1, 0))
        delay = exp / 2 + random.random() * exp / 2
        if retry_after is not None:
            # The receiver knows best; only a day-long wait is cut short.
            delay = max(delay, min(retry_after, 86400.0))
        return delay


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    disabled: tuple[str, ...] = ()


async def _direct(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return fn(*args, **kwargs)


class Dispatcher:
    """Sends what the outbox holds through the configured channels."""

    def __init__(
        self,
        store: MonitorStore,
        channels: Mapping[str, Any],
        *,
        client: httpx.AsyncClient,
        worker: str,
        backoff: Backoff | None = None,
        run_db: Runner | None = None,
        batch: int = 50,
    ) -> None:
        self.store = store
        self.channels = dict(channels)
        self.client = client
        self.worker = worker
        self.backoff = backoff or Backoff()
        self._db: Runner = run_db or _direct
        self.batch = batch

    def lease_ms(self) -> int:
        """Longer than any send may take, so a live sender never loses its claim."""
        return lease_ms_beyond((getattr(c, "timeout", 10.0) for c in self.channels.values()), 10.0)

    async def deliver(self) -> DeliveryReport:
        """One round: claim due notifications on enabled channels and send them."""
        if not self.channels:
            return DeliveryReport()
        rows_channels = await self._db(self.store.channels)
        disabled = {c.name for c in rows_channels if c.disabled_reason}
        enabled = [name for name in self.channels if name not in disabled]
        now = now_ms()
        rows: list[OutboxRow] = await self._db(
            self.store.claim_outbox,
            self.worker,
            now,
            limit=self.batch,
            lease_ms=self.lease_ms(),
            channels=enabled,
        )
        if not rows:
            return DeliveryReport()
        outcomes = await asyncio.gather(*(self._send(row) for row in rows))
        sent = sum(1 for o in outcomes if o == "sent")
        retried = sum(1 for o in outcomes if o == "retry")
        failed = sum(1 for o in outcomes if o == "failed")
        newly = tuple(sorted({o[9:] for o in outcomes if o.startswith("disabled:")}))
        return DeliveryReport(sent, retried, failed, newly)

    async def _send(self, row: OutboxRow) -> str:
        channel = self.channels[row.channel]
        key = f"{row.key}:{row.channel}"
        try:
            await channel.send(self.client, row.payload, key)
        except Retry as exc:
            if row.attempts >= self.backoff.max_attempts:
                await self._db(
                    self.store.mark_failed,
                    row.id,
                    self.worker,
                    f"gave up after {row.attempts} attempts: {exc.reason}",
                )
                return "failed"
            delay = self.backoff.delay(row.attempts, exc.retry_after)
            await self._db(
                self.store.mark_retry,
                row.id,
                self.worker,
                now_ms() + int(delay * 1000),
                exc.reason,
            )
            return "retry"
        except Permanent as exc:
            await self._db(self.store.disable_channel, row.channel, exc.reason, now_ms())
            await self._db(self.store.hold, row.id, self.worker, exc.reason)
            return f"disabled:{row.channel}"
        await self._db(self.store.mark_sent, row.id, self.worker, now_ms())
        return "sent"
