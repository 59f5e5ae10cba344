"""Rolling out real processes: order, health gates, failures, timeouts, interrupts, and that
nothing the deploy started is left behind when it gives up on a service."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from deploy.helpers import FakePlatform, process_gone
from passmuster.core.deploy.attempts import Result, RunStatus
from passmuster.core.issues import IssueQuery
from passmuster.deploy import processes, state
from passmuster.deploy.configuration import load_deploy_setup
from passmuster.deploy.operations import plan_for, stop_services
from passmuster.deploy.rollout import Rollout, RolloutResult
from passmuster.usecases.deployments import DeployLog, history
from passmuster.usecases.desk import Desk

STACK = {
    "db": {"args": "--delay 0.2"},
    "api": {"deps": ["db"], "args": "--delay 0.1"},
    "worker": {"deps": ["db"], "health": False},
    "web": {"deps": ["api"]},
}


def deploy(
    platform: FakePlatform,
    desk: Desk,
    services: Sequence[str] = (),
    *,
    keep_going: bool = False,
) -> RolloutResult:
    setup = load_deploy_setup(platform.root)
    plan = plan_for(setup, services)
    log = DeployLog(desk, actor="tester")
    return asyncio.run(
        Rollout(setup, plan, log, keep_going=keep_going).run(owner=processes.identity(os.getpid()))
    )


def test_services_come_up_in_dependency_order_and_stay_up(
    platform: FakePlatform, desk: Desk
) -> None:
    platform.write(STACK)
    result = deploy(platform, desk)
    assert result.status is RunStatus.SUCCEEDED
    attempts = {a.service: a for a in history(desk)}
    assert {s: a.result for s, a in attempts.items()} == dict.fromkeys(STACK, Result.SUCCEEDED)
    # A service starts only once what it needs passed its health probe.
    for name, spec in STACK.items():
        for dep in spec.get("deps", []):  # type: ignore[attr-defined]
            assert attempts[dep].finished_at <= attempts[name].started_at  # type: ignore[operator]
    assert [a.wave for a in sorted(attempts.values(), key=lambda a: a.service)] == [1, 0, 2, 1]
    # Deployed services keep running after the deploy, and `stop` ends them.
    state_dir = platform.root / ".passmuster" / "deploy"
    tracked = {t.service: t for t in state.every(state_dir)}
    assert set(tracked) == set(STACK)
    assert all(t.running for t in tracked.values())
    setup = load_deploy_setup(platform.root)
    assert {s.service: s.how for s in stop_services(setup)} == dict.fromkeys(STACK, "stopped")
    assert not any(processes.group_alive(t.pgid) for t in tracked.values())


def test_a_crash_fails_its_service_skips_its_dependents_and_stops_the_rollout(
    platform: FakePlatform, desk: Desk
) -> None:
    broken = dict(STACK)
    broken["api"] = {
        "deps": ["db"],
        "args": "--crash \"ModuleNotFoundError: No module named 'asyncpg'\"",
    }
    broken["later"] = {"deps": ["worker"]}
    platform.write(broken)
    result = deploy(platform, desk)
    assert result.status is RunStatus.FAILED
    by_service = {a.service: a for a in history(desk)}
    assert by_service["api"].result is Result.FAILED
    assert by_service["api"].exit_code == 1
    assert by_service["api"].failure == "import-error"
    assert by_service["web"].result is Result.SKIPPED
    assert "api" in by_service["web"].reason
    assert "later" not in by_service  # wave 3 was not started
    assert result.not_started == ["later"]
    issue = desk.issues(IssueQuery(source="deploy"))[0]
    assert issue.services == ["api"]
    assert by_service["api"].issue == issue.number


def test_keep_going_deploys_everything_that_does_not_depend_on_the_failure(
    platform: FakePlatform, desk: Desk
) -> None:
    broken = dict(STACK)
    broken["api"] = {"deps": ["db"], "args": "--crash boom --exit 3"}
    broken["later"] = {"deps": ["worker"]}
    platform.write(broken)
    result = deploy(platform, desk, keep_going=True)
    results = {a.service: a.result for a in history(desk)}
    assert results["later"] is Result.SUCCEEDED
    assert results["web"] is Result.SKIPPED
    assert result.not_started == []


def test_a_hung_command_is_timed_out_and_its_whole_group_stopped(
    platform: FakePlatform, desk: Desk, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    platform.write({"stuck": {"args": f"--hang --child --pidfile {pidfile}"}}, timeout=1.5)
    started = time.monotonic()
    result = deploy(platform, desk)
    assert time.monotonic() - started < 15
    attempt = history(desk)[0]
    assert attempt.result is Result.TIMED_OUT
    assert attempt.failure == "health-never-ready"
    assert "1.5s" in attempt.reason
    assert result.status is RunStatus.FAILED
    pids = [int(p) for p in pidfile.read_text().split()]
    assert len(pids) == 2
    assert all(process_gone(pid, within=5) for pid in pids)  # the command and the child it started


@pytest.mark.parametrize(
    ("args", "result"),
    [
        ("--crash 'NameError: x' --child", Result.FAILED),  # exits, its child still running
        ("--status 500 --child", Result.TIMED_OUT),  # up, but never healthy
    ],
)
def test_a_failed_service_leaves_no_process_of_its_group_behind(
    platform: FakePlatform, desk: Desk, tmp_path: Path, args: str, result: Result
) -> None:
    pidfile = tmp_path / "pids"
    platform.write({"broken": {"args": f"{args} --pidfile {pidfile}"}}, timeout=1.5)
    deploy(platform, desk)
    assert history(desk)[0].result is result
    pids = [int(p) for p in pidfile.read_text().split()]
    assert len(pids) == 2
    assert all(process_gone(pid, within=5) for pid in pids)


def test_a_service_without_a_probe_counts_once_it_stays_up(
    platform: FakePlatform, desk: Desk
) -> None:
    # Long enough for the quitter's Python to start and crash on a loaded machine (0.5 s seen).
    platform.write(
        {"worker": {"health": False}, "quitter": {"health": False, "args": "--crash x"}},
        settle=5.0,
    )
    deploy(platform, desk, keep_going=True)
    results = {a.service: a.result for a in history(desk)}
    assert results == {"worker": Result.SUCCEEDED, "quitter": Result.FAILED}


def test_an_unhealthy_dependency_outside_the_plan_fails_its_dependents_first(
    platform: FakePlatform, desk: Desk
) -> None:
    platform.write(STACK)  # db is never started: only api is deployed
    deploy(platform, desk, ["api"])
    attempt = history(desk)[0]
    assert (attempt.service, attempt.result) == ("api", Result.FAILED)
    assert attempt.failure == "dependency-unhealthy"
    assert "db" in attempt.reason
    assert not state.every(platform.root / ".passmuster" / "deploy")


def test_interrupting_stops_the_attempts_in_flight(
    platform: FakePlatform, desk: Desk, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    platform.write({"slow": {"args": f"--hang --child --pidfile {pidfile}"}}, timeout=60)
    setup = load_deploy_setup(platform.root)
    log = DeployLog(desk, actor="tester")
    rollout = Rollout(setup, plan_for(setup), log)

    async def interrupted() -> None:
        task = asyncio.create_task(rollout.run(owner=processes.identity(os.getpid())))
        while not pidfile.exists() or len(pidfile.read_text().split()) < 2:
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(interrupted(), 30))
    attempt = history(desk)[0]
    assert attempt.result is Result.INTERRUPTED
    assert all(process_gone(int(pid), within=5) for pid in pidfile.read_text().split())
    from passmuster.usecases.deployments import runs

    assert runs(desk)[0].status is RunStatus.INTERRUPTED


def test_a_redeploy_replaces_the_running_instance(platform: FakePlatform, desk: Desk) -> None:
    platform.write({"api": {}})
    deploy(platform, desk)
    state_dir = platform.root / ".passmuster" / "deploy"
    first = state.find(state_dir, "api")
    assert first is not None
    deploy(platform, desk)
    second = state.find(state_dir, "api")
    assert second is not None and second.pgid != first.pgid
    assert not processes.group_alive(first.pgid)
    assert [a.result for a in history(desk)] == [Result.SUCCEEDED, Result.SUCCEEDED]
