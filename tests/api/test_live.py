"""The live feed: Server-Sent Events for new issue events and health flips, across processes."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from api.helpers import Api, make_tokens
from api.live_server import passmuster_serve
from passmuster.usecases.desk import Desk

Event = tuple[str, dict[str, object]]


@contextmanager
def listening(base: str, token: str, *, timeout: float = 20.0) -> Iterator[queue.Queue[Event]]:
    """Read `/api/v1/events/stream` in a thread; yields a queue of (event, data) once ready."""
    events: queue.Queue[Event] = queue.Queue()
    stop = threading.Event()

    def read() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(timeout=httpx.Timeout(5.0, read=timeout)) as client:
            try:
                with client.stream("GET", f"{base}/api/v1/events/stream", headers=headers) as r:
                    name = "message"
                    for line in r.iter_lines():
                        if stop.is_set():
                            return
                        if line.startswith("event:"):
                            name = line.split(":", 1)[1].strip()
                        elif line.startswith("data:"):
                            events.put((name, json.loads(line.split(":", 1)[1])))
            except httpx.HTTPError as exc:
                events.put(("error", {"reason": str(exc)}))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    first = events.get(timeout=timeout)
    assert first[0] == "ready", first
    try:
        yield events
    finally:
        stop.set()


def wait_for(
    events: queue.Queue[Event],
    kind: str,
    *,
    timeout: float = 20.0,
    where: Callable[[dict[str, object]], bool] = lambda data: True,
) -> dict[str, object]:
    """The first `kind` event (matching `where`) on the stream."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            name, data = events.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        assert name != "error", data
        if name == kind and where(data):
            return data
    raise AssertionError(f"no {kind!r} event within {timeout}s")


def test_a_stream_gets_an_issue_filed_through_the_api(sqlite_api: Api) -> None:
    base = str(sqlite_api.client.base_url)
    with listening(base, sqlite_api.secrets["reader"]) as events:
        sqlite_api.post("/api/v1/issues", "reporter", json={"title": "Payments down"})
        data = wait_for(events, "issue")
    assert data == {"issue": 1, "kind": "created", "field": None}


def test_a_stream_without_a_token_is_refused(sqlite_api: Api) -> None:
    assert sqlite_api.client.get("/api/v1/events/stream").status_code == 401


def test_a_health_flip_recorded_by_the_monitor_reaches_the_stream(sqlite_api: Api) -> None:
    from passmuster.core.health import Health, TargetState
    from passmuster.core.targets import Target
    from passmuster.storage.monitor_store import MonitorStore
    from passmuster.storage.probe_history_store import Sample
    from passmuster.storage.target_store import Record

    store = MonitorStore(sqlite_api.desk.engine)
    target = Target(name="identity", url="http://127.0.0.1:9/healthz", service="identity")
    now = int(time.time() * 1000)
    store.sync_targets({"identity": target}, now)
    base = str(sqlite_api.client.base_url)
    with listening(base, sqlite_api.secrets["reader"]) as events:
        assert store.claim_due("test", now + 60_000, limit=10, lease_ms=10_000)
        down = TargetState(health=Health.DOWN, failures=3, since=now, flips=1)
        sample = Sample("identity", now, False, False, 0.01, None, "connection refused")
        store.record("test", [Record("identity", down, now + 10_000, sample)])
        # The stream may first say the new target is "unknown" (it just appeared); the flip to
        # "down" must follow.
        data = wait_for(events, "service", where=lambda d: d.get("state") != "unknown")
    assert data == {"name": "identity", "state": "down"}
    health = sqlite_api.get("/api/v1/services/identity/health").json()
    assert health["state"] == "down" and health["reason"] == "connection refused"


@pytest.mark.postgres
@pytest.mark.slow
def test_an_event_written_through_one_server_process_reaches_streams_on_another(
    postgres_url: str, tmp_path: Path
) -> None:
    # Both processes poll only once a minute: an event can arrive within the wait below only
    # because the writing process's NOTIFY wakes the other one.
    desk = Desk.connect(postgres_url)
    secrets = make_tokens(desk)
    desk.close()
    slow_poll = {"PASSMUSTER_LIVE_POLL_INTERVAL": "60"}
    with (
        passmuster_serve(postgres_url, cwd=tmp_path, env=slow_poll) as first,
        passmuster_serve(postgres_url, cwd=tmp_path, env=slow_poll) as second,
        listening(second, secrets["reader"]) as events,
    ):
        filed = httpx.post(
            f"{first}/api/v1/issues",
            json={"title": "Written on the first process"},
            headers={"Authorization": f"Bearer {secrets['reporter']}"},
        )
        assert filed.status_code == 201
        data = wait_for(events, "issue", timeout=20)
    assert data["issue"] == filed.json()["number"]


def test_metrics_need_a_token_and_speak_prometheus(sqlite_api: Api) -> None:
    assert sqlite_api.client.get("/metrics").status_code == 401
    scraped = sqlite_api.get("/metrics", "reader")
    assert scraped.status_code == 200
    assert "# TYPE" in scraped.text


def test_pages_get_a_burst_of_events_as_one_batch_ending_with_the_last(sqlite_url: str) -> None:
    import asyncio

    from passmuster.api.live import LiveEvent, LiveHub

    desk = Desk.connect(sqlite_url)

    async def scenario() -> list[list[str]]:
        hub = LiveHub(desk)
        batches: list[list[str]] = []

        async def read() -> None:
            async for batch in hub.subscribe_batches(0.3):
                batches.append([e.id for e in batch])

        reader = asyncio.create_task(read())
        await asyncio.sleep(0.05)
        for n in range(5):
            hub.publish(LiveEvent("issue", str(n), {"issue": n}))
        await asyncio.sleep(0.6)
        hub.publish(LiveEvent("issue", "late", {"issue": 9}))
        await asyncio.sleep(0.4)
        hub.close()
        await asyncio.wait_for(reader, 5)
        return batches

    try:
        batches = asyncio.run(scenario())
    finally:
        desk.close()
    assert batches[1:] == [["0", "1", "2", "3", "4"], ["late"]]
    assert batches[0][0].startswith("c-")
