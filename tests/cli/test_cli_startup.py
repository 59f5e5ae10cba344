"""What the commands agents run all day import: start-up is guarded by structure, not timing.

Each command runs in a fresh interpreter, as a user runs it, on a real SQLite desk; the test then
reads `sys.modules`. A module listed here costs tens of milliseconds to import, more than the
command's own work on a typical desk (see bench/RESULTS.md, "CLI start-up").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import passmuster
from passmuster.cli.group import top_help
from passmuster.cli.top_help import TOP_HELP

# Never needed by the hot commands: Typer and pydantic (the option layer of the other commands
# and configuration sections), Alembic (a desk at the newest revision is checked without it),
# the web stack, the HTTP client, the scanner, PostgreSQL's dialect on a SQLite desk.
NEVER = (
    "typer",
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "alembic",
    "mako",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "httpx",
    "markdown_it",
    "yaml",
    "passmuster.scanner",
    "passmuster.usecases.reconcile",
    "passmuster.usecases.runtime_errors",
    "passmuster.monitor",
    "passmuster.api",
    "passmuster.web",
    "sqlalchemy.dialects.postgresql",
    # What SQLAlchemy imports for its asyncio layer and plugin lookup (cli/_startup.py).
    "asyncio",
    "importlib.metadata",
    "greenlet",
    "ssl",
    "email",
)

# The rest of the desk, which none of the hot commands uses: statistics and SLA reports, imported
# logs, the scanner's findings (`show` loads them only for an issue a scan has seen), runtime
# errors.
OTHER_WORK = (
    "passmuster.usecases.reports",
    "passmuster.storage.report_store",
    "passmuster.core.stats",
    "statistics",
    "passmuster.storage.timeline_store",
    "passmuster.storage.import_store",
    "passmuster.storage.import_tables",
    "passmuster.core.merge",
    "passmuster.core.notes",
    "passmuster.core.findings",
    "passmuster.core.error_events",
    "passmuster.core.policy_config",
)
# What only writing needs: checking input, the workflow's rules, claim leases, the timeline sums
# kept beside each issue, the catalog.
WRITING = (
    "passmuster.core.limits",
    "passmuster.core.transitions",
    "passmuster.core.leases",
    "passmuster.storage.timeline_sums",
    "passmuster.core.timeline_sums",
    "passmuster.core.catalog",
    "passmuster.cli._drafts",
)

# Runs the command as the `passmuster` program runs it (main() reading sys.argv).
PROBE = """
import contextlib, io, json, sys
from passmuster.cli.main import main
out = io.StringIO()
sys.argv = ["passmuster", *sys.argv[1:]]
with contextlib.redirect_stdout(out):
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
print(json.dumps({"code": code, "output": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _imported(args: list[str], cwd: Path) -> tuple[set[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    env.update({"PASSMUSTER_ACTOR": "agent-7", "NO_COLOR": "1"})
    # The passmuster under test, whatever the folder the command runs in.
    source = str(Path(passmuster.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None), (args, done.stderr)
    return set(report["modules"]), report["output"]


def _heavy(modules: set[str], also: tuple[str, ...] = ()) -> list[str]:
    return sorted(
        name
        for name in (*NEVER, *also)
        if any(m == name or m.startswith(name + ".") for m in modules)
    )


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("startup")
    _imported(["init"], folder)
    for title in ("Login fails after logout", "Gateway returns 502"):
        _imported(["new", title, "--severity", "high", "--service", "api-gateway"], folder)
    # A description as most are written: one line of plain words.
    _imported(["edit", "1", "--description", "Seen after the last deploy."], folder)
    return folder


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["list", "--json", "--all"],
        ["ready"],
        ["search", "logout"],
        ["show", "1", "--json"],
        ["claim", "--json"],
        ["new", "Port conflict between user-service and api-gateway", "--json"],
        # Their one-line reports in text are written without Rich.
        ["claim"],
        ["new", "Gateway times out on /healthz", "--severity", "low"],
        # Wider than the terminal: wrapped as Rich wraps it, still without Rich.
        [
            "new",
            "Database driver conflict between asyncpg and psycopg2-binary in identity-service "
            "seen again after the last deploy (case 12)",
        ],
        # An issue whose text Rich prints as it is is laid out by hand (cli/_layout.py).
        ["show", "1"],
    ],
    ids=lambda args: " ".join(args),
)
def test_the_hot_commands_import_no_heavy_module(desk: Path, args: list[str]) -> None:
    modules, output = _imported(args, desk)
    assert output.strip(), "the command printed nothing"  # it did its work, not just start
    # Listings are laid out by hand and JSON needs no Rich either.
    assert _heavy(modules, also=("rich",)) == []


@pytest.mark.parametrize(
    "args",
    [["list"], ["list", "--json", "--all"], ["ready"], ["search", "logout"], ["show", "1"]],
    ids=lambda args: " ".join(args),
)
def test_reading_loads_neither_the_writing_rules_nor_the_rest_of_the_desk(
    desk: Path, args: list[str]
) -> None:
    modules, output = _imported(args, desk)
    assert output.strip()
    assert _heavy(modules, also=OTHER_WORK + WRITING) == []


@pytest.mark.parametrize(
    "args",
    [["claim", "--json"], ["new", "Port conflict between user-service and api-gateway"]],
    ids=lambda args: " ".join(args),
)
def test_writing_loads_its_rules_but_not_the_rest_of_the_desk(desk: Path, args: list[str]) -> None:
    modules, output = _imported(args, desk)
    assert output.strip()
    assert _heavy(modules, also=OTHER_WORK) == []
    assert "passmuster.storage.timeline_sums" in modules  # it wrote, and kept the sums


def test_a_json_listing_computes_no_sla_clocks(desk: Path) -> None:
    modules, output = _imported(["list", "--json"], desk)
    assert len(json.loads(output)) >= 2
    assert "passmuster.core.sla" not in modules


def test_show_in_text_lays_out_a_plain_issue_without_rich(desk: Path) -> None:
    modules, output = _imported(["show", "1"], desk)
    assert "Login fails after logout" in output
    assert "Seen after the last deploy." in output
    assert "╭─ Timeline ─" in output
    # A one-line plain description needs neither a Markdown parser nor Rich's layout.
    assert _heavy(modules, also=("rich", "pygments", "passmuster.cli._drafts")) == []


def test_show_in_text_still_renders_markdown_through_rich(desk: Path) -> None:
    _, filed = _imported(
        ["new", "Rendered", "--description", "**Bold** words\n\n- and a list", "--json"], desk
    )
    number = json.loads(filed)["issue"]["number"]
    modules, output = _imported(["show", str(number)], desk)
    assert "Bold words" in output
    assert "rich.markdown" in modules


def test_a_desk_at_the_newest_revision_opens_without_alembic(desk: Path) -> None:
    modules, output = _imported(["list", "--json"], desk)
    assert len(json.loads(output)) >= 2
    assert "alembic" not in {m.split(".")[0] for m in modules}
    assert "passmuster.storage.migrate" in modules  # the check ran, the cheap way


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["-h"]])
def test_version_and_help_alone_import_not_even_click(tmp_path: Path, args: list[str]) -> None:
    modules, output = _imported(args, tmp_path)
    assert output.startswith(("passmuster, version ", "Usage: passmuster [OPTIONS] COMMAND"))
    assert _heavy(modules, also=("click", "sqlalchemy", "rich", "passmuster.cli.group")) == []


def test_a_commands_help_imports_no_database_or_option_layer(tmp_path: Path) -> None:
    modules, output = _imported(["list", "--help"], tmp_path)
    assert "Usage: passmuster list [OPTIONS]" in output
    assert _heavy(modules, also=("sqlalchemy", "rich")) == []


GC_PROBE = """
import gc, sys
from passmuster.cli.main import main
as_program = sys.argv[1] == "program"
try:
    if as_program:
        sys.argv = ["passmuster", *sys.argv[2:]]
        main()
    else:
        main(sys.argv[2:])
except SystemExit:
    pass
print(gc.isenabled(), gc.get_freeze_count() > 0)
"""


@pytest.mark.parametrize("args", [["list", "--json"], ["show", "99"]], ids=" ".join)
def test_run_as_the_program_a_command_leaves_its_objects_to_exit_without_a_last_collection(
    desk: Path, args: list[str]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    source = str(Path(passmuster.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))

    def run(how: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", GC_PROBE, how, *args],
            cwd=desk, env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return done.stdout.strip().splitlines()[-1]

    # The collector runs again once the command is done; as the program (whose next step is
    # exit), what the command made is frozen, so shutdown does not walk it.
    assert run("program") == "True True"
    # Called with arguments (tests, embedding), main() leaves the caller's collector alone.
    assert run("call") == "True False"


def test_the_help_shown_without_click_is_clicks() -> None:
    assert top_help() == TOP_HELP, (
        "src/passmuster/cli/top_help.py is stale; set TOP_HELP to:\n" + repr(top_help())
    )


@pytest.mark.parametrize("columns", ["80", "200", "60", ""])
def test_help_and_version_read_the_same_with_and_without_click(
    tmp_path: Path, columns: str
) -> None:
    # Narrower than 80 columns, click lays the help out itself.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    env["COLUMNS"] = columns
    source = str(Path(passmuster.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    for args in (["--help"], ["--version"]):
        fast = subprocess.run(
            [sys.executable, "-m", "passmuster", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        # The same arguments through click: `--database-url=` first makes the fast path step aside.
        slow = subprocess.run(
            [sys.executable, "-m", "passmuster", "--database-url=", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert fast.stdout == slow.stdout


def test_a_configured_sla_policy_is_still_read_through_pydantic(desk: Path) -> None:
    # The cheap path is for desks without an [sla] section; a section is validated as before.
    config = desk / "passmuster.toml"
    config.write_text('[sla.respond]\nhigh = "soon"\n', encoding="utf-8")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
        done = subprocess.run(
            [sys.executable, "-m", "passmuster", "list"],
            cwd=desk,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        config.unlink()
    assert done.returncode != 0
    assert "passmuster.toml: [sla.respond.high]" in done.stderr
    assert "Traceback" not in done.stderr


LEAN = """
import sys
from passmuster.cli import _startup

_startup.enable()
_startup.import_sqlalchemy()
import sqlalchemy
from sqlalchemy.util import compat, concurrency

print(sorted(m for m in ("asyncio", "importlib.metadata", "greenlet") if m in sys.modules))
engine = sqlalchemy.create_engine("sqlite://")
with engine.connect() as connection:
    print(connection.execute(sqlalchemy.text("select 1 + 1")).scalar_one())
# What SQLAlchemy took as asyncio and importlib.metadata forwards to the real modules...
print(concurrency.is_exit_exception(compat.asyncio.CancelledError()))
print(compat.importlib_metadata.version("sqlalchemy") == sqlalchemy.__version__)
# ...which later imports get as usual, submodules included.
import asyncio
import asyncio.events
from importlib import metadata
print(type(asyncio).__name__, asyncio.events is sys.modules["asyncio.events"])
print(asyncio.run(asyncio.sleep(0, "ran")))
print(type(metadata).__name__, metadata is sys.modules["importlib.metadata"])
print(compat.asyncio.get_event_loop_policy() is asyncio.get_event_loop_policy())
import greenlet
print(greenlet.__name__)
"""


def test_sqlalchemy_imported_for_one_command_leaves_asyncio_to_whoever_uses_it() -> None:
    env = dict(os.environ)
    source = str(Path(passmuster.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", LEAN],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.splitlines() == [
        "[]",
        "2",
        "True",
        "True",
        "module True",
        "ran",
        "module True",
        "True",
        "greenlet",
    ]


def test_in_process_callers_import_sqlalchemy_as_usual(desk: Path) -> None:
    # Called with arguments (tests, embedding), main() changes nothing about how SQLAlchemy loads.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    source = str(Path(passmuster.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    probe = (
        "import sys\nfrom passmuster.cli.main import main\n"
        "main(['list', '--json'])\nprint('asyncio' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=desk, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.splitlines()[-1] == "True"


COLLECTIONS_PROBE = """
import gc, sys
from passmuster.cli.main import main
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info))
sys.argv = ["passmuster", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(len(collections), gc.isenabled())
"""


@pytest.mark.parametrize("args", [["list"], ["show", "1"]], ids=" ".join)
def test_a_hot_command_as_the_program_runs_without_a_collection(
    desk: Path, args: list[str]
) -> None:
    # From parsing its arguments to its output, the command makes objects that live until exit.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    source = str(Path(passmuster.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", COLLECTIONS_PROBE, *args],
        cwd=desk, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "0 True"
