"""`passmuster service add/list/show/dsn`: the services issues are filed against.

The scanner discovers services from compose files (`passmuster services`); these commands let people
add and look at them by hand. Adding a service that exists updates it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from passmuster.cli._output import JsonOption, console, desk_session, emit_json, print_listing, say

app = typer.Typer(add_completion=False, rich_markup_mode=None)
service_app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)
app.add_typer(service_app, name="service", help="Add, list and show services.")


@service_app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="Service name, as in docker-compose.")],
    description: Annotated[str | None, typer.Option(help="What it does.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who answers for it.")] = None,
    kind: Annotated[
        str | None, typer.Option(help="service, worker, database, cache, broker, gateway ...")
    ] = None,
    depends_on: Annotated[
        list[str] | None, typer.Option("--depends-on", help="A service it needs (repeatable).")
    ] = None,
    health_url: Annotated[str | None, typer.Option("--health-url", help="Its health URL.")] = None,
    port: Annotated[list[str] | None, typer.Option("--port", help="host:container.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a service, or update the one with this name."""
    from dataclasses import replace

    from passmuster.core.catalog import Service, check_service_name
    from passmuster.errors import NotFound

    check_service_name(name)
    for dependency in depends_on or ():
        check_service_name(dependency)
    with desk_session() as desk:
        try:
            current = desk.get_service(name)
            existed = True
        except NotFound:
            current = Service(name=name)
            existed = False
        changes = {
            k: v
            for k, v in {
                "description": description,
                "owner": owner,
                "kind": kind,
                "depends_on": list(depends_on) if depends_on else None,
                "health_url": health_url,
                "ports": list(port) if port else None,
            }.items()
            if v is not None
        }
        service = desk.ensure_service(replace(current, **changes))  # type: ignore[arg-type]
    if as_json:
        emit_json(service)
        return
    say(f"{'Updated' if existed else 'Added'} service [bold]{service.name}[/]")


@service_app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """List the services with their open issue counts."""
    from rich.table import Table

    with desk_session() as desk:
        services = desk.services()
        active, _ = desk.open_counts_by_service()
    open_counts = {s.name: active.get(s.name, 0) for s in services}
    if as_json:
        emit_json([{**_service_dict(s), "open_issues": open_counts[s.name]} for s in services])
        return
    if not services:
        say("[dim]No services yet: passmuster service add NAME[/]")
        return
    table = Table(box=None, header_style="bold dim", pad_edge=False)
    for column in ("Service", "Kind", "Owner", "Depends on", "Open issues", "Description"):
        table.add_column(column, justify="right" if column == "Open issues" else "left")
    for s in services:
        table.add_row(
            s.name,
            s.kind,
            s.owner or "",
            ", ".join(s.depends_on),
            str(open_counts[s.name]),
            s.description,
        )
    print_listing(table)


@service_app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="Service name.")],
    as_json: JsonOption = False,
) -> None:
    """Show a service and its active issues."""
    from rich.table import Table

    from passmuster.cli.frequent import print_issue_table
    from passmuster.core.issues import IssueQuery

    with desk_session() as desk:
        service = desk.get_service(name)
        issues = desk.issues(IssueQuery(services=[name], active_only=True, sort="urgency"))
    if as_json:
        from passmuster.cli._output import issue_json

        emit_json({"service": _service_dict(service), "issues": [issue_json(i) for i in issues]})
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    for label, value in (
        ("Kind", service.kind),
        ("Owner", service.owner or ""),
        ("Depends on", ", ".join(service.depends_on)),
        ("Health URL", service.health_url or ""),
        ("Ports", ", ".join(service.ports)),
        ("Discovered in", service.source or ""),
        ("Description", service.description),
    ):
        if value:
            grid.add_row(label, value)
    out = console()
    out.print(f"[bold]{service.name}[/]")
    out.print(grid)
    out.print()
    if issues:
        out.print(f"[bold]{len(issues)} active issue(s)[/]")
        print_issue_table(issues)
    else:
        out.print("[dim]No active issues.[/]")


@service_app.command("dsn")
def dsn_command(
    name: Annotated[str, typer.Argument(help="Service name (added to the catalog if missing).")],
    url: Annotated[
        str,
        typer.Option(
            "--url",
            envvar="PASSMUSTER_PUBLIC_URL",
            help="Where the services reach `passmuster serve` (PASSMUSTER_PUBLIC_URL).",
        ),
    ] = "http://127.0.0.1:8000",
    revoke: Annotated[
        bool,
        typer.Option("--revoke", help="Revoke the service's key; the next `dsn` makes a new one."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Print the Sentry DSN a service sends its runtime errors with (made on first use).

    Set it as the service's SENTRY_DSN; the stock Sentry SDK then reports its exceptions to
    `passmuster serve`, where they become issues. The key in the DSN can only send errors.
    """
    from passmuster.cli._output import actor
    from passmuster.usecases.ingest_keys import IngestKeys

    with desk_session() as desk:
        keys = IngestKeys(desk)
        if revoke:
            revoked = keys.revoke(name)
            if as_json:
                emit_json({"service": name, "revoked": revoked})
            else:
                say(
                    f"Revoked the DSN key of [bold]{name}[/]"
                    if revoked
                    else f"[dim]{name} had no active DSN key[/]"
                )
            return
        dsn = keys.dsn_for(name, actor=actor(), base_url=url)
    if as_json:
        emit_json(
            {
                "service": dsn.service,
                "project_id": dsn.project_id,
                "dsn": str(dsn),
                "created": dsn.created,
            }
        )
        return
    # The DSN alone on stdout, so `export SENTRY_DSN=$(passmuster service dsn billing)` works.
    print(dsn)
    if dsn.created:
        from passmuster.cli._output import err_console

        err_console().print(f"[dim]Made a DSN key for {dsn.service} (project {dsn.project_id}).[/]")


def _service_dict(service: object) -> dict[str, object]:
    from passmuster.cli._output import to_jsonable

    data: dict[str, object] = to_jsonable(service)
    return data
