"""The monitor: a thin loop around one testable `tick()`.

`tick()` does one unit of work and says whether more is due at once:

1. record the probes that finished (state, flips, incidents, notifications) in one batch;
2. lease the targets that are due (never more than the concurrency limit in flight) and start
   their probes as tasks — a hanging target occupies one slot until its deadline, nothing more;
3. start a delivery round of the outbox when one is due;
4. now and then, compact history and feed SLA escalations into the outbox.

Database work runs on one dedicated thread, so a slow disk or a busy PostgreSQL never stalls
the event loop that runs the probes. `run(stop)` repeats `tick()` until `stop` is set, sleeping
until the next target is due, and reloads the configuration when its files change.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from passmuster.core.health import Flip, ProbeResult
from passmuster.core.targets import Target
from passmuster.monitor.clock import lease_ms_beyond, now_ms
from passmuster.monitor.configuration import MonitorSetup
from passmuster.monitor.notify.outbox import Backoff, DeliveryReport, Dispatcher
from passmuster.monitor.probes import Prober
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.target_store import Claimed
from passmuster.usecases.desk import Desk
from passmuster.usecases.incidents import IncidentKeeper, feed_escalations
from passmuster.usecases.reminders import feed_reminders

log = logging.getLogger("passmuster.monitor")
T = TypeVar("T")

FlipHook = Callable[[Target, Flip], None]


def worker_id() -> str:
    """Unique per process and start, readable in the store: host:pid:random."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(slots=True)
class Timings:
    """How often background work runs (seconds); tests shorten them."""

    delivery: float = 0.5
    jobs: float = 30.0
    batch_window: float = 0.02  # gather finished probes this long before recording them
    max_idle: float = 1.0  # look for work at least this often (other workers, config changes)


class Monitor:
    """Probes targets, keeps incidents and sends notifications. Use `async with Monitor(...)`."""

    def __init__(
        self,
        desk: Desk,
        setup: MonitorSetup,
        *,
        loader: Callable[[], MonitorSetup] | None = None,
        client: httpx.AsyncClient | None = None,
        notify_client: httpx.AsyncClient | None = None,
        worker: str | None = None,
        backoff: Backoff | None = None,
        timings: Timings | None = None,
        on_flip: FlipHook | None = None,
        keep_samples: bool = True,
    ) -> None:
        self.desk = desk
        self.setup = setup
        self.loader = loader
        self._read_as = _stamps(setup.watch)  # the configuration files as `setup` was read
        self.worker = worker or worker_id()
        self.timings = timings or Timings()
        self.on_flip = on_flip
        self.store = MonitorStore(desk.engine)
        self._own_client = client is None
        self._own_notify = notify_client is None
        self._client = client
        self._notify_client = notify_client
        self._backoff = backoff or Backoff(
            base=setup.config.retry_base, max_attempts=setup.config.max_attempts
        )
        self._keep_samples = keep_samples
        self._executor: ThreadPoolExecutor | None = None
        self._inflight: dict[asyncio.Task[ProbeResult], Claimed] = {}
        self._delivery: asyncio.Task[DeliveryReport] | None = None
        self._next_delivery = 0.0
        self._next_jobs = 0.0
        self._next_sweep = 0.0  # lapsed claims go back to the ready queue (core.leases)
        self._wake = asyncio.Event()
        self._started = False
        self.probes_done = 0
        self.reloads = 0

    @classmethod
    def from_config(
        cls,
        desk: Desk,
        config_path: Path | None = None,
        *,
        base_urls: dict[str, str] | None = None,
        start: Path | None = None,
        skip: Sequence[str] = (),
        **kwargs: Any,
    ) -> Monitor:
        """A monitor reading `[monitor]` from `config_path` (or passmuster.toml found from
        `start`), reloading it when it changes. What `passmuster serve --monitor` starts:

            monitor = Monitor.from_config(desk)
            task = asyncio.create_task(monitor.run(stop))   # in the lifespan; stop.set() to end
        """
        from passmuster.monitor.configuration import load_setup

        def loader() -> MonitorSetup:
            return load_setup(
                config_path,
                desk_services=desk.services(),
                base_urls=base_urls,
                start=start,
                skip=skip,
            )

        return cls(desk, loader(), loader=loader, **kwargs)

    # -- life cycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Monitor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        if self._started:
            return
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="passmuster-monitor-db")
        config = self.setup.config
        if self._notify_client is None:
            self._notify_client = httpx.AsyncClient(follow_redirects=False)
        self.prober = Prober(
            self._client,  # None: the lean h11 path, see Prober
            verify=config.verify_tls,
            concurrency=config.concurrency,
            max_body_bytes=config.max_body_bytes,
            max_redirects=config.max_redirects,
        )
        self.keeper = IncidentKeeper(
            self.desk,
            self.store,
            channels=self.setup.rules,
            depends_on=self.setup.targets.depends_on(),
            jitter=config.jitter,
            keep_samples=self._keep_samples,
        )
        self.dispatcher = Dispatcher(
            self.store,
            self.setup.channels,
            client=self._notify_client,
            worker=self.worker,
            backoff=self._backoff,
            run_db=self._db,
        )
        self._started = True
        await self._sync()

    async def aclose(self) -> None:
        """Stop probing: cancel what is in flight and hand its leases back."""
        if not self._started:
            return
        self._started = False
        if self._delivery is not None and not self._delivery.done():
            # Let a delivery under way finish rather than leave it for its lease to expire.
            await asyncio.wait({self._delivery}, timeout=5.0)
        tasks = [*self._inflight, *([self._delivery] if self._delivery else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        leased = [c.target.name for c in self._inflight.values()]
        self._inflight.clear()
        with contextlib.suppress(Exception):
            await self._db(self.store.release, self.worker, leased)
        if self._own_client and self._client is not None:
            await self._client.aclose()
        if self._own_notify and self._notify_client is not None:
            await self._notify_client.aclose()
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def _sync(self) -> None:
        now = now_ms()
        await self._db(self.store.sync_targets, self.setup.targets.targets, now)
        notify = self.setup.config.notify
        channels = {
            name: (type(channel).kind, notify[name].digest())
            for name, channel in self.setup.channels.items()
        }
        enabled = await self._db(self.store.ensure_channels, channels)
        for name in enabled:
            log.info("notification channel %s enabled again: its configuration changed", name)

    def _lease_ms(self) -> int:
        return lease_ms_beyond((t.timeout for t in self.setup.targets.targets.values()), 5.0)

    # -- one step ------------------------------------------------------------------------------

    async def tick(self) -> bool:
        """One step of work; True when more is due right away."""
        await self.start()
        await self._harvest()
        capacity = self.setup.config.concurrency - len(self._inflight)
        claimed_now: list[Claimed] = []
        if capacity > 0:
            claimed_now = await self._db(
                self.store.claim_due,
                self.worker,
                now_ms(),
                limit=capacity,
                lease_ms=self._lease_ms(),
            )
            for claimed in claimed_now:
                task = asyncio.create_task(self.prober.probe(claimed.target))
                self._inflight[task] = claimed
        now = time.monotonic()
        idle_sender = self._delivery is None or self._delivery.done()
        if self.setup.channels and now >= self._next_delivery and idle_sender:
            if self._delivery is not None and self._delivery.exception() is not None:
                log.error("notification delivery failed: %s", self._delivery.exception())
            self._delivery = asyncio.create_task(self.dispatcher.deliver())
            self._next_delivery = now + self.timings.delivery
        if now >= self._next_jobs:
            self._next_jobs = now + self.timings.jobs
            await self._jobs()
        if now >= self._next_sweep:
            self._next_sweep = now + self.desk.lease_policy.sweep_interval.total_seconds()
            await self._db(self.desk.sweep_leases)
        return capacity > 0 and len(claimed_now) == capacity

    async def _jobs(self) -> None:
        history = self.setup.config.history
        now = now_ms()
        if await self._db(self.store.acquire_job, "compact", self.worker, now, 60_000) is not None:
            await self._db(
                self.store.compact,
                now,
                raw_ms=int(history.raw * 1000),
                minutes_ms=int(history.minutes * 1000),
                hours_ms=int(history.hours * 1000),
            )
        if any(rule.remind_ms for rule in self.setup.rules):
            await self._db(
                feed_reminders,
                self.desk,
                self.store,
                self.setup.rules,
                worker=self.worker,
                now_ms=now,
            )
        if self.setup.rules:
            await self._db(
                feed_escalations,
                self.desk,
                self.store,
                self.setup.rules,
                worker=self.worker,
                now_ms=now,
            )

    async def _harvest(self) -> None:
        """Record the probes that finished."""
        finished = [task for task in self._inflight if task.done()]
        if finished:
            await self._record([(self._inflight.pop(task), task.result()) for task in finished])

    async def _record(self, outcomes: list[tuple[Claimed, ProbeResult]]) -> None:
        self.probes_done += len(outcomes)
        flips = await self._db(self.keeper.apply, self.worker, outcomes)
        if flips:
            self._next_delivery = 0.0
            if self.on_flip is not None:
                by_name = {c.target.name: c.target for c, _ in outcomes}
                for name, flip in flips:
                    self.on_flip(by_name[name], flip)

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait for probes and deliveries in flight, then record them (tests, `--once`)."""
        pending: set[asyncio.Task[Any]] = set(self._inflight)
        if self._delivery is not None:
            pending.add(self._delivery)
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        await self._harvest()

    async def deliver(self) -> DeliveryReport:
        """One delivery round now (tests)."""
        await self.start()
        if self._delivery is not None and not self._delivery.done():
            await asyncio.wait({self._delivery})
        return await self.dispatcher.deliver()

    async def probe_all(self) -> list[tuple[Target, ProbeResult]]:
        """Probe every target once now, record the results, return them (`--once`)."""
        await self.start()
        await self.settle()
        now = now_ms()
        await self._db(self.store.make_due, now)
        claimed = await self._db(
            self.store.claim_due,
            self.worker,
            now,
            limit=len(self.setup.targets.targets) + 1,
            lease_ms=self._lease_ms(),
        )
        # The prober's semaphore keeps the concurrency limit; each target is probed once.
        tasks = [asyncio.create_task(self.prober.probe(c.target)) for c in claimed]
        results = await asyncio.gather(*tasks)
        outcomes = list(zip(claimed, results, strict=True))
        await self._record(outcomes)
        return [(c.target, r) for c, r in outcomes]

    # -- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; safe to start inside a web server's lifespan."""
        await self.start()
        watcher = asyncio.create_task(self._watch(stop)) if self.loader else None
        stop_wait = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                try:
                    more = await self.tick()
                except Exception:  # a monitor must outlive a database hiccup; it says so
                    log.exception("monitor step failed; retrying in a second")
                    await asyncio.sleep(1.0)
                    continue
                if more:
                    await asyncio.sleep(0)
                    continue
                if self.loader and _stamps(self.setup.watch) != self._read_as:
                    # The watcher sees only changes made once it runs; a file written before
                    # then (during a busy start) is caught here, within one idle period.
                    await self.reload()
                idle = await self._idle_time()
                self._wake.clear()
                wake_wait = asyncio.create_task(self._wake.wait())
                waiters: set[asyncio.Future[Any]] = {stop_wait, wake_wait, *self._inflight}
                if self._delivery is not None and not self._delivery.done():
                    waiters.add(self._delivery)
                done, _ = await asyncio.wait(
                    waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED
                )
                wake_wait.cancel()
                if any(task in self._inflight for task in done) and not stop.is_set():
                    await asyncio.sleep(self.timings.batch_window)
        finally:
            stop_wait.cancel()
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            await self.aclose()

    async def _idle_time(self) -> float:
        due = await self._db(self.store.next_due, free_at=now_ms())
        wait = self.timings.max_idle if due is None else (due - now_ms()) / 1000
        if self.setup.channels:
            wait = min(wait, max(self._next_delivery - time.monotonic(), 0.0))
        return min(max(wait, 0.002), self.timings.max_idle)

    # -- configuration reload ------------------------------------------------------------------

    async def _watch(self, stop: asyncio.Event) -> None:
        from watchfiles import awatch

        files = {p.resolve() for p in self.setup.watch}
        if not files:
            return
        folders = {p.parent for p in files}

        def ours(_change: Any, path: str) -> bool:
            return Path(path).resolve() in files

        async for _changes in awatch(
            *folders, watch_filter=ours, debounce=20, step=5, stop_event=stop, recursive=False
        ):
            await self.reload()

    async def reload(self) -> bool:
        """Load the configuration again and apply it; a broken file keeps the old one."""
        if self.loader is None:
            return False
        from passmuster.errors import PassmusterError

        read_as = _stamps(self.setup.watch)  # before reading: a write meanwhile is seen next time
        try:
            setup = await self._db(self.loader)
        except PassmusterError as exc:
            self._read_as = read_as  # a broken file is reported once, not at every idle check
            log.error("configuration not reloaded: %s", exc.message)
            return False
        self._read_as = read_as if setup.watch == self.setup.watch else _stamps(setup.watch)
        self.setup = setup
        config = setup.config
        self.prober.max_body_bytes = config.max_body_bytes
        self.prober.max_redirects = config.max_redirects
        self.keeper.channels = list(setup.rules)
        self.keeper.depends_on = {k: list(v) for k, v in setup.targets.depends_on().items()}
        self.keeper.jitter = config.jitter
        self.dispatcher.channels = dict(setup.channels)
        await self._sync()
        self.reloads += 1
        self._wake.set()
        log.info("configuration reloaded: %d targets", len(setup.targets.targets))
        return True


def _stamps(files: Sequence[Path]) -> dict[Path, tuple[int, int] | None]:
    """Each file's modification time and size (None when it is missing)."""
    found: dict[Path, tuple[int, int] | None] = {}
    for path in files:
        try:
            info = path.stat()
        except OSError:
            found[path] = None
        else:
            found[path] = (info.st_mtime_ns, info.st_size)
    return found
