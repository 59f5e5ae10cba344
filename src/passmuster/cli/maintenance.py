"""`passmuster maintenance add|list|cancel`: scheduled maintenance windows.

While a window covers a service, its failed probes open no incident and page nobody; the window
shows on the status page and the services page. A service still down when the window ends gets
its incident then.
"""

from __future__ import annotations

from typing import Annotated

import typer

from passmuster.cli._output import (
    JsonOption,
    actor,
    desk_session,
    emit_json,
    print_listing,
    say,
)

app = typer.Typer(add_completion=False, rich_markup_mode=None)
maintenance_app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)
app.add_typer(
    maintenance_app,
    name="maintenance",
    help="Schedule, list and cancel maintenance windows.",
)


@maintenance_app.command("add")
def add_command(
    message: Annotated[list[str], typer.Argument(help="What readers of the status page see.")],
    service: Annotated[
        list[str], typer.Option("--service", "-s", help="A service it covers (repeatable).")
    ],
    start: Annotated[
        str, typer.Option(help="ISO 8601 start (2026-12-06T02:00Z; no zone means UTC) or now.")
    ],
    end: Annotated[str | None, typer.Option(help="ISO 8601 end.")] = None,
    length: Annotated[
        str | None, typer.Option("--for", help="Length instead of --end: 30m, 2h, 1d.")
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(help="Repeat by an RFC 5545 RRULE, e.g. 'FREQ=WEEKLY;BYDAY=SU'."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Schedule a maintenance window (one-off, or recurring with --every)."""
    from passmuster.core.maintenance import parse_duration, parse_time
    from passmuster.errors import InvalidValue
    from passmuster.usecases.maintenance import schedule

    starts_at = parse_time(start, field="--start")
    if (end is None) == (length is None):
        raise InvalidValue("--end/--for", end or length, ["exactly one of --end or --for"])
    ends_at = (
        parse_time(end, field="--end")
        if end is not None
        else starts_at + parse_duration(length or "", field="--for")
    )
    with desk_session() as desk:
        window = schedule(
            desk,
            message=" ".join(message),
            services=service,
            starts_at=starts_at,
            ends_at=ends_at,
            recurrence=every,
            actor=actor(),
        )
    if as_json:
        emit_json(window)
        return
    say(f"Scheduled maintenance window {window.id} for {', '.join(window.services)}")


@maintenance_app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """Windows under way or still to come, soonest first."""
    from rich.markup import escape
    from rich.table import Table

    from passmuster.cli._output import local_time
    from passmuster.usecases.maintenance import upcoming

    with desk_session() as desk:
        now = desk.clock()
        windows = upcoming(desk, now=now)
    if as_json:
        emit_json(windows)
        return
    if not windows:
        say("No maintenance scheduled.")
        return
    table = Table("id", "services", "next start", "next end", "repeats", "message")
    for window in windows:
        start, end = window.next_after(now) or (window.starts_at, window.ends_at)
        table.add_row(
            str(window.id),
            escape(", ".join(window.services)),
            local_time(start),
            local_time(end),
            escape(window.recurrence or ""),
            escape(window.message),
        )
    print_listing(table)


@maintenance_app.command("cancel")
def cancel_command(
    window_id: Annotated[int, typer.Argument(help="The window's id (maintenance list).", min=1)],
    as_json: JsonOption = False,
) -> None:
    """Cancel a window: failures of its services page people again."""
    from passmuster.usecases.maintenance import cancel

    with desk_session() as desk:
        window = cancel(desk, window_id, actor=actor())
    if as_json:
        emit_json(window)
        return
    say(f"Cancelled maintenance window {window.id}")
