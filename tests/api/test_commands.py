"""`passmuster token …` and `passmuster serve`, run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from api.live_server import passmuster_serve
from passmuster.cli.serve import is_loopback
from passmuster.usecases.desk import Desk


def run(args: list[str], url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PASSMUSTER_DATABASE_URL": url, "PASSMUSTER_ACTOR": "alice"}
    return subprocess.run(
        [sys.executable, "-m", "passmuster", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_token_commands_create_list_and_revoke(sqlite_url: str, tmp_path: Path) -> None:
    Desk.connect(sqlite_url).close()
    created = run(
        ["token", "create", "--name", "ci", "--role", "reporter", "--json"], sqlite_url, tmp_path
    )
    assert created.returncode == 0, created.stderr
    secret = json.loads(created.stdout)["secret"]
    assert secret.startswith("pm_")
    listed = run(["token", "list", "--json"], sqlite_url, tmp_path)
    tokens = json.loads(listed.stdout)
    assert [(t["name"], t["role"], t["created_by"]) for t in tokens] == [
        ("ci", "reporter", "alice")
    ]
    assert secret not in listed.stdout
    text = run(["token", "list"], sqlite_url, tmp_path)
    assert "ci" in text.stdout and secret not in text.stdout
    assert run(["token", "revoke", "ci"], sqlite_url, tmp_path).returncode == 0
    again = run(["token", "revoke", "ci"], sqlite_url, tmp_path)
    assert again.returncode == 4 and "already revoked" in again.stderr
    assert "Traceback" not in again.stderr


def test_a_bad_role_is_one_clear_line(sqlite_url: str, tmp_path: Path) -> None:
    Desk.connect(sqlite_url).close()
    bad = run(["token", "create", "--name", "x", "--role", "boss"], sqlite_url, tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "error: invalid role 'boss': expected one of reader, reporter, coordinator, admin"
    )


def test_serve_warns_loudly_before_listening_beyond_this_machine(tmp_path: Path) -> None:
    # No desk here: serve stops at opening it, so nothing is ever bound to 0.0.0.0.
    missing = f"sqlite:///{tmp_path / 'nothing' / 'desk.db'}"
    done = run(["serve", "--host", "0.0.0.0", "--port", "8"], missing, tmp_path)
    assert "WARNING: listening on 0.0.0.0" in done.stderr
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_serve_answers_healthz_and_the_dashboard(sqlite_url: str, tmp_path: Path) -> None:
    Desk.connect(sqlite_url).close()
    with passmuster_serve(sqlite_url, cwd=tmp_path) as base:
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/board").status_code == 303
        assert httpx.get(f"{base}/api/v1/issues").status_code == 401
        spec = httpx.get(f"{base}/api/v1/openapi.json").json()
        assert "/api/v1/issues" in spec["paths"]
