"""The demo runs every step on a scratch desk, then serves the dashboard with the monitor."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from passmuster.storage.monitor_store import MonitorStore
from passmuster.usecases.desk import Desk
from tests.cli.helpers import Run
from tests.monitor.servers import wait_until


def test_demo_files_works_and_reports(tmp_path: Path, run: Run) -> None:
    text = run("demo", "--dir", str(tmp_path / "demo"), "--no-serve").stdout
    assert (tmp_path / "demo" / ".passmuster" / "desk.db").is_file()
    assert "$ passmuster ack 6" in text
    assert "Known fixes" in text and "from http import HTTPStatus" in text
    assert "Issues by month and severity" in text
    assert "exited" not in text  # no step failed


def test_demo_imports_and_scans_the_example_platform(tmp_path: Path, run: Run) -> None:
    data = json.loads(run("demo", "--dir", str(tmp_path), "--json").stdout)
    statuses = {i["number"]: i["status"] for i in data["issues"]}
    assert statuses[6] == "in_progress" and statuses[7] == "blocked" and statuses[9] == "resolved"
    assert statuses[11] == "resolved"  # the look-alike solved with the known fix
    assert statuses[10] == "planned"
    assert data["failures"] == []
    imported = [i for i in data["issues"] if i["source"] and i["source"].endswith("ISSUES.md")]
    findings = [i for i in data["issues"] if i["type"] == "finding"]
    assert len(imported) == 5
    assert {f"rule:{code}" for code in ("CODE001", "CODE002", "ENV005", "PORT001")} <= {
        label for issue in findings for label in issue["labels"]
    }
    assert data["stats"]["total"] == 11 + len(imported) + len(findings)
    # The scan worked on the demo's own copy; the bundled platform is untouched.
    assert (tmp_path / "platform" / "docker-compose.yml").is_file()


def test_demo_refuses_a_folder_with_a_desk(tmp_path: Path, run: Run) -> None:
    run("demo", "--dir", str(tmp_path), "--json")
    assert "already exists" in run("demo", "--dir", str(tmp_path), code=4).stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(client: httpx.Client) -> None:
    """The token is printed just before the server binds; give it a moment to listen."""
    deadline = time.monotonic() + 30
    while True:
        try:
            client.get("/healthz")
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _sigint_as_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class _Demo:
    """`passmuster demo` in a real process, read up to the line that shows the admin token."""

    def __init__(self, folder: Path, port: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "passmuster", "demo", "--dir", str(folder), "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "200"},
            text=True,
            # As a terminal starts it: a runner that launched these tests in the background
            # (`cmd &` in a script) passes SIGINT on as ignored, and Ctrl-C is what is tested.
            preexec_fn=_sigint_as_default,
        )
        assert self.process.stdout is not None
        lines: list[str] = []
        self.token: str | None = None
        deadline = time.monotonic() + 120
        while self.token is None and time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"Admin token \(shown once\): (\S+)", line)
            self.token = found.group(1) if found else None
        self.output = "".join(lines)
        up = re.compile(r"^\s+(\w[\w-]*)\s+(http://127\.0\.0\.1:\d+)\s+up$", re.M)
        self.started: dict[str, str] = dict(up.findall(self.output))

    def interrupt(self, sig: signal.Signals = signal.SIGINT) -> int:
        """Ctrl-C (or another signal), then wait for the demo to end; returns its exit code."""
        assert self.process.stdout is not None
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=30)
            self.output += self.process.stdout.read()
            return code
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        finally:
            self.process.stdout.close()

    def assert_platform_stopped(self) -> None:
        for url in self.started.values():
            try:
                httpx.get(f"{url}/healthz", timeout=2)
            except httpx.TransportError:
                continue
            raise AssertionError(f"{url} still answers after the demo stopped")


def test_demo_serves_the_dashboard_with_the_platform_running_until_interrupted(
    tmp_path: Path,
) -> None:
    port = _free_port()
    demo = _Demo(tmp_path, port)
    try:
        assert demo.token is not None, demo.output[-3000:]
        assert f"http://127.0.0.1:{port}/" in demo.output
        assert {"gateway", "identity", "tenants"} <= set(demo.started)
        headers = {"Authorization": f"Bearer {demo.token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            _wait_until_serving(client)
            assert client.get("/api/v1/issues").status_code == 401  # no token, nothing
            issues = client.get("/api/v1/issues", headers=headers, params={"limit": 200})
            assert issues.status_code == 200
            identity = demo.started["identity"]
            assert httpx.get(f"{identity}/healthz", timeout=5).status_code == 200
        not_run = set(re.findall(r"^\s+(\w[\w-]*)\s+not run here$", demo.output, re.M))
        assert {"mailhog", "pgadmin"} <= not_run
        with Desk.open(tmp_path / ".passmuster" / "desk.db") as desk:
            store = MonitorStore(desk.engine)
            wait_until(lambda: bool(store.target_rows()), timeout=30)
            probed = {row.name for row in store.target_rows()}
        assert "identity" in probed
        assert not probed & not_run  # what the demo says it does not run, it does not probe
    finally:
        demo.interrupt()
    demo.assert_platform_stopped()  # Ctrl-C stops the platform's processes with the server


def test_ctrl_c_right_after_the_token_still_stops_the_platform(tmp_path: Path) -> None:
    demo = _Demo(tmp_path, _free_port())
    try:
        assert demo.token is not None, demo.output[-3000:]
        assert demo.started
    finally:
        demo.interrupt()
    demo.assert_platform_stopped()


def test_a_plain_kill_stops_the_demo_and_its_platform_cleanly(tmp_path: Path) -> None:
    demo = _Demo(tmp_path, _free_port())
    code = None
    try:
        assert demo.token is not None, demo.output[-3000:]
        assert demo.started
    finally:
        code = demo.interrupt(signal.SIGTERM)
    demo.assert_platform_stopped()
    assert code == 0 and "stopped (SIGTERM)" in demo.output
    assert "Traceback" not in demo.output
