"""`passmuster notify channels|enable`: the monitor's notification channels.

A channel that answers a permanent error (a 4xx other than 408/425/429, refused SMTP
credentials) is disabled and its notifications wait. It comes back when its configuration in
passmuster.toml changes, or with `passmuster notify enable NAME` once the receiver is fixed;
what waited is then sent.
"""

from __future__ import annotations

from typing import Annotated

import typer

from passmuster.cli._output import (
    JsonOption,
    desk_session,
    emit_json,
    local_time,
    print_listing,
    say,
)

app = typer.Typer(add_completion=False, rich_markup_mode=None)
notify_app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)
app.add_typer(notify_app, name="notify", help="Notification channels: list them, enable one again.")


@notify_app.command("channels")
def channels_command(as_json: JsonOption = False) -> None:
    """List channels with their state, waiting notifications and last error."""
    from rich.table import Table

    from passmuster.monitor.channel_status import channels

    with desk_session() as desk:
        rows = channels(desk)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        say("No notification channels yet (\\[monitor.notify.NAME] in passmuster.toml).")
        return
    table = Table("name", "kind", "state", "since", "waiting", "sent", "failed", "last error")
    for row in rows:
        state = "[bold red]disabled[/bold red]" if row.state == "disabled" else "enabled"
        table.add_row(
            row.name,
            row.kind,
            state,
            local_time(row.disabled_at),
            str(row.pending),
            str(row.sent),
            str(row.failed),
            row.disabled_reason or row.last_error or "",
        )
    print_listing(table)
    if any(row.state == "disabled" for row in rows):
        say("Fix the receiver or the configuration, then: passmuster notify enable NAME")


@notify_app.command("enable")
def enable_command(
    name: Annotated[str, typer.Argument(help="The channel's name ([monitor.notify.NAME]).")],
    as_json: JsonOption = False,
) -> None:
    """Enable a disabled channel; what waited goes out on the monitor's next round."""
    from passmuster.monitor.channel_status import enable_channel

    with desk_session() as desk:
        changed = enable_channel(desk, name)
    if as_json:
        emit_json({"name": name, "enabled": True, "changed": changed})
        return
    if changed:
        say(f"Channel {name} enabled; its waiting notifications go out on the next round.")
    else:
        say(f"Channel {name} was not disabled; nothing to do.")
