"""Bad input a new user is likely to type: each gets one clear line and the documented exit code."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import Run


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("bogus://x", "not bogus"),
        ("mysql://me:hunter2@db/desk", "not mysql"),
        ("postgresql://me:hunter2@db:notaport/desk", "cannot be read"),
    ],
)
def test_an_unsupported_database_url_is_bad_input_not_a_traceback(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("--database-url", url, "list", code=2)
    assert expected in result.stderr
    assert "hunter2" not in result.output
    assert result.stderr.startswith("error: database URL")


def test_export_with_json_prints_json_carrying_the_log(desk_folder: Path, run: Run) -> None:
    run("new", "Port clash on 8004", "-S", "high")
    result = run("export", "--json")
    data = json.loads(result.stdout)
    assert data["title"] == "Issue Log"
    assert "Port clash on 8004" in data["markdown"]
    assert data["markdown"] == run("export").stdout


def test_scan_takes_json_like_every_command(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  api:\n    image: x\n    ports: ['8000:8000']\n"
        "  web:\n    image: y\n    ports: ['8000:8000']\n"
    )
    as_json = run("scan", "--no-record", "--no-progress", "--json", code=1).stdout
    assert json.loads(as_json) == json.loads(
        run("scan", "--no-record", "--no-progress", "--format", "json", code=1).stdout
    )


@pytest.mark.parametrize("args", [["token", "create"], ["list"], ["scan"], ["export"]])
def test_help_shows_flags_as_flags(args: list[str], run: Run) -> None:
    # A flag shown as `--json <bool>` reads as if it wanted a value (`--json true`).
    text = run(*args, "--help").stdout
    assert "--json" in text
    assert "<bool>" not in text


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--log-level", "loud", "invalid --log-level 'loud': expected one of critical"),
        ("--platform", "no-such-folder", "--platform no-such-folder: no such folder"),
        ("--monitor-config", "no-such.toml", "--monitor-config no-such.toml: no such file"),
    ],
)
def test_serve_refuses_bad_options_before_starting(
    desk_folder: Path, run: Run, option: str, value: str, message: str
) -> None:
    result = run("serve", "--port", "1", option, value, code=2)
    assert message in result.stderr
    assert "Uvicorn running" not in result.output


def test_serve_on_a_taken_port_is_bad_input_not_not_found(desk_folder: Path, run: Run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), code=2)
    assert result.stderr == (
        f"error: --port {port}: 127.0.0.1:{port} is already in use; choose another --port or "
        "stop what uses it\n"
    )
    # Refused before announcing a dashboard that never comes up.
    assert "Dashboard" not in result.output
    # serve keeps the garbage collector off while it starts; a start that fails turns it on.
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("999.1.1.1", "--host 999.1.1.1: cannot listen there"),
        # TEST-NET-1 (RFC 5737): never an address of this machine.
        ("192.0.2.1", "--host 192.0.2.1: not an address of this machine"),
    ],
)
def test_serve_on_an_address_not_of_this_machine_names_the_host_not_the_port(
    desk_folder: Path, run: Run, host: str, message: str
) -> None:
    result = run("serve", "--host", host, "--port", "8000", code=2)
    assert message in result.stderr
    assert "--port" not in result.stderr
    # The warning about a public address is for a server that starts.
    assert "WARNING" not in result.output
    assert "Dashboard" not in result.output


def test_serve_with_the_monitor_and_a_broken_passmuster_toml_is_one_line(
    desk_folder: Path,
) -> None:
    # The monitor reads the project's passmuster.toml; a wrong type there used to surface as a
    # traceback from the server's start-up, then "choose another --port".
    (desk_folder / "passmuster.toml").write_text('[scan]\nignore = "ENV003"\n')
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    result = subprocess.run(
        [sys.executable, "-m", "passmuster", "serve", "--monitor", "--port", str(port)],
        cwd=desk_folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"error: {desk_folder / 'passmuster.toml'}: [scan.ignore] Input should be a valid list\n"
    )
    assert "Dashboard" not in result.stdout


def test_demo_with_a_missing_platform_stops_before_doing_anything(run: Run, tmp_path: Path) -> None:
    scratch = tmp_path / "demo"
    result = run(
        "demo", "--no-serve", "--dir", str(scratch), "--platform", str(tmp_path / "nope"), code=2
    )
    assert f"--platform {tmp_path / 'nope'}: no such folder" in result.stderr
    assert not scratch.exists()


def test_export_to_a_wrong_kind_of_path_is_one_line(desk_folder: Path, run: Run) -> None:
    run("new", "Port clash on 8004", "-S", "high")
    (desk_folder / "LOG.md").write_text("kept\n")
    (desk_folder / "logs").mkdir()
    into_file = run("export", "--per-issue", "LOG.md", code=2)
    assert "--per-issue LOG.md: is a file; give a folder" in into_file.stderr
    assert (desk_folder / "LOG.md").read_text() == "kept\n"
    onto_folder = run("export", "-o", "logs", code=2)
    assert "-o logs: is a folder; give a file name" in onto_folder.stderr


def test_top_level_help_names_json_and_every_exit_code(run: Run) -> None:
    text = " ".join(run("--help").stdout.split())
    assert "--json" in text
    assert "130 interrupted" in text


def test_a_failed_import_says_why_once_and_prints_no_summary(desk_folder: Path, run: Run) -> None:
    (desk_folder / "b.md").write_bytes(b"\x00\xff binary")
    result = run("import", "b.md", code=2)
    assert result.stderr.count("binary") == 1, result.stderr
    assert result.stdout == ""


def test_edit_without_a_terminal_or_editor_refuses_instead_of_waiting(
    desk_folder: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    result = run("new", "--edit", "x", code=2)
    assert "needs a terminal or $EDITOR" in result.stderr


def test_stats_refuses_a_reversed_range(desk_folder: Path, run: Run) -> None:
    result = run("stats", "--since", "2026-01-01", "--until", "2025-01-01", code=2)
    assert "--until 2025-01-01 is not after --since 2026-01-01" in result.stderr


def test_services_names_a_compose_file_it_could_not_read(tmp_path: Path, run: Run) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  a:\n   ports: [1\n")
    result = run("services", str(tmp_path), code=1)
    assert "warning: docker-compose.yml:" in result.stderr


def test_resolving_without_a_resolution_warns_that_it_will_not_be_a_known_fix(
    desk_folder: Path, run: Run
) -> None:
    run("new", "Gateway 502 on /auth")
    result = run("resolve", "1")
    assert "no resolution recorded" in result.stderr
    run("new", "Gateway 503 on /auth")
    assert "no resolution" not in run("resolve", "2", "--resolution", "Raised the timeout").stderr


def test_scan_counts_a_service_two_compose_projects_define_once(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yml").write_text(
        "services:\n  api:\n    image: x\n    ports: ['8000:8000']\n"
        "  web:\n    image: y\n    ports: ['8000:8000']\n"
    )
    (tmp_path / "compose.prod.yml").write_text(
        "services:\n  api:\n    image: x\n    ports: ['9000:8000']\n"
        "  web:\n    image: y\n    ports: ['9001:8000']\n"
    )
    summary = run("scan", "--no-record", "--no-progress", code=1).stdout.splitlines()[-1]
    assert summary.endswith(" of 2 services.")
    listed = run("services", "--json").stdout
    assert [s["name"] for s in json.loads(listed)] == ["api", "web"]
    as_json = json.loads(run("scan", "--no-record", "--json", code=1).stdout)
    assert as_json["services"] == 2


def test_scan_where_no_compose_file_defines_a_service_says_nothing_was_checked(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.md").write_text("# not a platform\n")
    result = run("scan", "--no-record", "--no-progress")
    assert result.stdout == (
        "No findings, and no services: no compose file here defines one, so nothing between "
        "services was checked.\n"
    )


def test_import_of_a_folder_without_issues_says_what_the_folder_held(
    desk_folder: Path, run: Run
) -> None:
    (desk_folder / "empty").mkdir()
    backend = desk_folder / "backend"
    backend.mkdir()
    (backend / "README.md").write_text("# Backend\n\nRun it with `uvicorn app.main:app`.\n")
    (backend / "main.py").write_text("app = None\n")
    result = run("import", "empty", "backend", code=2)
    assert result.stderr == (
        "error: nothing imported: empty: no log files in this folder (.md, .markdown, .mdown, "
        ".txt); backend: no issues found in its 1 log file\n"
    )
    assert run("list", "--all", "--json").stdout.strip() == "[]"


def test_notify_channels_on_a_desk_without_any_says_where_to_add_one(
    desk_folder: Path, run: Run
) -> None:
    # The table's name in brackets was read as markup and vanished: "( in passmuster.toml)".
    assert run("notify", "channels").stdout == (
        "No notification channels yet ([monitor.notify.NAME] in passmuster.toml).\n"
    )


def test_every_command_but_serve_mcp_and_prime_takes_json() -> None:
    # What docs/cli.md and the README promise; a new command without --json must be named there.
    import click

    from passmuster.cli.main import COMMANDS, cli

    def options(command: object, path: str) -> dict[str, set[str]]:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            found: dict[str, set[str]] = {}
            for name, sub in subcommands.items():
                found.update(options(sub, f"{path} {name}"))
            return found
        params = getattr(command, "params", [])
        return {path: {o for p in params for o in getattr(p, "opts", [])}}

    without: set[str] = set()
    with click.Context(cli) as ctx:
        for name in COMMANDS:
            command = cli.get_command(ctx, name)
            for path, opts in options(command, name).items():
                if "--json" not in opts:
                    without.add(path)
    assert without == {"serve", "mcp", "prime"}
    docs = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    assert "Every command but `serve`, `mcp`" in docs


def test_monitor_once_outside_the_compose_network_says_how_to_reach_the_services(
    desk_folder: Path, run: Run
) -> None:
    # `.invalid` never resolves (RFC 6761), as a compose service name does not on a laptop.
    (desk_folder / "docker-compose.yml").write_text(
        "services:\n  billing.invalid:\n    image: b\n    ports: ['8004:8004']\n"
        "    healthcheck:\n      test: ['CMD', 'curl', '-f', 'http://localhost:8004/healthz']\n"
    )
    (desk_folder / "passmuster.toml").write_text(
        '[[monitor.targets]]\nname = "refused"\nurl = "http://127.0.0.1:1/"\n'
    )
    result = run("monitor", "--once", code=1)
    assert result.stderr == (
        "hint: billing.invalid does not resolve here. Compose service names resolve only inside "
        "the compose network; from this machine, map each with --base-url NAME=URL (such as "
        "billing.invalid=http://127.0.0.1:8004) or [monitor.base_urls] in passmuster.toml.\n"
    )
    mapped = run("monitor", "--once", "--base-url", "billing.invalid=http://127.0.0.1:1", code=1)
    assert "hint" not in mapped.stderr


def test_init_where_the_desk_file_is_a_folder_says_so(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    (tmp_path / ".passmuster" / "desk.db").mkdir(parents=True)
    result = run("init", code=5)
    assert result.stderr == (
        f"error: {tmp_path / '.passmuster' / 'desk.db'}: is a folder, not a desk; move it away "
        "and run init again\n"
    )
    # Commands looking for the desk do not send the user to `init` for it.
    listed = run("list", code=5)
    assert listed.stderr == (
        f"error: {tmp_path / '.passmuster' / 'desk.db'}: is a folder, not a desk file\n"
    )


def test_deploy_dry_run_counts_one_service_in_one_wave(desk_folder: Path, run: Run) -> None:
    (desk_folder / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:16\n    ports: ['5432:5432']\n"
    )
    # The same runner wherever the test runs (auto would pick compose where docker answers).
    (desk_folder / "passmuster.toml").write_text('[deploy]\nrunner = "local"\n')
    first = run("deploy", "--dry-run").stdout.splitlines()[0]
    assert first == f"Plan (local runner, 1 service in 1 wave, from {desk_folder}):"


def test_new_naming_a_service_the_catalog_lacks_says_so_with_the_close_one(
    desk_folder: Path, run: Run
) -> None:
    run("service", "add", "billing")
    result = run("new", "Checkout 500", "--service", "bilingg", "--service", "billing")
    assert result.stderr == (
        "warning: bilingg was not a service of this desk (did you mean billing?); it is one now, "
        "and the issue names it\n"
    )
    # Filed all the same, and named again it is no longer new.
    assert run("new", "Checkout 502", "--service", "bilingg").stderr == ""


@pytest.mark.parametrize("name", ["notifications-service", "ledger", "billing"])
def test_new_naming_a_new_service_unlike_any_warns_about_nothing(
    desk_folder: Path, run: Run, name: str
) -> None:
    run("service", "add", "identity-service")
    run("service", "add", "billing")
    assert run("new", "Checkout 500", "--service", name).stderr == ""


def test_scan_of_a_platform_outside_the_desk_says_its_findings_were_not_recorded(
    desk_folder: Path, run: Run, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("other-platform")
    (elsewhere / "docker-compose.yml").write_text(
        "services:\n  api:\n    image: x\n    ports: ['8000:8000']\n"
        "  web:\n    image: y\n    ports: ['8000:8000']\n"
    )
    result = run("scan", str(elsewhere), "--no-progress", code=1)
    assert result.stderr == (
        f"note: findings not recorded: no desk in {elsewhere} or above (the desk at "
        f"{desk_folder / '.passmuster' / 'desk.db'} is for another folder; pass --database-url "
        "to record into it, or --no-record)\n"
    )
    assert run("list", "--json").stdout.strip() == "[]"
    # Recorded where the option says, and no note then.
    url = f"sqlite:///{desk_folder / '.passmuster' / 'desk.db'}"
    recorded = run("--database-url", url, "scan", str(elsewhere), "--no-progress", code=1)
    assert "not recorded" not in recorded.stderr
    assert run("list", "--json").stdout.strip() != "[]"


def test_ctrl_c_while_the_import_report_prints_says_the_import_was_committed(
    desk_folder: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from passmuster.cli import logs

    def interrupted(report: object) -> None:
        raise KeyboardInterrupt

    (desk_folder / "ISSUES.md").write_text(
        "# Issue Log\n\n## Issue #001 - Database driver conflicts\n\n**Status**: Open\n\n"
        "## Issue #002 - Port clash on 8004\n\n**Status**: Open\n"
    )
    monkeypatch.setattr(logs, "_print_report", interrupted)
    result = run("import", "ISSUES.md", code=130)
    assert result.stderr == (
        "\ninterrupted while printing the report; the import itself was committed (2 created)\n"
    )
    assert len(json.loads(run("list", "--json").stdout)) == 2
