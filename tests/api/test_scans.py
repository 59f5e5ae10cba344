"""Scans through the API: an uploaded report and a scan of the server's platform both land in
the tracker; a finding that disappears resolves its issue."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.helpers import Api, make_tokens
from api.live_server import serve_in_thread
from passmuster.api.app import create_app
from passmuster.api.config import ServeSettings
from passmuster.usecases.desk import Desk

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "platform"


def report_of(root: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "passmuster", "scan", str(root), "--format", "json", "--no-record"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    return data


def test_an_uploaded_report_opens_issues_and_a_clean_one_resolves_them(api: Api) -> None:
    finding = {
        "code": "PM001",
        "message": "cannot parse docker-compose.yml",
        "severity": "high",
        "service": "billing",
        "path": "docker-compose.yml",
        "line": 3,
    }
    first = api.post(
        "/api/v1/scans", "coordinator", json={"rules": ["PM001"], "findings": [finding]}
    )
    assert first.status_code == 200, first.text
    opened = first.json()["opened"]
    assert len(opened) == 1
    issue = api.get(f"/api/v1/issues/{opened[0]}").json()
    assert issue["type"] == "finding" and issue["services"] == ["billing"]
    again = api.post(
        "/api/v1/scans", "coordinator", json={"rules": ["PM001"], "findings": [finding]}
    )
    assert again.json()["seen"] == opened and again.json()["opened"] == []
    clean = api.post("/api/v1/scans", "coordinator", json={"rules": ["PM001"], "findings": []})
    assert clean.json()["resolved"] == opened
    assert api.get(f"/api/v1/issues/{opened[0]}").json()["status"] == "resolved"


def test_an_unknown_rule_code_is_named(api: Api) -> None:
    response = api.post("/api/v1/scans", "coordinator", json={"rules": ["ZZ999"], "findings": []})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "rules"
    assert "ZZ999" in response.json()["error"]["message"]


def test_a_reporter_cannot_record_scans(api: Api) -> None:
    assert api.post("/api/v1/scans", "reporter", json={"findings": []}).status_code == 403


def test_run_without_a_platform_says_how_to_give_one(api: Api) -> None:
    response = api.post("/api/v1/scans/run", "coordinator")
    assert response.status_code == 409
    assert "--platform" in response.json()["error"]["message"]


@pytest.fixture
def platform_api(tmp_path: Path) -> Iterator[Api]:
    root = tmp_path / "platform"
    shutil.copytree(EXAMPLE, root)
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    desk = Desk.connect(url)
    secrets = make_tokens(desk)
    app = create_app(ServeSettings(database_url=url, platform_root=root))
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield Api(client, secrets, desk, app)
    desk.close()


@pytest.mark.skipif(not EXAMPLE.is_dir(), reason="the example platform is not in this checkout")
def test_running_a_scan_on_the_servers_platform_matches_the_cli_report(
    platform_api: Api, tmp_path: Path
) -> None:
    expected = report_of(tmp_path / "platform")
    response = platform_api.post("/api/v1/scans/run", "coordinator")
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["findings"] == len(expected["findings"])  # type: ignore[arg-type]
    assert outcome["findings"] > 0
    listed = platform_api.get("/api/v1/issues", params={"type": "finding", "limit": 500}).json()
    assert listed["total"] == len(outcome["opened"])
