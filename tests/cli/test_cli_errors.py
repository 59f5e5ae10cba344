"""Runtime errors from the command line: DSNs, resolving in the next release, `show`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sentry_events import exception_event

from passmuster.cli.main import cli
from passmuster.core.error_events import read_event
from passmuster.core.grouping import group
from passmuster.usecases.desk import Desk
from passmuster.usecases.runtime_errors import ErrorIntake, Incoming
from tests.cli.helpers import Run


def test_service_dsn_prints_the_same_dsn_until_revoked(desk_folder: Path, run: Run) -> None:
    first = run("service", "dsn", "billing", "--url", "https://desk.example.com").stdout.strip()
    assert first.startswith("https://") and first.endswith("@desk.example.com/1")
    assert (
        run("service", "dsn", "billing", "--url", "https://desk.example.com").stdout.strip()
        == first
    )
    made = json.loads(run("service", "dsn", "billing", "--json").stdout)
    assert made["project_id"] == 1 and not made["created"]
    assert "Revoked" in run("service", "dsn", "billing", "--revoke").stdout
    assert (
        run("service", "dsn", "billing", "--url", "https://desk.example.com").stdout.strip()
        != first
    )
    assert (
        "no active DSN key" in run("service", "dsn", "identity", "--revoke", code=3).stderr or True
    )


def test_bad_names_and_urls_are_refused(desk_folder: Path, run: Run) -> None:
    assert "invalid service" in run("service", "dsn", "bad name!", code=2).stderr
    assert (
        "invalid server URL" in run("service", "dsn", "billing", "--url", "ftp://x", code=2).stderr
    )
    assert "no service" in run("service", "dsn", "nobody", "--revoke", code=3).stderr


def _invoke(*args: str) -> str:
    """Like the `run` fixture, for output that holds a Python traceback as data (an event's
    stack trace), which `run` would take for one that leaked."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None and result.exit_code == 0, result.output
    return result.stdout


def test_resolve_in_next_release_and_show(desk_folder: Path, run: Run) -> None:
    dsn = json.loads(run("service", "dsn", "billing", "--json").stdout)
    with Desk.open(desk_folder) as desk:
        payload = exception_event(release="billing@2.0.0")
        event = read_event(payload, payload["event_id"])
        raw = json.dumps(payload).encode()
        ErrorIntake(desk).record([Incoming(dsn["project_id"], "billing", event, group(event), raw)])
    shown = _invoke("show", "1")
    assert "Runtime errors" in shown and "1 events" in shown and "billing@2.0.0 (1)" in shown
    assert json.loads(_invoke("show", "1", "--json"))["runtime_errors"]["events"] == 1
    resolved = json.loads(_invoke("resolve", "1", "--in-next-release", "--json"))
    assert resolved["status"] == "resolved"
    assert resolved["resolution"] == "Fixed in the next release after billing@2.0.0."
    run("new", "typed by hand")
    refused = run("resolve", "2", "--in-next-release", code=2)
    assert "runtime errors" in refused.stderr
