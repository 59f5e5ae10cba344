"""A scan the server starts runs in a child process with limits: the attacks once made through
`serve --platform` (a YAML file that crashed the whole server, scans that hung every route)
now end as findings or as an error for that request, and the server goes on serving."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.helpers import Api, make_tokens
from api.live_server import serve_in_thread
from passmuster.api.app import create_app
from passmuster.api.config import ServeSettings
from passmuster.scanner.context.reading import ScanTimeout
from passmuster.scanner.isolated import ScanLimits, scan_isolated
from passmuster.usecases.desk import Desk

COMPOSE = """\
services:
  api:
    build: .
    ports: ["8000:8000"]
  worker:
    image: python:3.12
    ports: ["8000:8001"]
"""
# One statement per two bytes: a 1 MiB module that takes seconds and hundreds of MB to parse.
DENSE_PYTHON = "1\n" * 500_000


def _platform(root: Path, files: dict[str, str]) -> Path:
    root.mkdir()
    for name, text in {"docker-compose.yml": COMPOSE, **files}.items():
        (root / name).write_text(text)
    return root


def _serve(tmp_path: Path, root: Path, **settings: float) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    desk = Desk.connect(url)
    secrets = make_tokens(desk)
    app = create_app(ServeSettings(database_url=url, platform_root=root, **settings))
    try:
        with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=120) as client:
            yield Api(client, secrets, desk, app)
    finally:
        desk.close()


def _still_serving(api: Api) -> None:
    assert api.client.get("/healthz").status_code == 200
    assert api.get("/api/v1/issues").status_code == 200


@pytest.fixture
def deep_yaml_api(tmp_path: Path) -> Iterator[Api]:
    depth = 50_000
    root = _platform(tmp_path / "platform", {"compose.x.yml": "x: " + "[" * depth + "]" * depth})
    yield from _serve(tmp_path, root)


def test_fifty_thousand_levels_of_yaml_are_a_finding_not_a_dead_server(
    deep_yaml_api: Api,
) -> None:
    response = deep_yaml_api.post("/api/v1/scans/run", "coordinator")
    assert response.status_code == 200, response.text
    items = deep_yaml_api.get("/api/v1/issues", params={"limit": 500}).json()["items"]
    labels = {label for item in items for label in item["labels"]}
    assert {"rule:PM001", "rule:PORT001"} <= labels  # the rest was still scanned
    (deep,) = [i for i in items if "rule:PM001" in i["labels"]]
    assert "YAML nested deeper than 100 levels" in deep["title"] + deep["description"]
    _still_serving(deep_yaml_api)


@pytest.fixture
def small_memory_api(tmp_path: Path) -> Iterator[Api]:
    # A 1 MiB YAML list becomes some 200 MB of nodes and values.
    files = {f"compose.{i}.yml": "x:\n" + "- 1\n" * 250_000 for i in range(3)}
    root = _platform(tmp_path / "platform", files)
    yield from _serve(tmp_path, root, scan_memory=160 * 1024 * 1024)


def test_a_scan_past_its_memory_limit_fails_alone(small_memory_api: Api) -> None:
    response = small_memory_api.post("/api/v1/scans/run", "coordinator")
    assert response.status_code == 503, response.text
    message = response.json()["error"]["message"]
    assert "more than its 160 MiB of memory" in message
    _still_serving(small_memory_api)


@pytest.fixture
def short_time_api(tmp_path: Path) -> Iterator[Api]:
    root = _platform(tmp_path / "platform", {"dense.py": DENSE_PYTHON, "dense2.py": DENSE_PYTHON})
    yield from _serve(tmp_path, root, scan_timeout=0.5)


def test_a_scan_past_its_time_limit_is_stopped(short_time_api: Api) -> None:
    response = short_time_api.post("/api/v1/scans/run", "coordinator")
    assert response.status_code == 422, response.text
    assert "took longer than 0.5 s" in response.json()["error"]["message"]
    _still_serving(short_time_api)


def test_a_child_that_does_not_stop_in_time_is_killed(tmp_path: Path) -> None:
    """No grace: the parent's own clock ends the child (here during its start-up)."""
    root = _platform(tmp_path / "platform", {"dense.py": DENSE_PYTHON})
    with pytest.raises(ScanTimeout, match="was stopped"):
        asyncio.run(scan_isolated(root, ScanLimits(seconds=0.01, grace_seconds=0.0)))


@pytest.fixture
def slow_scan_api(tmp_path: Path) -> Iterator[Api]:
    root = _platform(tmp_path / "platform", {"dense.py": "1\n" * 100_000})
    yield from _serve(tmp_path, root)


def test_scan_requests_hold_no_worker_thread_and_run_one_at_a_time(slow_scan_api: Api) -> None:
    """Before, eight scans held the server's eight worker threads and every route hung."""
    results: list[int] = []

    def run_scan() -> None:
        results.append(slow_scan_api.post("/api/v1/scans/run", "coordinator").status_code)

    scans = [threading.Thread(target=run_scan) for _ in range(9)]
    for thread in scans:
        thread.start()
    answered = [slow_scan_api.get("/api/v1/issues").status_code for _ in range(5)]
    finished_before_reads = len([r for r in results if r == 200])
    for thread in scans:
        thread.join(timeout=120)
    assert answered == [200] * 5
    assert finished_before_reads == 0  # the reads did not wait for a scan
    assert results.count(200) >= 1 and set(results) <= {200, 409}
    assert results.count(409) >= 1  # a second scan is refused, not queued
