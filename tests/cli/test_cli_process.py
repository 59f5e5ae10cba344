"""The installed `passmuster` program, run as a user runs it: real processes, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import Run

PASSMUSTER = Path(sys.executable).with_name("passmuster")


def _passmuster(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    environment.update({"PASSMUSTER_ACTOR": "carol", **(env or {})})
    return subprocess.run(
        [str(PASSMUSTER), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_every_command_and_the_exit_codes(tmp_path: Path) -> None:
    result = _passmuster("--help", cwd=tmp_path)
    assert result.returncode == 0
    for name in ("init", "new", "list", "stats", "escalate", "demo"):
        assert f"  {name} " in result.stdout
    assert "3 not found" in result.stdout


def test_a_session_in_a_fresh_folder(tmp_path: Path) -> None:
    assert _passmuster("init", cwd=tmp_path).returncode == 0
    sub = tmp_path / "services" / "user-service"
    sub.mkdir(parents=True)
    # Commands find the desk by walking up, the way git finds .git.
    filed = _passmuster("new", "Logout keeps sessions valid", "-S", "critical", "--json", cwd=sub)
    assert filed.returncode == 0, filed.stderr
    assert json.loads(filed.stdout)["issue"]["reporter"] == "carol"
    listed = _passmuster("list", "--json", cwd=sub)
    assert [i["title"] for i in json.loads(listed.stdout)] == ["Logout keeps sessions valid"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("show", "7"), 3, "error: no issue #007"),
        (("new", "x", "--type", "feature"), 2, "error: invalid type 'feature'"),
        (("resolve", "1", "--bogus"), 2, "No such option: --bogus"),
        (("close", "1", "--reason", "duplicate", "--expected-version", "99"), 4, "error: "),
    ],
)
def test_user_errors_are_one_line_and_a_documented_exit_code(
    tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    from passmuster.core.issues import IssueDraft
    from passmuster.usecases.desk import Desk

    with Desk.init(tmp_path) as desk:
        desk.file(IssueDraft(title="An issue"), actor="lead")
    result = _passmuster(*args, cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_python_dash_m_reports_the_same_exit_code(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "passmuster", "show", "1"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("error: ")


@pytest.mark.postgres
def test_the_cli_on_postgresql(
    postgres_url: str, tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PASSMUSTER_ACTOR", "dave")
    monkeypatch.setenv("PASSMUSTER_DATABASE_URL", postgres_url)
    run("init")
    run("init", code=4)  # the schema already holds a desk
    run(
        "new",
        "Services fail: HTTPStatus imported from fastapi",
        "-S",
        "high",
        "--service",
        "api-gateway",
    )
    run("resolve", "1", "--resolution", "from http import HTTPStatus")
    filed = json.loads(run("new", "HTTPStatus import error in policy-service", "--json").stdout)
    assert [f["number"] for f in filed["known_fixes"]] == [1]
    assert sorted(
        i["number"] for i in json.loads(run("search", "HTTPStatus", "--json").stdout)
    ) == [1, 2]
    run("start", "2")
    run("resolve", "2", "--resolution", "same fix")
    run("start", "2", code=4)
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["by_status"]["resolved"] == 2
    assert not (tmp_path / ".passmuster").exists()  # the desk is the PostgreSQL schema


def test_help_imports_no_heavy_module() -> None:
    # `passmuster --help` stays fast by importing only click: no database, web or Typer code.
    probe = (
        "import sys, io, contextlib\n"
        "from passmuster.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
        "heavy = ('sqlalchemy', 'alembic', 'typer', 'rich', 'pydantic', 'fastapi', 'psycopg')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_new_without_a_title_in_a_terminal_opens_the_editor(tmp_path: Path) -> None:
    import pty

    _passmuster("init", cwd=tmp_path)
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('# \\n', '# Written in the editor\\n', 1))\n"
    )
    # A real terminal: stdin and stdout on a pseudo-terminal, as when a person types the command.
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    env.update({"EDITOR": f"{sys.executable} {editor}", "PASSMUSTER_ACTOR": "erin"})
    try:
        done = subprocess.run(
            [str(PASSMUSTER), "new"],
            cwd=tmp_path,
            env=env,
            stdin=follower,
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 0, done.stderr
    listed = _passmuster("list", "--json", cwd=tmp_path)
    assert [i["title"] for i in json.loads(listed.stdout)] == ["Written in the editor"]


def test_agents_claiming_at_once_each_get_a_different_issue(tmp_path: Path) -> None:
    from passmuster.core.issues import IssueDraft
    from passmuster.usecases.desk import Desk

    with Desk.init(tmp_path) as desk:
        desk.file_many([IssueDraft(title=f"Ready work {n}") for n in range(4)], actor="lead")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    agents = [
        subprocess.Popen(
            [str(PASSMUSTER), "claim", "--json"],
            cwd=tmp_path,
            env={**environment, "PASSMUSTER_ACTOR": f"agent-{n}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(5)
    ]
    outcomes = [(a.wait(timeout=60), *a.communicate(timeout=60)) for a in agents]
    claimed = [json.loads(out) for code, out, _ in outcomes if code == 0]
    assert sorted(i["number"] for i in claimed) == [1, 2, 3, 4]
    assert {i["assignee"] for i in claimed} == {f"agent-{n}" for n in range(5)} - {
        f"agent-{n}" for n, (code, _, _) in enumerate(outcomes) if code != 0
    }
    assert [code for code, _, _ in outcomes].count(3) == 1  # the fifth found nothing ready
