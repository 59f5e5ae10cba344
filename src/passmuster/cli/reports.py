"""Reports over the whole desk: `stats`, `sla` and `escalate`.

Everything here is computed from the event timeline by the desk; these commands only lay it out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from passmuster.cli._output import (
    SEVERITY_STYLE,
    STATUS_STYLE,
    BadInput,
    JsonOption,
    actor,
    console,
    desk_session,
    emit_json,
    local_time,
    parse_when,
    print_listing,
    report_table,
    say,
    styled,
    to_jsonable,
)
from passmuster.core.durations import duration_text, hours_text

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from passmuster.core.sla import SlaStatus
    from passmuster.core.stats import Stats

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)


# --- sla ------------------------------------------------------------------------------------


# The clocks a text report lists unless told: the most overdue, as many as a screen shows. A
# desk far behind has tens of thousands, and laying those out took Rich minutes.
SLA_LISTED = 50


@app.command("sla")
def sla_command(
    fail_on_breach: Annotated[
        bool,
        typer.Option("--fail-on-breach", help="Exit 1 when any issue is in breach (for cron/CI)."),
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=0,
            help=f"List at most this many clocks, most overdue first (0: every one). Unless "
            f"given: {SLA_LISTED} as text, every one with --json.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Issues at risk of or in breach of their SLA.

    Two clocks per issue: respond (until acknowledged) and resolve. Both run from the report
    time and stop while the issue waits in a pause status (blocked, by default). The limits come
    from [sla] in passmuster.toml. With --json, limit, elapsed and remaining are in seconds.
    The counts and --fail-on-breach take every clock, listed or not.
    """
    with desk_session() as desk:
        clocks = desk.sla()
    breached = [c for c in clocks if c.state == "breached"]
    if limit is None:
        limit = 0 if as_json else SLA_LISTED
    listed = clocks[:limit] if limit else clocks
    if as_json:
        emit_json([_clock_json(c) for c in listed])
    elif not clocks:
        say("[green]Every active issue is within its SLA.[/]")
    else:
        print_listing(_sla_table(listed))
        if len(listed) < len(clocks):
            say(f"{len(clocks) - len(listed)} more not listed: --limit 0 lists every one")
        at_risk = len(clocks) - len(breached)
        say(f"{len(breached)} breached, {at_risk} at risk")
    if fail_on_breach and breached:
        raise typer.Exit(1)


def _clock_json(clock: SlaStatus) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(clock)
    return {"ref": f"#{clock.number:03d}", **data}


def _sla_table(clocks: Sequence[SlaStatus]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, header_style="bold dim", pad_edge=False)
    for name in ("#", "Sev", "Status", "Clock", "State", "Used", "Limit", "Due", "Assignee"):
        table.add_column(name, no_wrap=True)
    table.add_column("Title", ratio=1, overflow="fold", min_width=16)
    for clock in clocks:
        state_style = "bold red" if clock.state == "breached" else "yellow"
        if clock.state == "breached":
            due = f"[red]{duration_text(-clock.remaining)} over[/]"
        else:
            due = local_time(clock.due_at)
        table.add_row(
            f"#{clock.number:03d}",
            styled(clock.severity, SEVERITY_STYLE),
            styled(clock.status, STATUS_STYLE),
            clock.clock,
            f"[{state_style}]{clock.state.replace('_', ' ')}[/]",
            duration_text(clock.elapsed),
            duration_text(clock.limit),
            due,
            escape(clock.assignee or ""),
            escape(clock.title),
        )
    return table


# --- escalate -------------------------------------------------------------------------------


@app.command("escalate")
def escalate_command(as_json: JsonOption = False) -> None:
    """Record one escalation event per SLA breach.

    Idempotent: a breach already escalated is not escalated again, so this can run from cron.
    Notifiers pick the `escalated` events up from the timeline. As text, the first 50 are
    listed and the rest counted; --json lists every one.
    """
    with desk_session() as desk:
        events = desk.escalate(actor=actor())
    if as_json:
        emit_json(events)
        return
    if not events:
        say("No new SLA breaches to escalate.")
        return
    # A desk far behind escalates thousands at once: a screenful names the first of them.
    for event in events[:SLA_LISTED]:
        due = f", due {local_time(_parse_iso(event.old))}" if event.old else ""
        say(f"Escalated [bold]#{event.issue:03d}[/]: {event.field} clock {event.new}{due}")
    if len(events) > SLA_LISTED:
        issues = len({event.issue for event in events})
        say(
            f"{len(events) - SLA_LISTED} more escalated, not listed: {len(events)} clocks of "
            f"{issues} issues in all (--json lists every one)"
        )


def _parse_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# --- stats ----------------------------------------------------------------------------------


@app.command("stats")
def stats_command(
    since: Annotated[
        str | None, typer.Option(help="Only issues reported on or after this date (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only issues reported before this date (YYYY-MM-DD).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Statistics: month x severity, SLA attainment, MTTA/MTTR.

    The month x severity table with totals and average and median resolution time; counts by
    status, severity and type; the priority matrix; SLA attainment; mean time to acknowledge and
    to resolve; the services with the most open issues; and, once deployments are recorded,
    DORA's four keys over them (deployment frequency, lead time for changes, change failure
    rate, time to restore; `delivery` in the JSON).
    """
    start = parse_when(since, option="--since") if since else None
    end = parse_when(until, option="--until") if until else None
    if start is not None and end is not None and end <= start:
        raise BadInput(f"--until {until} is not after --since {since}", field="until")
    from passmuster.usecases.deployments import delivery

    with desk_session() as desk:
        stats = desk.stats(since=start, until=end)
        keys = delivery(desk, since=start, until=end)
    if as_json:
        emit_json({**stats.to_dict(), "delivery": keys.to_dict()}, plain=True)
        return
    from rich.table import Table

    out = console()
    for part in stats_view(stats):
        if isinstance(part, Table):
            print_listing(part, out)
        else:
            out.print(part)
        out.print()
    if keys.deployments or keys.failed:
        from passmuster.cli.deploy import delivery_view

        out.print(delivery_view(keys))


# The priority matrix lists this many issues per priority, most severe first, and counts the
# rest (`--json` has them all): a desk with tens of thousands of active issues printed one
# line for each.
MATRIX_LISTED = 10


def stats_view(stats: Stats) -> list[RenderableType]:
    """Rich tables for a `Stats`: what the coordination logs tallied by hand."""
    from rich.columns import Columns
    from rich.markup import escape
    from rich.table import Table

    def mean(value: float | None) -> str:
        return hours_text(value) if value is not None else "n/a (nothing yet)"

    window = ""
    if stats.since or stats.until:
        window = (
            f" reported {local_time(stats.since) or 'ever'} .. {local_time(stats.until) or 'now'}"
        )
    parts: list[RenderableType] = [
        f"[bold]{stats.total}[/] issue{'' if stats.total == 1 else 's'}{window}, "
        f"[bold]{stats.active}[/] active. "
        f"Mean time to acknowledge [bold]{mean(stats.mtta_hours)}[/], "
        f"to resolve [bold]{mean(stats.mttr_hours)}[/]."
    ]

    months = report_table("Issues by month and severity")
    months.add_column("Month", no_wrap=True)
    for severity in SEVERITY_STYLE:
        months.add_column(severity.capitalize(), justify="right")
    for name in ("Total", "Resolved", "Avg resolution", "Median resolution"):
        months.add_column(name, justify="right")
    for row in [*stats.months, stats.totals]:
        bold = row is stats.totals
        cells = [
            row.label,
            *(str(row.by_severity.get(s, 0)) for s in SEVERITY_STYLE),
            str(row.total),
            str(row.resolved),
            hours_text(row.avg_resolution_hours),
            hours_text(row.median_resolution_hours),
        ]
        months.add_row(*cells, style="bold" if bold else None, end_section=bold)
    parts.append(months)

    def counts(title: str, data: Mapping[str, int], styles: Mapping[str, str]) -> Table:
        table = Table(title=title, title_justify="left", box=None, show_header=False)
        table.add_column()
        table.add_column(justify="right")
        for key, value in data.items():
            table.add_row(styled(key, styles), str(value))
        return table

    parts.append(
        Columns(
            [
                counts("By status", stats.by_status, STATUS_STYLE),
                counts("By severity", stats.by_severity, SEVERITY_STYLE),
                counts("By type", stats.by_type, {}),
            ],
            padding=(0, 4),
        )
    )

    matrix = report_table("Priority matrix (active issues)")
    matrix.add_column("Priority", no_wrap=True)
    matrix.add_column("Issues", ratio=1)
    for priority, refs in stats.priority_matrix.items():
        lines = [
            f"#{r.number:03d} {styled(r.severity, SEVERITY_STYLE)} {escape(r.title)}"
            for r in refs[:MATRIX_LISTED]
        ]
        if len(refs) > MATRIX_LISTED:
            lines.append(f"[dim]… and {len(refs) - MATRIX_LISTED} more[/]")
        matrix.add_row(priority.replace("_", " "), "\n".join(lines) or "[dim]-[/]")
    parts.append(matrix)

    sla = report_table("SLA attainment")
    for name in ("Clock", "Met", "Missed", "Running", "Attainment"):
        sla.add_column(name, justify="left" if name == "Clock" else "right")
    for attainment in stats.sla:
        percent = f"{attainment.percent:.1f}%" if attainment.percent is not None else "-"
        sla.add_row(
            attainment.clock,
            str(attainment.met),
            str(attainment.missed),
            str(attainment.pending),
            percent,
        )
    parts.append(sla)

    if stats.top_services:
        top = report_table("Most open issues")
        top.add_column("Service")
        top.add_column("Open", justify="right")
        for item in stats.top_services:
            top.add_row(escape(item.service), str(item.open))
        parts.append(top)
    return parts
