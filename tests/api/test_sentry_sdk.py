"""The stock Sentry SDK, inside a real FastAPI app and a real Flask app (each its own process),
reporting to a real `passmuster serve`; and acknowledged events surviving a killed server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sentry_events import envelope, exception_event

from api.live_server import free_port, passmuster_serve, serve_pid, stop_process, wait_until_up
from passmuster.core.issues import Status
from passmuster.storage import error_store
from passmuster.usecases.desk import Desk
from passmuster.usecases.ingest_keys import IngestKeys
from passmuster.usecases.runtime_errors import error_summary, resolve_in_next_release

FASTAPI_APP = """
import os
import sentry_sdk
from fastapi import FastAPI

sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],
    release=os.environ["RELEASE"],
    environment="test",
    transport_queue_size=1000,
)
app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, bool]:
    return {"ok": True}


@app.get("/orders/{order}")
def order(order: int) -> dict[str, str]:
    prices = {"small": "1.00"}
    return {"price": prices[f"size-{order % 3}"]}
"""

FLASK_APP = """
import os
import sentry_sdk
from flask import Flask

sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], release=os.environ["RELEASE"], environment="test")
app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"ok": True}


@app.get("/pay")
def pay():
    amount = int("twelve")
    return {"amount": amount}


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]))
"""


def wait_for(check: Callable[[], bool], *, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def service_app(
    tmp_path: Path, name: str, source: str, command: list[str], dsn: str, release: str
) -> Iterator[str]:
    (tmp_path / f"{name}.py").write_text(source)
    port = free_port()
    env = {**os.environ, "SENTRY_DSN": dsn, "RELEASE": release, "PORT": str(port)}
    argv = [a.replace("{port}", str(port)) for a in command]
    log = (tmp_path / f"{name}-{port}.log").open("wb")
    process = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        yield base
    finally:
        # SIGTERM, so the SDK flushes what it still holds (its atexit hook).
        stop_process(process, timeout=15)
        log.close()


def fastapi_service(tmp_path: Path, dsn: str, release: str) -> Iterator[str]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "orders:app",
        "--port",
        "{port}",
        "--log-level",
        "warning",
    ]
    return service_app(tmp_path, "orders", FASTAPI_APP, command, dsn, release)  # type: ignore[return-value]


def events_of(desk: Desk, number: int) -> int:
    summary = error_summary(desk, number)
    return summary.group.event_count if summary else 0


def test_the_stock_sdk_in_fastapi_and_flask_reports_to_the_desk(
    sqlite_url: str, tmp_path: Path
) -> None:
    desk = Desk.connect(sqlite_url)
    with passmuster_serve(sqlite_url, cwd=tmp_path) as server:
        keys = IngestKeys(desk)
        orders_dsn = str(keys.dsn_for("orders", actor="test", base_url=server))
        payments_dsn = str(keys.dsn_for("payments", actor="test", base_url=server))
        with fastapi_service(tmp_path, orders_dsn, "orders@1.0.0") as orders:
            # One exception: one issue.
            assert httpx.get(f"{orders}/orders/1").status_code == 500
            wait_for(lambda: desk.count() == 1, what="the first issue")
            first = desk.get(1)
            assert first.title.startswith("orders: KeyError: 'size-1'")
            assert first.services == ["orders"] and first.severity.value == "high"
            # A hundred of the same (other orders, other keys): still one issue, counting 100.
            # A fresh connection per request: the app closes one after a crashed request.
            with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
                for n in range(2, 101):
                    assert client.get(f"{orders}/orders/{n}").status_code == 500
            wait_for(lambda: events_of(desk, 1) == 100, what="100 events on #001")
            assert desk.count() == 1
        # A different exception, from a Flask app: another issue.
        flask_cmd = [sys.executable, "payments.py"]
        with service_app(
            tmp_path, "payments", FLASK_APP, flask_cmd, payments_dsn, "payments@3.1"
        ) as pay:
            assert httpx.get(f"{pay}/pay").status_code == 500
            wait_for(lambda: desk.count() == 2, what="the Flask app's issue")
        second = desk.get(2)
        assert second.title.startswith("payments: ValueError: invalid literal for int()")
        assert 'amount = int("twelve")' in second.error_details[0]
        # Resolved, then seen again in a new release: reopened as a regression.
        desk.transition(1, Status.RESOLVED, actor="alice", fields={"resolution": "sizes fixed"})
        with fastapi_service(tmp_path, orders_dsn, "orders@1.0.1") as orders:
            assert httpx.get(f"{orders}/orders/7").status_code == 500
            wait_for(lambda: desk.get(1).status is Status.OPEN, what="the regression")
            regressed = desk.events(issue=1, kinds=["regressed"])[-1]
            assert "release orders@1.0.1" in (regressed.new or "")
            # Resolved in the next release: the running release no longer reopens it …
            resolve_in_next_release(desk, 1, actor="alice")
            assert httpx.get(f"{orders}/orders/8").status_code == 500
            wait_for(lambda: events_of(desk, 1) == 102, what="the 102nd event")
            assert desk.get(1).status is Status.RESOLVED
        # … the next one does.
        with fastapi_service(tmp_path, orders_dsn, "orders@1.1.0") as orders:
            assert httpx.get(f"{orders}/orders/9").status_code == 500
            wait_for(lambda: desk.get(1).status is Status.OPEN, what="the second regression")
        assert desk.count() == 2
    desk.close()


def test_an_acknowledged_event_survives_the_server_being_killed(
    database_url: str, tmp_path: Path
) -> None:
    desk = Desk.connect(database_url)
    dsn = IngestKeys(desk).dsn_for("billing", actor="test")
    acknowledged: list[str] = []
    stop = threading.Event()
    with passmuster_serve(database_url, cwd=tmp_path, env={"PASSMUSTER_INGEST_RATE": "0"}) as base:
        pid = serve_pid(base.rsplit(":", 1)[1])

        def send() -> None:
            with httpx.Client(base_url=base, timeout=5) as client:
                while not stop.is_set():
                    event = exception_event(user=None)
                    try:
                        response = client.post(
                            f"/api/{dsn.project_id}/envelope/",
                            content=envelope(event),
                            headers={"X-Sentry-Auth": f"Sentry sentry_key={dsn.public_key}"},
                        )
                    except httpx.HTTPError:
                        return
                    if response.status_code == 200:
                        acknowledged.append(event["event_id"])

        senders = [threading.Thread(target=send) for _ in range(4)]
        for sender in senders:
            sender.start()
        wait_for(lambda: len(acknowledged) >= 50, what="50 acknowledged events")
        os.kill(pid, signal.SIGKILL)
        stop.set()
        for sender in senders:
            sender.join(timeout=10)
    taken = list(acknowledged)
    assert len(taken) >= 50
    # Opened again (as a restarted server would): every acknowledged event is there.
    with Desk.connect(database_url) as reopened:
        stored = reopened.read(
            lambda c: error_store.seen_event_ids(c, [(dsn.project_id, e) for e in taken])
        )
        assert len(stored) == len(taken)
        assert events_of(reopened, 1) >= len(taken)
    desk.close()


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="finds the server's pid through /proc")
