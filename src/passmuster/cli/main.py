"""The `passmuster` command.

Each command lives in its own module and is imported only when it runs, so `passmuster --help`
lists everything without importing SQLAlchemy, FastAPI or the scanner. The table below carries
each command's one-line help for that reason; a test checks it matches the command's own help.
The click group made from it is in cli/group.py; `passmuster --help` and `passmuster --version`
alone are answered here without importing click, which takes longer than the rest of either.
"""

from __future__ import annotations

import os
import sys
from typing import Any

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


def __getattr__(name: str) -> Any:
    # `from passmuster.cli.main import cli` keeps working; the group lives in cli/group.py.
    if name in ("cli", "LazyGroup"):
        from passmuster.cli import group

        return getattr(group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _answered_without_click(args: list[str]) -> bool:
    """Print the version or the top-level help for exactly `--version` or `--help`/`-h`, as click
    would (on a terminal 80 columns wide or more, where click's layout is fixed)."""
    if args == ["--version"]:
        sys.stdout.write(f"passmuster, version {__version__}\n")
        return True
    if args in (["--help"], ["-h"]) and _terminal_columns() >= 80:
        from passmuster.cli.top_help import TOP_HELP

        sys.stdout.write(TOP_HELP)
        return True
    return False


def _terminal_columns() -> int:
    """The terminal's width as click reads it (shutil.get_terminal_size: COLUMNS, the terminal,
    else 80), without importing shutil."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


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
    """Entry point: user errors become one line on stderr and a documented exit code.

    Without `argv` (the `passmuster` script, `python -m passmuster`) the command is the whole
    process, which ends when this returns; see `_before_exit`.
    """
    args = sys.argv[1:] if argv is None else argv
    if _answered_without_click(args):
        return None
    one_shot = argv is None and COMMANDS.get(args[0] if args else "", ("",))[0] == _FREQUENT
    if one_shot:
        # One bounded command in its own process: the collector paused from the start, as the
        # command itself runs (cli/_options.py), and SQLAlchemy without its asyncio layer.
        import gc

        gc.disable()  # before any import: compiling one that has no cached bytecode allocates
        from passmuster.cli import _startup

        _startup.enable()
    try:
        return _run(args, argv)
    finally:
        if one_shot:
            import gc

            gc.enable()
        if argv is None:
            _before_exit()


_FREQUENT = "passmuster.cli.frequent"  # the hot commands' module


def _before_exit() -> None:
    """Take every object alive now out of the garbage collector's sight.

    Python's shutdown starts with one last full collection, which walks every object the command
    made, most of them the modules, classes and SQLAlchemy constructs it imported: 5-7% of a
    short command, and exit frees all of it anyway. Files are flushed and closed by the commands
    (the desk in `desk_session`) and by Python's shutdown itself, not by this collection.
    """
    import gc

    gc.freeze()


def _run(args: list[str], argv: list[str] | None) -> Any:
    import click

    from passmuster.cli.group import cli
    from passmuster.core.visible import escape_controls
    from passmuster.errors import PassmusterError

    try:
        _check_arguments(args)
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
