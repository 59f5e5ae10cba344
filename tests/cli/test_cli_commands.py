"""The lazy command table in cli/main.py agrees with the commands themselves."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from passmuster.cli.main import COMMANDS, cli

# The modules of the tracker CLI; other modules are checked by their own tests as they land.
TRACKER_MODULES = {
    "passmuster.cli.issues",
    "passmuster.cli.frequent",
    "passmuster.cli.catalog",
    "passmuster.cli.reports",
    "passmuster.cli.demo",
}
TRACKER_COMMANDS = sorted(
    name for name, (module, _) in COMMANDS.items() if module in TRACKER_MODULES
)


def _resolve(name: str) -> click.Command:
    with click.Context(cli) as ctx:
        command = cli.get_command(ctx, name)
    assert command is not None, f"{name} does not resolve to a command"
    return command


def test_the_tracker_owns_the_commands_issue_2_asks_for() -> None:
    wanted = {
        "init",
        "new",
        "list",
        "show",
        "edit",
        "ack",
        "start",
        "block",
        "resolve",
        "close",
        "reopen",
        "comment",
        "link",
        "search",
        "ready",
        "claim",
        "service",
        "stats",
        "sla",
        "escalate",
        "demo",
    }
    assert wanted <= set(TRACKER_COMMANDS)


@pytest.mark.parametrize("name", TRACKER_COMMANDS)
def test_each_command_resolves_and_its_table_help_is_its_own_first_line(name: str) -> None:
    command = _resolve(name)
    assert command.name == name
    first_line = (command.help or "").strip().splitlines()[0]
    assert COMMANDS[name][1] == first_line


def test_every_module_in_the_table_defines_its_commands() -> None:
    for name in COMMANDS:
        _resolve(name)


@pytest.mark.parametrize("name", TRACKER_COMMANDS)
def test_every_tracker_command_has_help_and_a_json_option(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    command = _resolve(name)
    if hasattr(command, "list_commands"):  # `service` is a group: check its subcommands
        with click.Context(command) as ctx:
            subcommands = [command.get_command(ctx, sub) for sub in command.list_commands(ctx)]  # type: ignore[attr-defined]
        options = [{o for p in sub.params for o in p.opts} for sub in subcommands if sub]
    else:
        options = [{o for p in command.params for o in p.opts}]
    if name == "demo":
        return  # the demo prints a walkthrough for people; it has no JSON form
    assert all("--json" in opts for opts in options), name
