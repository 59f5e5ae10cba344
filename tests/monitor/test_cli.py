"""`passmuster monitor --once` and `passmuster status` on a desk in a scratch folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from passmuster.cli.main import main
from passmuster.usecases.desk import Desk
from tests.monitor.servers import ThreadServer, free_port


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    Desk.init(tmp_path).close()
    return tmp_path


def test_once_prints_a_table_and_exits_1_when_a_target_is_down(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ThreadServer() as server:
        (folder / "passmuster.toml").write_text(
            "[monitor]\ncatalog = false\n"
            f'[[monitor.targets]]\nname = "api"\nurl = "{server.url()}"\n'
            f'[[monitor.targets]]\nname = "db"\nurl = "tcp://127.0.0.1:{free_port()}"\n'
        )
        code, out, _ = run(["monitor", "--once"], capsys)
        assert code == 1
        assert "connection refused" in out and "1 of 2 up" in out
        code, out, _ = run(["monitor", "--once", "--json"], capsys)
        rows = {r["target"]: r for r in json.loads(out)}
        assert rows["api"]["ok"] is True and rows["db"]["reason"] == "connection refused"
    code, out, _ = run(["status", "--json"], capsys)
    assert code == 0
    status = json.loads(out)
    assert {s["name"]: s["health"] for s in status["services"]}["api"] == "up"
    assert status["channels"] == []


def test_once_exits_0_when_everything_answers_and_base_urls_map_hosts(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ThreadServer() as server:
        (folder / "passmuster.toml").write_text(
            '[monitor]\ncatalog = false\n[[monitor.targets]]\nname = "identity"\n'
            'url = "http://identity:8001/healthz"\n'
        )
        code, out, err = run(
            ["monitor", "--once", "--base-url", f"identity=http://127.0.0.1:{server.port}"], capsys
        )
        assert code == 0, err
        assert "1 of 1 up" in out


def test_user_errors_are_one_line_with_exit_code_2(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "passmuster.toml").write_text("[monitor]\ninterval = 0\n")
    code, _, err = run(["monitor", "--once"], capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert "passmuster.toml: [monitor.interval]" in err
    (folder / "passmuster.toml").write_text("[monitor]\ncatalog = false\n")
    code, _, err = run(["monitor", "--once"], capsys)
    assert code == 2 and "nothing to monitor" in err
    code, _, err = run(["monitor", "--once", "--base-url", "identity"], capsys)
    assert code == 2 and "HOST=URL" in err
    for bad in ("nope", "127.0.0.1:http", "127.0.0.1:70000"):
        code, _, err = run(["monitor", "--once", "--metrics", bad], capsys)
        assert code == 2 and "invalid --metrics" in err and "HOST:PORT" in err


COMPOSE = """services:
  api:
    image: example/api:1
    ports: ["8000:8000"]
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8000/healthz"]
  worker:
    image: example/api:1
    command: celery -A app worker
"""


def test_the_catalog_is_found_next_to_the_compose_file_without_any_configuration(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder / "docker-compose.yml").write_text(COMPOSE, encoding="utf-8")
    (folder / "services").mkdir()
    monkeypatch.chdir(folder / "services")  # anywhere in the project the desk belongs to
    assert not (folder / "passmuster.toml").exists()
    with ThreadServer() as server:
        code, out, err = run(
            ["monitor", "--once", "--json", "--base-url", f"api=http://127.0.0.1:{server.port}"],
            capsys,
        )
    assert code == 0, err
    (row,) = json.loads(out)
    assert (row["target"], row["ok"]) == ("api", True)


def test_nothing_to_monitor_names_the_folder_it_looked_in(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["monitor", "--once"], capsys)
    assert code == 2 and "nothing to monitor" in err and str(folder) in err


def test_serve_monitor_finds_the_platforms_catalog_without_any_configuration(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from passmuster.monitor.scheduler import Monitor

    platform = tmp_path_factory.mktemp("platform")
    (platform / "compose.yaml").write_text(COMPOSE, encoding="utf-8")
    with Desk.open(start=folder) as desk:
        monitor = Monitor.from_config(desk, start=platform)  # serve --monitor --platform DIR
        assert sorted(monitor.setup.targets.targets) == ["api"]
        here = Monitor.from_config(desk)  # serve --monitor in a folder without compose files
        assert here.setup.targets.targets == {}


def test_a_gatus_file_alone_is_a_monitor_configuration(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ThreadServer() as server:
        gatus = folder / "gatus.yaml"
        gatus.write_text(
            f"endpoints:\n  - name: web\n    url: {server.url()}\n    conditions:\n"
            '      - "[STATUS] == 200"\n',
            encoding="utf-8",
        )
        code, out, err = run(["monitor", "--once", "--json", "--config", str(gatus)], capsys)
    assert code == 0, err
    assert [r["target"] for r in json.loads(out)] == ["web"]


def test_status_lists_the_open_incidents_of_each_watched_service_only(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from passmuster.core.issues import IssueDraft, IssueType, Status

    with ThreadServer() as server:
        (folder / "passmuster.toml").write_text(
            "[monitor]\ncatalog = false\n"
            f'[[monitor.targets]]\nname = "api"\nurl = "{server.url()}"\n'
        )
        assert run(["monitor", "--once"], capsys)[0] == 0
    with Desk.open(start=folder) as desk:
        for title, service, status in [
            ("api returns 502", "api", Status.OPEN),
            ("api slow", "api", Status.RESOLVED),
            ("billing down", "billing", Status.OPEN),
        ]:
            desk.file(
                IssueDraft(title=title, type=IssueType.INCIDENT, services=[service], status=status),
                actor="ana",
            )
    code, out, _ = run(["status", "--json"], capsys)
    (api,) = json.loads(out)["services"]
    assert (code, api["name"], api["open_incidents"]) == (0, "api", [1])
