"""`passmuster incident update|updates`: an incident's public timeline (the status page's).

Comments stay internal; an update is what readers of the status page see.
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
from passmuster.cli.issues import parse_number

app = typer.Typer(add_completion=False, rich_markup_mode=None)
incident_app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)
app.add_typer(incident_app, name="incident", help="Post and list incidents' public updates.")

Number = Annotated[
    int,
    typer.Argument(
        parser=parse_number,
        metavar="NUMBER",
        help="The incident's number (7 or #007).",
        show_default=False,
    ),
]


@incident_app.command("update")
def update_command(
    number: Number,
    stage: Annotated[str, typer.Argument(help="investigating, identified, monitoring, resolved.")],
    message: Annotated[list[str], typer.Argument(help="What readers of the status page see.")],
    as_json: JsonOption = False,
) -> None:
    """Post a public update to an incident."""
    from passmuster.usecases.incident_updates import post_update

    with desk_session() as desk:
        update = post_update(desk, number, stage, " ".join(message), actor=actor())
    if as_json:
        emit_json(update)
        return
    say(f"Posted {update.stage.value} update to #{number:03d}")


@incident_app.command("updates")
def updates_command(number: Number, as_json: JsonOption = False) -> None:
    """List an incident's public updates, oldest first."""
    from rich.markup import escape
    from rich.table import Table

    from passmuster.cli._output import local_time
    from passmuster.usecases.incident_updates import updates

    with desk_session() as desk:
        found = updates(desk, number)
    if as_json:
        emit_json(found)
        return
    if not found:
        say(f"No public updates on #{number:03d} yet.")
        return
    table = Table("at", "stage", "by", "message")
    for update in found:
        table.add_row(
            local_time(update.at), update.stage.value, escape(update.author), escape(update.message)
        )
    print_listing(table)
