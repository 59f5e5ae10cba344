"""`passmuster token create|list|revoke`: API tokens for the REST API and the pages.

Whoever can run this on the desk's machine (or reach its database) already holds the keys, so
the commands need no token themselves.
"""

from __future__ import annotations

from typing import Annotated

import typer

from passmuster.cli._output import (
    JsonOption,
    actor,
    desk_session,
    emit_json,
    local_time,
    print_listing,
    say,
)

app = typer.Typer(add_completion=False, rich_markup_mode=None)
token_app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)
app.add_typer(token_app, name="token", help="Create, list and revoke API tokens.")


@token_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses it (unique).")],
    role: Annotated[
        str, typer.Option("--role", help="reader, reporter, coordinator or admin.")
    ] = "reader",
    as_json: JsonOption = False,
) -> None:
    """Create a token. Its secret is printed once; only a hash is kept."""
    from passmuster.usecases.tokens import Role, TokenStore

    parsed = Role.parse(role)
    with desk_session() as desk:
        info, secret = TokenStore(desk.engine).create(name, parsed, created_by=actor())
    if as_json:
        emit_json({"name": info.name, "role": info.role.value, "secret": secret})
        return
    say(f"Created token [bold]{info.name}[/bold] with role {info.role.value}.")
    say("Its secret, shown this once (send it as 'Authorization: Bearer <secret>'):")
    typer.echo(secret)


@token_app.command("list")
def list_tokens(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List tokens (never their secrets)."""
    from rich.table import Table

    from passmuster.usecases.tokens import TokenStore

    with desk_session() as desk:
        tokens = TokenStore(desk.engine).tokens(include_revoked=all_)
    if as_json:
        emit_json(tokens)
        return
    if not tokens:
        say("No tokens. Create one: passmuster token create --name NAME --role reader")
        return
    table = Table("name", "role", "starts with", "created", "by", "last used", "revoked")
    for t in tokens:
        table.add_row(
            t.name,
            t.role.value,
            t.prefix + "…",
            local_time(t.created_at),
            t.created_by,
            local_time(t.last_used_at) or "never",
            local_time(t.revoked_at),
        )
    print_listing(table)


@token_app.command("revoke")
def revoke(
    name: Annotated[str | None, typer.Argument(help="The token's name.")] = None,
    all_: Annotated[
        bool,
        typer.Option("--all", help="Revoke every token and end every dashboard session."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Revoke a token: it stops working at once, in the API and in open pages.

    `--all` is for a leak: every token is revoked and every dashboard session ends (the pages
    need a new token's login), in every server on the desk within a few seconds.
    """
    from passmuster.cli._output import BadInput
    from passmuster.usecases.tokens import TokenStore

    if all_ == (name is not None):
        raise BadInput("name one token to revoke, or pass --all (not both)", field="name")
    if all_:
        from passmuster.usecases.sessions import revoke_everything

        with desk_session() as desk:
            revoked, sessions = revoke_everything(desk.engine)
        if as_json:
            emit_json({"revoked": [t.name for t in revoked], "sessions_ended": sessions})
            return
        say(
            f"Revoked {len(revoked)} token{'s' if len(revoked) != 1 else ''} and ended "
            f"{sessions} dashboard session{'s' if sessions != 1 else ''}. "
            "Create new tokens with: passmuster token create --name NAME --role ROLE"
        )
        return
    assert name is not None
    with desk_session() as desk:
        info = TokenStore(desk.engine).revoke(name)
    if as_json:
        emit_json(info)
        return
    say(f"Revoked token [bold]{info.name}[/bold].")
