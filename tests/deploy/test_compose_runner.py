"""The compose runner, with `docker` replaced by tests/deploy/fake_docker.py: there is no Docker
engine (and no compose plugin) where the tests run, so the client is the one part faked. What is
tested is passmuster's side: choosing the runner, the commands and where they run, the probe on
the published port, the service's logs read after a failure, and `deploy stop`."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.helpers import free_port
from passmuster.deploy.configuration import load_deploy_setup
from passmuster.usecases.desk import Desk
from tests.cli.helpers import run_cli as run

FAKE = Path(__file__).with_name("fake_docker.py")


@pytest.fixture
def compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(f'#!/bin/sh\nexec {sys.executable} {FAKE} "$@"\n')
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    state = tmp_path / "docker-state"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_STATE", str(state))
    root = tmp_path / "platform"
    (root / "deploy").mkdir(parents=True)
    api, web = free_port(), free_port()
    (root / "deploy" / "docker-compose.yml").write_text(
        "services:\n"
        f"  api:\n    build: ../api\n    ports: ['{api}:{api}']\n"
        f"  web:\n    build: ../web\n    ports: ['{web}:{web}']\n    depends_on: [api]\n"
        "  worker:\n    build: ../api\n    command: celery -A app worker\n"
        "    depends_on: [api]\n"
    )
    (root / "passmuster.toml").write_text("[deploy]\ntimeout = 10\nsettle = 0.2\n")
    monkeypatch.setenv("FAKE_DOCKER_API", f"serve:{api}")
    monkeypatch.setenv("FAKE_DOCKER_WEB", f"serve:{web}")
    monkeypatch.setenv("FAKE_DOCKER_WORKER", f"serve:{free_port()}")
    monkeypatch.chdir(root)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    run("init")
    yield {"root": root, "state": state, "ports": {"api": api, "web": web}}
    run("deploy", "stop")


def _calls(state: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (state / "calls").read_text().splitlines()]


def test_docker_compose_is_chosen_where_it_answers(compose: dict[str, object]) -> None:
    setup = load_deploy_setup(Path(str(compose["root"])))
    assert setup.runner == "compose"
    assert setup.units["api"].argv is not None
    assert setup.units["api"].argv[-4:] == ["up", "-d", "--build", "api"]
    assert setup.units["api"].cwd.name == "deploy"  # where the compose file is
    target = setup.units["api"].target
    ports = compose["ports"]
    assert target is not None and target.url == f"tcp://127.0.0.1:{ports['api']}"  # type: ignore[index]


def test_services_are_brought_up_with_compose_and_stopped_with_it(
    compose: dict[str, object],
) -> None:
    done = run("deploy")
    assert "wave 2/2" in done.stdout
    history = {a["service"]: a for a in json.loads(run("deploy", "history", "--json").stdout)}
    assert {s: a["result"] for s, a in history.items()} == {
        "api": "succeeded",
        "web": "succeeded",
        "worker": "succeeded",  # no probe: compose's exit status counts
    }
    state = Path(str(compose["state"]))
    ups = [c["argv"] for c in _calls(state) if c["argv"][1] == "up"]
    assert sorted(a[-1] for a in ups) == ["api", "web", "worker"]  # type: ignore[index]
    stopped = json.loads(run("deploy", "stop", "--json").stdout)
    assert {s["service"]: s["result"] for s in stopped} == dict.fromkeys(
        ["api", "web", "worker"], "stopped"
    )


def test_a_failed_build_is_classed_with_the_service_s_logs_kept(
    compose: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DOCKER_API", "build-fails")
    monkeypatch.setenv("FAKE_DOCKER_LOGS_API", "api-1  | (no container was created)")
    run("deploy", code=1)
    history = {a["service"]: a for a in json.loads(run("deploy", "history", "--json").stdout)}
    assert history["api"]["result"] == "failed"
    assert history["api"]["exit_code"] == 17
    assert history["api"]["failure"] == "build-failed"
    assert history["web"]["result"] == "skipped"
    detail = json.loads(
        run("deploy", "logs", "--attempt", str(history["api"]["id"]), "--json").stdout
    )
    assert "No matching distribution found" in detail["output"]
    assert "no container was created" in detail["logs"]
    with Desk.open(Path(str(compose["root"]))) as desk:
        issue = desk.get(history["api"]["issue"])
        assert issue.title.startswith("Service images fail to build")
