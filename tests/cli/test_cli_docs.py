"""docs/cli.md is generated from the commands and must match them."""

from __future__ import annotations

from pathlib import Path

from passmuster.cli import docgen

DOC = Path(__file__).parents[2] / "docs" / "cli.md"
REGENERATE = "regenerate it: .venv/bin/python -m passmuster.cli.docgen > docs/cli.md"


def test_every_command_in_this_build_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [n for n in docgen.documented_commands() if f"### `passmuster {n}`" not in text]
    assert missing == [], f"docs/cli.md does not document {missing}; {REGENERATE}"


def test_the_cli_reference_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == docgen.render(), f"docs/cli.md is stale; {REGENERATE}"


def test_the_reference_shows_options_defaults_and_exit_codes() -> None:
    text = docgen.render()
    assert "| `--status, -s TEXT` |" in text
    assert "| `--limit INTEGER` | At most this many (0: no limit). | `50` |" in text
    assert "passmuster link [OPTIONS] NUMBER [KIND] [TARGET]" in text
    assert "- **3** not found" in text


def test_every_option_of_the_tracker_commands_has_help() -> None:
    import click

    from passmuster.cli.main import COMMANDS

    mine = (
        "passmuster.cli.issues",
        "passmuster.cli.frequent",
        "passmuster.cli.catalog",
        "passmuster.cli.reports",
    )
    missing: list[str] = []
    for name, (module, _) in COMMANDS.items():
        if module not in mine:
            continue
        command = docgen._load(name)
        assert command is not None
        commands = [(name, command)]
        if hasattr(command, "list_commands"):
            with click.Context(command) as ctx:
                subs = [
                    (f"{name} {s}", command.get_command(ctx, s)) for s in command.list_commands(ctx)
                ]  # type: ignore[attr-defined]
            commands = [(n, c) for n, c in subs if c is not None]
        for path, cmd in commands:
            missing += [
                f"{path} {p.opts[0]}"
                for p in cmd.params
                if p.param_type_name == "option" and not getattr(p, "help", None)
            ]
    assert missing == []
