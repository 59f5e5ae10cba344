"""The `passmuster` click group: the command table of cli/main.py made into commands.

Each command's module is imported only when that command runs. `passmuster --help` and
`passmuster --version` alone are answered by cli/main.py without this module (or click); the
help it prints there is this group's, rendered by `top_help()` (a test keeps them equal).
"""

from __future__ import annotations

import importlib
from typing import Any, cast

import click

from passmuster import __version__
from passmuster.cli.main import COMMANDS


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        app = module.app
        if isinstance(app, click.Group):  # declared on plain click (cli/_options.py)
            return app.get_command(ctx, cmd_name)
        import typer.main

        # Build only the command asked for when it is registered under its name: building every
        # command of a module costs more than the one that runs. (Not when the module's app has a
        # callback, which must run before its commands.)
        has_callback = getattr(app, "registered_callback", None) or app.info.callback
        for info in () if has_callback else getattr(app, "registered_commands", ()):
            if info.name == cmd_name:
                single: Any = typer.main.get_command_from_info(
                    info,
                    pretty_exceptions_short=app.pretty_exceptions_short,
                    rich_markup_mode=app.rich_markup_mode,
                )
                return cast("click.Command", single)
        # Typer builds its commands on its own vendored copy of click, so test for a group by its
        # behaviour rather than by `click.Group`; both copies speak the same protocol.
        group: Any = typer.main.get_command(app)
        if hasattr(group, "list_commands"):
            command: Any = group.get_command(ctx, cmd_name)
            return cast("click.Command | None", command)
        return cast("click.Command", group) if group.name == cmd_name else None

    def invoke(self, ctx: click.Context) -> Any:
        # Here rather than only in main() so that every caller (tests' CliRunner too) sees a user
        # error as one line on stderr and its documented exit code.
        from passmuster.core.visible import escape_controls
        from passmuster.errors import PassmusterError

        try:
            return super().invoke(ctx)
        except PassmusterError as exc:
            click.echo(f"error: {escape_controls(exc.message)}", err=True)
            ctx.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own (`-h` ends with Exit): no database or Typer code to consult
        except Exception as exc:
            code = _typer_click_exit(exc)
            if code is not None:
                ctx.exit(code)
            from passmuster.cli._output import database_failure

            failure = database_failure(exc)
            if failure is None:
                raise
            click.echo(f"error: {escape_controls(failure.message)}", err=True)
            ctx.exit(failure.exit_code)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _typer_click_exit(exc: Exception) -> int | None:
    """The exit code for an exception of Typer's own vendored copy of click, else None.

    Typer (0.2x) builds commands on a private copy of click whose usage errors and `Exit` are not
    `click`'s, so this group handles them the way click handles its own: show, then exit.
    """
    if isinstance(exc, click.ClickException) or not type(exc).__module__.startswith("typer"):
        return None  # plain click's own (click handles it) or not a usage error at all
    import typer

    if isinstance(exc, typer.Abort):
        raise click.Abort() from exc
    if isinstance(exc, typer.Exit):
        return int(exc.exit_code)
    show = getattr(exc, "show", None)
    exit_code = getattr(exc, "exit_code", None)
    if type(exc).__module__.startswith("typer.") and callable(show) and isinstance(exit_code, int):
        show()  # a usage error of Typer's click: "Usage: ...", "Error: No such option: --x"
        return exit_code
    return None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    envvar="PASSMUSTER_DATABASE_URL",
    default=None,
    help="Desk database (sqlite:///path or postgresql://...). Default: .passmuster/desk.db "
    "found by walking up from here.",
)
@click.version_option(__version__, prog_name="passmuster")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """passmuster: one desk for a multi-service platform.

    Commands take --json to print JSON on stdout; `passmuster COMMAND -h` shows their options.

    Exit codes: 0 success; 1 findings or failures reported; 2 bad input or usage; 3 not found;
    4 conflict or invalid transition; 5 desk unusable; 6 not allowed; 130 interrupted.
    """
    ctx.ensure_object(dict)
    ctx.obj["database_url"] = database_url


def top_help() -> str:
    """`passmuster --help` as click prints it on a terminal at least 80 columns wide."""
    # Click lays help out 2 columns narrower than the terminal, at most 80.
    settings = {**cli.context_settings, "terminal_width": 78}
    ctx = click.Context(cli, info_name="passmuster", **settings)
    return ctx.get_help() + "\n"
