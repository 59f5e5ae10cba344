"""`passmuster deploy` from the command line: bad configuration starts nothing, Ctrl-C and
kill -9 leave nothing running and nothing unrecorded, and the commands around the rollout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.helpers import FakePlatform, process_gone
from passmuster.usecases.desk import Desk
from tests.cli.helpers import run_cli as run

PASSMUSTER = [sys.executable, "-m", "passmuster"]


@pytest.fixture
def here(platform: FakePlatform, desk: Desk, monkeypatch: pytest.MonkeyPatch) -> FakePlatform:
    monkeypatch.chdir(platform.root)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    return platform


def _nothing_started(platform: FakePlatform) -> None:
    assert not (platform.root / ".passmuster" / "deploy").exists()


@pytest.mark.parametrize(
    ("extra", "args", "message"),
    [
        ('command = "run {oops}"', [], "unknown placeholder {oops}"),
        ("", ["nosuch"], "invalid service 'nosuch'"),
        ("", ["db", "--runner", "kubernetes"], "--runner 'kubernetes'"),
    ],
)
def test_bad_configuration_is_one_line_exit_2_and_starts_nothing(
    here: FakePlatform, extra: str, args: list[str], message: str
) -> None:
    here.write({"db": {}, "api": {"deps": ["db"]}})
    if extra:  # replaces api's command
        toml = here.root / "passmuster.toml"
        lines = toml.read_text().splitlines()
        at = lines.index("[deploy.services.api]")
        index = next(i for i in range(at, len(lines)) if lines[i].startswith("command ="))
        lines[index] = extra
        toml.write_text("\n".join(lines) + "\n")
    result = run("deploy", *args, code=2)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    _nothing_started(here)


def test_a_shared_template_without_service_is_refused(here: FakePlatform) -> None:
    here.write({"db": {}})
    toml = here.root / "passmuster.toml"
    toml.write_text(toml.read_text().replace("--name {service}", "", 1))
    result = run("deploy", code=2)
    assert "has no {service}" in result.stderr
    _nothing_started(here)


def test_a_dependency_cycle_is_refused_before_anything_starts(here: FakePlatform) -> None:
    here.write({"a": {"deps": ["b"]}, "b": {"deps": ["a"]}})
    result = run("deploy", code=2)
    assert "dependency cycle: a -> b -> a" in result.stderr
    _nothing_started(here)


def test_the_dry_run_prints_the_plan_and_starts_nothing(here: FakePlatform) -> None:
    here.write({"db": {}, "api": {"deps": ["db"]}, "web": {"deps": ["api"]}})
    plan = json.loads(run("deploy", "--dry-run", "--json").stdout)
    assert [[s["service"] for s in wave] for wave in plan["waves"]] == [["db"], ["api"], ["web"]]
    assert plan["runner"] == "command"
    assert plan["waves"][1][0]["probe"] == f"http://127.0.0.1:{here.ports['api']}/healthz"
    text = run("deploy", "-n").stdout
    assert "wave 2" in text and "api" in text
    _nothing_started(here)


def test_a_deploy_then_status_history_logs_and_stop(here: FakePlatform) -> None:
    here.write({"db": {}, "api": {"deps": ["db"], "args": "--crash 'KeyError: oops' --exit 4"}})
    result = run("deploy", code=1)
    assert "wave 1/2: db" in result.stdout
    assert "unclassified" in result.stdout
    assert "opened" in result.stdout
    status = {row["service"]: row for row in json.loads(run("deploy", "status", "--json").stdout)}
    assert status["db"]["health"] == "up"
    assert status["db"]["last"]["result"] == "succeeded"
    assert status["api"]["last"]["exit_code"] == 4
    assert status["api"]["issues"]
    history = json.loads(run("deploy", "history", "--json", "--result", "failed").stdout)
    assert [a["service"] for a in history] == ["api"]
    assert "KeyError: oops" in run("deploy", "logs", "api").stdout
    assert "ready" in run("deploy", "logs", "db").stdout
    stopped = json.loads(run("deploy", "stop", "--json").stdout)
    assert stopped == [{"service": "db", "result": "stopped", "ok": True}]
    assert "not running" in run("deploy", "stop", "db").stdout


def test_restart_deploys_one_service_again(here: FakePlatform) -> None:
    here.write({"db": {}})
    run("deploy")
    result = json.loads(run("deploy", "restart", "db", "--json").stdout)
    assert [a["result"] for a in result["attempts"]] == ["succeeded"]
    assert len(json.loads(run("deploy", "history", "--json").stdout)) == 2


def test_stats_carries_the_four_keys_once_deployments_are_recorded(here: FakePlatform) -> None:
    here.write({"db": {}, "api": {"deps": ["db"], "args": "--crash 'KeyError: oops' --exit 4"}})
    assert "Delivery" not in run("stats").stdout  # nothing deployed yet: no empty table
    run("deploy", code=1)
    run("deploy", "db")
    keys = json.loads(run("stats", "--json").stdout)["delivery"]
    assert (keys["deployments"], keys["failed"]) == (2, 1)
    assert keys["change_failures"] >= 1  # the failed attempt; its deployment issue names it
    assert keys["change_failure_rate"] == pytest.approx(keys["change_failures"] / 3, abs=1e-4)
    text = run("stats").stdout
    assert "Delivery (DORA" in text
    for key in ("Deployment frequency", "Lead time for changes", "Change failure rate"):
        assert key in text


def test_the_failure_classes_are_listed_and_a_log_can_be_classified(
    here: FakePlatform, tmp_path: Path
) -> None:
    listed = run("deploy", "classes").stdout
    assert listed.splitlines()[0].startswith("oom-killed")
    assert "Known fixes" not in listed
    page = run("deploy", "classes", "port-in-use").stdout
    assert "## How to fix it" in page and "PORT001" in page
    log = tmp_path / "ci.log"
    log.write_text("Step 4/9\nERROR: No matching distribution found for fastapi==99\n")
    assert run("deploy", "classify", str(log)).stdout.startswith("build-failed")
    log.write_text("all fine\n")
    run("deploy", "classify", str(log), code=1)


def _spawn(root: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "PASSMUSTER_DATABASE_URL"}
    return subprocess.Popen(
        [*PASSMUSTER, "deploy", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_for(path: Path, count: int, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().split()) >= count:
            return [int(p) for p in path.read_text().split()]
        time.sleep(0.05)
    raise AssertionError(f"{path} never held {count} pids")


def test_ctrl_c_stops_the_deploy_its_processes_and_records_the_interruption(
    here: FakePlatform, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    here.write({"slow": {"args": f"--hang --child --pidfile {pidfile}"}}, timeout=60)
    deploy = _spawn(here.root)
    pids = _wait_for(pidfile, 2)
    deploy.send_signal(signal.SIGINT)
    output, _ = deploy.communicate(timeout=30)
    assert deploy.returncode == 130, output
    assert b"interrupted" in output
    assert all(process_gone(pid) for pid in pids)
    history = json.loads(run("deploy", "history", "--json").stdout)
    assert history[0]["result"] == "interrupted"


def test_a_deploy_killed_with_sigkill_is_recorded_as_interrupted_by_the_next_one(
    here: FakePlatform, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    here.write({"slow": {"args": f"--hang --child --pidfile {pidfile}"}, "db": {}}, timeout=60)
    deploy = _spawn(here.root, "slow")
    pids = _wait_for(pidfile, 2)
    deploy.kill()
    deploy.wait(10)
    deploy.stdout.close()  # type: ignore[union-attr]
    before = json.loads(run("deploy", "history", "--json").stdout)
    assert before[0]["result"] == "running"  # nothing was lost, nothing finished it
    after = run("deploy", "db")
    assert "recorded as interrupted" in after.stdout
    history = {a["service"]: a for a in json.loads(run("deploy", "history", "--json").stdout)}
    assert history["slow"]["result"] == "interrupted"
    assert history["db"]["result"] == "succeeded"
    # What the dead deploy had started is stopped by the next one.
    assert all(process_gone(pid) for pid in pids)


def test_a_second_deploy_of_the_same_services_waits_its_turn(
    here: FakePlatform, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    here.write({"slow": {"args": f"--hang --pidfile {pidfile}"}, "db": {}}, timeout=60)
    first = _spawn(here.root, "slow")
    try:
        _wait_for(pidfile, 1)
        refused = run("deploy", "slow", code=4)
        assert "is deploying slow now" in refused.stderr
        run("deploy", "db")  # other services are free to go
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)
