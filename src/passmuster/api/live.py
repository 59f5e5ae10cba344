"""The live feed: new events from the desk, fanned out to every open page and API stream.

One `LiveHub` per server process follows the event log by cursor (`desk.events(after=...)`) and
hands each new event to every subscriber. It looks every `poll_interval` seconds, and at once when
something wakes it: a write handled by this process (`poke`), or, on PostgreSQL, a NOTIFY from
another process on the same desk — so with several `serve` processes an event written through any
of them reaches the pages open on all of them straight away. Writes made elsewhere (the CLI, the
monitor) are picked up by the poll.

Service health comes from an optional `health` callable returning `{service: state}`; a change
between two looks becomes a `service` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk

log = logging.getLogger("passmuster.live")

CHANNEL = "passmuster_live"
_QUEUE_SIZE = 1000
# How long a wake-up waits for more writes before reading them all at once (seconds).
_COALESCE = 0.05


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """`kind` is `issue` (data: issue, kind, field), `service` (name, state) or `ready`."""

    kind: str
    id: str
    data: Mapping[str, Any] = field(default_factory=dict)


HealthSource = Callable[[], Mapping[str, str]]
Allowed = Callable[[], bool]
# How often a stream asks whether its caller may still listen (see `subscribe`).
ALLOWED_CHECK = 1.0


class LiveHub:
    def __init__(
        self,
        desk: Desk,
        *,
        poll_interval: float = 1.0,
        listen_url: str | None = None,
        health: HealthSource | None = None,
    ) -> None:
        self._desk = desk
        self._poll_interval = poll_interval
        self._listen_url = listen_url
        self._health = health
        self._health_seen: dict[str, str] | None = None
        self._health_at = 0.0
        self._notifying = False
        self._notify_task: asyncio.Task[None] | None = None
        self._subscribers: set[asyncio.Queue[LiveEvent | None]] = set()
        self._wake = asyncio.Event()
        self._closed = asyncio.Event()
        self.cursor = 0

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        """Begin after the newest event: pages want what happens from now on."""
        self.cursor = await asyncio.to_thread(self._desk.latest_event_id)
        if self._health is not None:
            try:
                self._health_seen = dict(await asyncio.to_thread(self._health))
            except Exception:  # no health yet is no reason to refuse to serve issues
                log.exception("live feed: reading service health failed")

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the desk until `stop` is set; then end every subscriber's stream."""
        listener = asyncio.create_task(self._listen(stop)) if self._listen_url else None
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:  # a failed look must not end the feed; the next one retries
                    log.exception("live feed: reading new events failed")
                wake = asyncio.create_task(self._wake.wait())
                halt = asyncio.create_task(stop.wait())
                await asyncio.wait(
                    {wake, halt}, timeout=self._poll_interval, return_when="FIRST_COMPLETED"
                )
                for task in (wake, halt):
                    task.cancel()
                if self._wake.is_set():
                    # Let a burst of writes land, then read them in one look.
                    await asyncio.sleep(_COALESCE)
                self._wake.clear()
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            self.close()

    async def tick(self) -> int:
        """Publish what happened since the last look; returns how many events went out."""
        sent = 0
        while True:
            events = await asyncio.to_thread(self._desk.events, after=self.cursor, limit=500)
            for event in events:
                self.cursor = max(self.cursor, event.id)
                self.publish(
                    LiveEvent(
                        "issue",
                        str(event.id),
                        {"issue": event.issue, "kind": event.kind, "field": event.field},
                    )
                )
                sent += 1
            if len(events) < 500:
                break
        due = time.monotonic() - self._health_at >= self._poll_interval
        if self._health is not None and due:
            self._health_at = time.monotonic()
            now = dict(await asyncio.to_thread(self._health))
            before = self._health_seen or {}
            for name, state in sorted(now.items()):
                if before.get(name) != state:
                    self.publish(LiveEvent("service", f"s-{name}", {"name": name, "state": state}))
                    sent += 1
            self._health_seen = now
        return sent

    def publish(self, event: LiveEvent) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A subscriber that stopped reading loses events rather than holding memory.
                log.warning("live feed: a subscriber is not reading; dropping an event")

    def poke(self) -> None:
        """A write happened here: look now, and tell the other processes on this desk.

        One NOTIFY covers a burst: while one is on its way, further writes ride along.
        """
        self._wake.set()
        if self._listen_url and not self._notifying:
            self._notifying = True
            asyncio.get_running_loop().call_later(_COALESCE, self._send_notify)

    def _send_notify(self) -> None:
        async def send() -> None:
            try:
                await asyncio.to_thread(self._notify_others)
            finally:
                self._notifying = False

        self._notify_task = asyncio.get_running_loop().create_task(send())

    def close(self) -> None:
        self._closed.set()
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    async def subscribe(self, allowed: Allowed | None = None) -> AsyncIterator[LiveEvent]:
        """Every event from now on until the hub closes (or the caller stops iterating).

        The first event is `ready`: from then on nothing is missed. With `allowed`, the stream
        ends once it answers False, asked every ALLOWED_CHECK seconds (a revoked token, an
        ended session).
        """
        async for batch in self.subscribe_batches(0.0, allowed):
            for event in batch:
                yield event

    async def subscribe_batches(
        self, window: float, allowed: Allowed | None = None
    ) -> AsyncIterator[list[LiveEvent]]:
        """Like `subscribe`, but events arriving within `window` seconds of the first come
        together: a page that re-fetches on each event then does so at most once per window,
        and always after the last event of a burst."""
        queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(_QUEUE_SIZE)
        self._subscribers.add(queue)
        loop = asyncio.get_running_loop()
        check_at = loop.time() + ALLOWED_CHECK
        try:
            yield [LiveEvent("ready", f"c-{self.cursor}", {"cursor": self.cursor})]
            while not self._closed.is_set():
                if allowed is not None and loop.time() >= check_at:
                    if not allowed():
                        return
                    check_at = loop.time() + ALLOWED_CHECK
                wait = None if allowed is None else max(check_at - loop.time(), 0.01)
                try:
                    item = await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:
                    continue
                if item is None:
                    return
                batch = [item]
                deadline = loop.time() + window
                while (left := deadline - loop.time()) > 0:
                    try:
                        item = await asyncio.wait_for(queue.get(), left)
                    except TimeoutError:
                        break
                    if item is None:
                        yield batch
                        return
                    batch.append(item)
                yield batch
        finally:
            self._subscribers.discard(queue)

    # --- the database side ---------------------------------------------------------------

    def _notify_others(self) -> None:
        from sqlalchemy import text

        from passmuster.storage.engine import write_transaction

        try:
            with write_transaction(self._desk.engine) as conn:
                conn.execute(text("select pg_notify(:channel, '')"), {"channel": CHANNEL})
        except Exception:  # the poll still delivers; a lost wake-up only delays
            log.exception("live feed: NOTIFY failed")

    async def _listen(self, stop: asyncio.Event) -> None:
        """LISTEN on the desk's PostgreSQL database; every NOTIFY wakes the feed."""
        import psycopg

        assert self._listen_url is not None
        while not stop.is_set():
            try:
                conn = await psycopg.AsyncConnection.connect(self._listen_url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    async for _ in conn.notifies():
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live feed: LISTEN connection lost; retrying")
                await asyncio.sleep(1.0)


def listen_url_for(database_url: str) -> str | None:
    """A libpq URL for LISTEN when the desk is on PostgreSQL, else None."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
