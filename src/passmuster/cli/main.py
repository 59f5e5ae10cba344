"""The `passmuster` command.

Each command lives in its own module and is imported only when it runs, so `passmuster --help`
lists everything without importing SQLAlchemy, FastAPI or the scanner. The table below carries
each command's one-line help for that reason; a test checks it matches the command's own help.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, cast

import click

from passmuster import __version__

# name -> (module, one-line help). The module defines a Typer `app` holding a command (or a
# sub-group) of that name.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("passmuster.cli.issues", "Create a desk in .passmuster/ here."),
    "new": ("passmuster.cli.frequent", "File a new issue."),
    "list": ("passmuster.cli.frequent", "List issues, filtered and sorted."),
    "show": ("passmuster.cli.frequent", "Show one issue with its timeline."),
    "edit": ("passmuster.cli.issues", "Change fields of an issue."),
    "ack": ("passmuster.cli.issues", "Acknowledge an issue (starts the resolve clock)."),
    "start": ("passmuster.cli.issues", "Move an issue to in_progress."),
    "block": ("passmuster.cli.issues", "Mark an issue blocked."),
    "resolve": ("passmuster.cli.issues", "Resolve an issue with its resolution."),
    "close": ("passmuster.cli.issues", "Close an issue with a reason."),
    "reopen": ("passmuster.cli.issues", "Reopen a resolved or closed issue."),
    "comment": ("passmuster.cli.issues", "Comment on an issue."),
    "link": ("passmuster.cli.issues", "Link two issues, or an issue to a rule."),
    "search": ("passmuster.cli.frequent", "Full-text search over issues."),
    "ready": ("passmuster.cli.frequent", "Unblocked work, most urgent first."),
    "claim": (
        "passmuster.cli.frequent",
        "Atomically assign the next ready issue (or NUMBER) to you, for a while.",
    ),
    "renew": (
        "passmuster.cli.issues",
        "Extend your claim on an issue (from now, by --lease or the default).",
    ),
    "release": ("passmuster.cli.issues", "Give a claimed issue back to the ready queue."),
    "agents": (
        "passmuster.cli.issues",
        "Who holds which issue: every claim, since when and until when.",
    ),
    "mcp": ("passmuster.cli.agent_tools", "Serve this desk to an MCP client over stdio."),
    "prime": (
        "passmuster.cli.agent_tools",
        "What an agent needs to work this desk, in at most 60 lines.",
    ),
    "service": ("passmuster.cli.catalog", "Add, list and show services."),
    "stats": ("passmuster.cli.reports", "Statistics: month x severity, SLA attainment, MTTA/MTTR."),
    "sla": ("passmuster.cli.reports", "Issues at risk of or in breach of their SLA."),
    "escalate": ("passmuster.cli.reports", "Record one escalation event per SLA breach."),
    "import": ("passmuster.cli.logs", "Import Markdown issue logs."),
    "export": ("passmuster.cli.logs", "Render the desk as a Markdown log."),
    "notes": ("passmuster.cli.logs", "What imported logs say besides their issues."),
    "scan": ("passmuster.cli.scan", "Check the platform for cross-service breakage."),
    "services": ("passmuster.cli.scan", "The service catalog discovered from the platform."),
    "rule": ("passmuster.cli.scan", "Show one rule's documentation."),
    "rules": ("passmuster.cli.scan", "List all rules."),
    "monitor": ("passmuster.cli.monitor", "Probe the services and open incidents."),
    "status": ("passmuster.cli.monitor", "Services with health, latency and open incidents."),
    "notify": ("passmuster.cli.notify", "Notification channels: list them, enable one again."),
    "maintenance": (
        "passmuster.cli.maintenance",
        "Schedule, list and cancel maintenance windows.",
    ),
    "incident": ("passmuster.cli.incident_updates", "Post and list incidents' public updates."),
    "deploy": (
        "passmuster.cli.deploy",
        "Deploy services in dependency order, health-gated; status, logs, history.",
    ),
    "serve": ("passmuster.cli.serve", "Serve the dashboard and the REST API."),
    "token": ("passmuster.cli.tokens", "Create, list and revoke API tokens."),
    "demo": ("passmuster.cli.demo", "Run the whole desk on the bundled example platform."),
}


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


def _check_arguments(args: list[str]) -> None:
    """Refuse an argument whose bytes are not UTF-8 (Python keeps them as lone surrogates,
    which no database, JSON or terminal can take), unless it names a file that exists: file
    names need not be UTF-8."""
    import os

    for position, arg in enumerate(args, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            if os.path.exists(arg):
                continue
            from passmuster.cli._output import BadInput  # only now: it loads Typer

            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise BadInput(
                f"argument {position} is not UTF-8 text: {shown} (only the name of an existing "
                "file may be in another encoding)"
            ) from None


def main(argv: list[str] | None = None) -> Any:
    """Entry point: user errors become one line on stderr and a documented exit code."""
    from passmuster.core.visible import escape_controls
    from passmuster.errors import PassmusterError

    try:
        _check_arguments(sys.argv[1:] if argv is None else argv)
        result = cli.main(args=argv, prog_name="passmuster", standalone_mode=False)
    except PassmusterError as exc:
        click.echo(f"error: {escape_controls(exc.message)}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    # Outside standalone mode click returns the code of `ctx.exit(n)` / `typer.Exit(n)` instead of
    # exiting; exit with it so `python -m passmuster` reports it too.
    if isinstance(result, int) and not isinstance(result, bool) and result != 0:
        sys.exit(result)
    return result
