"""Sentry-compatible ingestion: `POST /api/{project_id}/envelope/` and `/api/{project_id}/store/`.

A service's stock Sentry SDK, given the DSN `passmuster service dsn NAME` prints, sends its
errors here. The request guard (api/guard.py) checks the DSN key and the key's rate limit and
the body's size before a byte of the body is read; this module reads the body (gzip, deflate or
brotli), the envelope and its events (core.envelopes), groups each event (core.grouping) and
hands them to the group commit.

**Group commit.** Events are not written one transaction each: a single writer thread takes
everything that arrived while it was committing the previous batch and records it in one
transaction (usecases/runtime_errors.py). A request is answered `{"id": …}` only after the
transaction holding its event has committed, so an acknowledged event survives the server
being killed the moment after; and under load a batch grows with the load, so the commit cost
is shared by hundreds of events. A batch that fails is retried one event at a time, so a bad
event fails only its own request.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from passmuster.core.envelopes import (
    IngestError,
    decode_body,
    event_id_of,
    parse_envelope,
    parse_store_body,
    sentry_key,
)
from passmuster.core.error_events import read_event
from passmuster.core.grouping import group
from passmuster.errors import AuthError, PassmusterError

if TYPE_CHECKING:
    from passmuster.storage.error_store import KeyRow
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.ingest_keys import IngestKeys
    from passmuster.usecases.runtime_errors import ErrorIntake, Incoming, Recorded

    Outcome = Recorded | BaseException

log = logging.getLogger("passmuster.ingest")

INGEST_PATH = re.compile(r"^/api/(\d{1,9})/(envelope|store)/?$")
MAX_BATCH = 1000
_STATE_KEY = "passmuster_ingest_key"


def ingest_project(path: str) -> int | None:
    """The project id of an ingestion path, or None for any other path."""
    match = INGEST_PATH.match(path)
    return int(match.group(1)) if match else None


class TooManyEvents(PassmusterError):
    status_code = 429
    exit_code = 6

    def __init__(self, retry_after: int, service: str) -> None:
        super().__init__(
            f"{service} sends more events than its rate limit allows; retry in {retry_after} s"
        )
        self.retry_after = retry_after
        # Sentry SDKs read this header and hold back events of every category until then.
        self.headers = {"X-Sentry-Rate-Limits": f"{retry_after}::organization"}


class KeyBucket:
    """A token bucket per DSN key: `burst` events at once, then `rate` per second."""

    def __init__(self, rate: float, burst: int) -> None:
        from passmuster.api.guard import LoginLimiter

        self.enabled = rate > 0
        # The login limiter is a token bucket per client; here the client is the key.
        self._bucket = LoginLimiter(attempts=max(burst, 1), window=max(burst, 1) / max(rate, 1e-9))

    def wait(self, key: str) -> float:
        return self._bucket.wait(key) if self.enabled else 0.0


class IngestGate:
    """What the guard asks before reading an ingestion body: whose key, and may it send now."""

    def __init__(self, desk: Desk, bucket: KeyBucket) -> None:
        self.desk = desk
        self.bucket = bucket

    @cached_property
    def keys(self) -> IngestKeys:
        # Made at the first event: a server sent none need not import the error store to start.
        from passmuster.usecases.ingest_keys import IngestKeys

        return IngestKeys(self.desk)

    def admit(self, scope: Scope, project_id: int) -> KeyRow:
        request = Request(scope)
        key = self.keys.authenticate(
            project_id, sentry_key(request.headers, scope.get("query_string", b"").decode())
        )
        wait = self.bucket.wait(key.public_key)
        if wait:
            import math

            raise TooManyEvents(math.ceil(wait), key.service)
        scope.setdefault("state", {})[_STATE_KEY] = key
        return key


class GroupCommit:
    """Batches events into one transaction each; see the module docstring."""

    def __init__(
        self,
        record: Callable[[Sequence[Incoming]], list[Recorded]],
        *,
        max_batch: int = MAX_BATCH,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._record = record
        self._max_batch = max_batch
        self._on_change = on_change
        self._queue: list[tuple[Incoming, asyncio.Future[Recorded]]] = []
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="passmuster-ingest")
        self.batches = 0

    async def submit(self, items: Sequence[Incoming]) -> list[Recorded]:
        loop = asyncio.get_running_loop()
        futures = []
        for item in items:
            future: asyncio.Future[Recorded] = loop.create_future()
            self._queue.append((item, future))
            futures.append(future)
        self._wake.set()
        return list(await asyncio.gather(*futures))

    async def run(self, stop: asyncio.Event) -> None:
        """Commit batches until `stop` is set and everything submitted is committed."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not self._queue:
                    if stop.is_set():
                        return
                    waiter = asyncio.ensure_future(self._wake.wait())
                    stopper = asyncio.ensure_future(stop.wait())
                    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    for task in (waiter, stopper):
                        task.cancel()
                    self._wake.clear()
                    continue
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                outcomes = await loop.run_in_executor(
                    self._executor, self._record_safely, [item for item, _ in batch]
                )
                self.batches += 1
                changed = False
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():  # the client went away meanwhile
                        continue
                    if isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        changed = changed or outcome.opened or outcome.reopened
                        future.set_result(outcome)
                if changed and self._on_change is not None:
                    self._on_change()
        finally:
            self._executor.shutdown(wait=True)

    def _record_safely(self, batch: list[Incoming]) -> list[Outcome]:
        try:
            return list(self._record(batch))
        except Exception as exc:
            if len(batch) == 1:
                if not isinstance(exc, PassmusterError):
                    log.exception("recording an event failed")
                return [exc]
        # One event spoiled the batch: record the others one by one; only its request fails.
        return [outcome for item in batch for outcome in self._record_safely([item])]


# --- the endpoints ------------------------------------------------------------------------------


def _services(request: Request) -> tuple[IngestGate, GroupCommit, int]:
    state = request.app.state
    return state.ingest_gate, state.ingest_commit, state.settings.max_ingest_bytes


def _key(request: Request, gate: IngestGate) -> KeyRow:
    from passmuster.storage.error_store import KeyRow

    found = request.scope.get("state", {}).get(_STATE_KEY)
    if isinstance(found, KeyRow):
        return found
    project = ingest_project(request.url.path)
    if project is None:  # pragma: no cover - the routes only match ingestion paths
        raise AuthError("not an ingestion path")
    return gate.admit(request.scope, project)


async def _body(request: Request, limit: int) -> bytes:
    raw = await request.body()
    return decode_body(raw, request.headers.get("content-encoding"), limit=limit)


def _incoming(key: KeyRow, payload: dict[str, Any], raw: bytes, envelope: Any) -> Incoming:
    from passmuster.usecases.runtime_errors import Incoming

    event = read_event(payload, event_id_of(payload, envelope))
    return Incoming(key.service_id, key.service, event, group(event), raw)


async def envelope_endpoint(request: Request) -> Response:
    gate, commit, limit = _services(request)
    key = _key(request, gate)
    data = await _body(request, limit)
    envelope = parse_envelope(data)
    events = [item for item in envelope.items if item.type == "event"]
    if not events:
        # Sessions, transactions, client reports …: accepted, and not the desk's business.
        found = envelope.headers.get("event_id")
        return JSONResponse({"id": str(found)} if found else {})
    payloads = envelope.events()
    incoming = [
        _incoming(key, payload, item.payload, envelope.headers)
        for payload, item in zip(payloads, events, strict=True)
    ]
    recorded = await commit.submit(incoming)
    return JSONResponse({"id": recorded[0].event_id})


async def store_endpoint(request: Request) -> Response:
    gate, commit, limit = _services(request)
    key = _key(request, gate)
    data = await _body(request, limit)
    payload = parse_store_body(data)
    recorded = await commit.submit([_incoming(key, payload, data, None)])
    return JSONResponse({"id": recorded[0].event_id})


async def serve(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer an ingestion request the guard has admitted, without the router and the
    middleware behind the guard.

    The request guard calls this for a `POST` to an ingestion path once the key and the rate
    limit have passed: the routes below would answer it all the same, but on the way there
    every event paid for the router, the exception middleware and FastAPI's per-request
    context (about as much CPU as reading, grouping and storing the event). Errors are
    answered by the app's own handlers, found as Starlette's exception middleware finds them,
    so a refused event gets the same reply either way; anything unexpected goes on to the
    server-error middleware, as before.
    """
    match = INGEST_PATH.match(scope["path"])
    endpoint = (
        store_endpoint if match is not None and match.group(2) == "store" else envelope_endpoint
    )
    request = Request(scope, receive, send)
    try:
        response = await endpoint(request)
    except Exception as exc:
        handler = _handler_for(scope["app"].exception_handlers, exc)
        if handler is None:
            raise
        response = await handler(request, exc)
    await response(scope, receive, send)


def _handler_for(handlers: Mapping[Any, Any], exc: Exception) -> Any:
    """The handler the exception middleware would pick: the nearest class in `exc`'s MRO,
    leaving `Exception` (the 500 handler) to the server-error middleware."""
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls in handlers and cls is not Exception:
            return handlers[cls]
    return None


def routes() -> list[Route]:
    """The ingestion routes, with and without the trailing slash SDKs send."""
    found = []
    for name, endpoint in (("envelope", envelope_endpoint), ("store", store_endpoint)):
        for path in (f"/api/{{project_id:int}}/{name}/", f"/api/{{project_id:int}}/{name}"):
            found.append(Route(path, endpoint, methods=["POST"], include_in_schema=False))
    return found


def start(app: Any, desk: Any, *, hub: Any, stop: asyncio.Event) -> asyncio.Task[None]:
    """Open the gate and start the group commit; the task ends after `stop`, drained."""
    config = app.state.settings
    app.state.ingest_gate = IngestGate(desk, KeyBucket(config.ingest_rate, config.ingest_burst))
    record = _recorder(desk, keep=config.error_events_kept)
    commit = GroupCommit(record, on_change=hub.poke if hub is not None else None)
    app.state.ingest_commit = commit
    return asyncio.create_task(commit.run(stop), name="ingest")


def _recorder(desk: Desk, *, keep: int) -> Callable[[Sequence[Incoming]], list[Recorded]]:
    """`ErrorIntake(desk, keep=keep).record`, the intake made by the first batch (in the writer
    thread): a server sent no event need not import it to start."""
    intake: ErrorIntake | None = None

    def record(batch: Sequence[Incoming]) -> list[Recorded]:
        nonlocal intake
        if intake is None:
            from passmuster.usecases.runtime_errors import ErrorIntake

            intake = ErrorIntake(desk, keep=keep)
        return intake.record(batch)

    return record


__all__ = [
    "INGEST_PATH",
    "GroupCommit",
    "IngestError",
    "IngestGate",
    "TooManyEvents",
    "ingest_project",
    "routes",
    "serve",
    "start",
]
