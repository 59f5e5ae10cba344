"""`passmuster mcp` and `passmuster prime`: the desk for coding agents."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from passmuster.cli._output import actor, display_url, open_desk

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command("mcp")
def mcp_command(
    as_agent: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="The agent's name on claims, comments and events. Default: $PASSMUSTER_ACTOR, "
            "else your login name.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve this desk to an MCP client over stdio.

    Tools: ready, claim, renew, release, show, file, update, transition, comment, link, search,
    list, services, findings, incidents. Resources issue://N and service://NAME; prompt
    coordinate. The process also returns lapsed claims to the ready queue. Over HTTP, the same
    server is at /mcp of `passmuster serve`.
    """
    from passmuster.mcp.stdio import run

    desk = open_desk()
    try:
        run(desk, as_agent or actor())
    finally:
        desk.close()


@app.command("prime")
def prime_command(
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="The /mcp address of your `passmuster serve`, for the HTTP snippet."
        ),
    ] = None,
) -> None:
    """What an agent needs to work this desk, in at most 60 lines.

    The workflow, the commands and the MCP configuration for common clients (Claude Code,
    Cursor, Claude Desktop, VS Code). Paste it into an agent's instructions (AGENTS.md,
    CLAUDE.md) or let the agent run it.
    """
    from passmuster.mcp.workflow import prime

    desk = open_desk()
    try:
        where = display_url(desk.url)
    finally:
        desk.close()
    typer.echo(prime(_command(), desk=where, url=url), nl=False)


def _command() -> list[str]:
    """How an MCP client starts this passmuster: its script beside this Python, else on PATH,
    else `python -m passmuster`. An absolute path: clients do not share the shell's PATH."""
    beside = Path(sys.executable).parent / "passmuster"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("passmuster")
    return [found] if found else [sys.executable, "-m", "passmuster"]
