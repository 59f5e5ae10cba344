"""Tracker commands: create the desk, file issues, move them through the workflow, find them.

Every command prints text for people (Rich panels for `show`, plain aligned tables for listings,
which are printed most and must be quick), or JSON with `--json`. User errors are
`PassmusterError`s that the command group prints as one line with their exit code (see
`passmuster --help`). The desk and Rich are imported inside the commands so that
`passmuster --help` never pays for them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from passmuster.cli._output import (
    SEVERITY_STYLE,
    STATUS_STYLE,
    BadInput,
    JsonOption,
    actor,
    console,
    database_url,
    desk_session,
    display_url,
    emit_json,
    err_console,
    human_duration,
    issue_json,
    local_time,
    say,
    styled,
    to_jsonable,
)
from passmuster.core.visible import escape_controls

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from passmuster.core.issues import Comment, Event, Issue, IssueDraft, IssueQuery, Status
    from passmuster.usecases.desk import Desk

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)


def parse_number(text: str) -> int:
    """An issue number as people write it: 3, 003 or #003."""
    raw = str(text).strip().lstrip("#")
    if not raw.isdigit() or int(raw) < 1:
        raise typer.BadParameter(f"{text!r} is not an issue number (like 3 or #003)")
    return int(raw)


Number = Annotated[
    int,
    typer.Argument(
        parser=parse_number, metavar="NUMBER", help="Issue number (3 or #003).", show_default=False
    ),
]
ExpectedVersion = Annotated[
    int | None,
    typer.Option(
        "--expected-version",
        help="Only change the issue if it is still at this version (compare-and-set).",
    ),
]


def _many(values: Sequence[str] | None) -> list[str]:
    """Repeated options, each possibly comma-separated: `-s open,blocked -s planned`."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


# --- init -----------------------------------------------------------------------------------


@app.command("init")
def init_command(
    folder: Annotated[
        Path, typer.Option("--dir", help="Create the desk in this folder instead of here.")
    ] = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Create a desk in .passmuster/ here.

    With --database-url (or PASSMUSTER_DATABASE_URL) it prepares that database instead.
    """
    from passmuster.errors import Conflict, DeskError, DeskNotFound
    from passmuster.settings import DESK_DIR, DESK_FILE
    from passmuster.usecases.desk import Desk, is_empty_database

    url = database_url()
    if url:
        try:
            existing = Desk.connect(url, create=False)
        except (DeskNotFound, DeskError):
            existing = None  # empty or missing: create it below (a broken one fails there)
        if existing is not None:
            existing.close()
            raise Conflict(f"{display_url(url)} already holds a desk; nothing changed")
        desk = Desk.connect(url, create=True)
        where = display_url(desk.url)
    else:
        target = folder.resolve() / DESK_DIR / DESK_FILE
        # An empty file there (an interrupted init, a `touch`) is no desk: make it one.
        if target.exists() and not is_empty_database(target):
            raise Conflict(f"a desk already exists at {target}; nothing changed")
        desk = Desk.init(folder.resolve())
        where = str(target)
    desk.close()
    if as_json:
        emit_json({"desk": where})
        return
    say(f"Created a desk at [bold]{where}[/]")
    say('File the first issue with: passmuster new "Title" --severity high --service NAME')


# --- new ------------------------------------------------------------------------------------


@app.command("new")
def new_command(
    title: Annotated[
        list[str] | None, typer.Argument(help="The title (quotes optional).", show_default=False)
    ] = None,
    type_: Annotated[
        str | None,
        typer.Option(
            "--type",
            "-t",
            help="bug, incident, finding, coordination, deployment, security, performance, "
            "tech_debt, enhancement.",
        ),
    ] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", "-S", help="critical, high, medium, low, info.")
    ] = None,
    priority: Annotated[
        str | None,
        typer.Option("--priority", "-p", help="immediate, short_term, medium_term, long_term."),
    ] = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Affected service (repeatable).")
    ] = None,
    component: Annotated[str | None, typer.Option(help="Component within the service.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Who works on it.")] = None,
    reporter: Annotated[str | None, typer.Option(help="Who reports it (default: you).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="Label (repeatable).")] = None,
    description: Annotated[str | None, typer.Option(help="What went wrong.")] = None,
    impact: Annotated[str | None, typer.Option(help="How it affects other services.")] = None,
    error_details: Annotated[
        list[str] | None,
        typer.Option("--error-details", help="A verbatim error block (repeatable)."),
    ] = None,
    attempted: Annotated[
        str | None, typer.Option("--attempted", help="What was tried already.")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file", "-f", help="Read the draft from a Markdown, JSON or YAML file."
        ),
    ] = None,
    edit: Annotated[
        bool | None,
        typer.Option(
            "--edit/--no-edit",
            help="Write the issue in $EDITOR (default: when in a terminal and no title given).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """File a new issue.

    After filing, up to three resolved issues that look like it are shown with their resolutions:
    try those first (the self-resolution step).
    """
    from passmuster.cli._drafts import read_draft_file
    from passmuster.core.issues import IssueDraft, coerce_field

    draft = read_draft_file(from_file) if from_file else IssueDraft(title="")
    flags: dict[str, Any] = {
        "title": " ".join(title).strip() if title else None,
        "type": type_,
        "severity": severity,
        "priority": priority,
        "services": _many(service) or None,
        "component": component,
        "assignee": assignee,
        "reporter": reporter,
        "labels": _many(label) or None,
        "description": description,
        "impact": impact,
        "error_details": list(error_details) if error_details else None,
        "attempted_solutions": attempted,
    }
    for name, value in flags.items():
        if value is not None and name != "title":
            setattr(draft, name, coerce_field(name, value))
    if flags["title"]:
        draft.title = flags["title"]
    use_editor = edit if edit is not None else (not draft.title and _interactive())
    if use_editor and not _interactive() and not _chosen_editor():
        # The fallback editor (vi) with no terminal waits for keys that never come.
        raise BadInput(
            "--edit needs a terminal or $EDITOR; pass the fields as options or --from-file FILE"
        )
    if use_editor:
        draft = _draft_in_editor(draft)
    if not draft.title.strip():
        raise BadInput(
            "an issue needs a title: pass it as an argument, use --from-file FILE, or --edit",
            field="title",
        )
    draft.reporter = draft.reporter or actor()
    with desk_session() as desk:
        issue = desk.file(draft, actor=actor())
        fixes = desk.known_fixes(draft, limit=3)
    if as_json:
        emit_json({"issue": issue_json(issue), "known_fixes": [_fix_json(f) for f in fixes]})
        return
    say(
        f"Filed [bold]{issue.ref}[/] {_escape(issue.title)} "
        f"({styled(issue.severity, SEVERITY_STYLE)} {issue.type.value})"
    )
    if fixes:
        _print_known_fixes(fixes)


def _chosen_editor() -> str | None:
    return os.environ.get("VISUAL") or os.environ.get("EDITOR")


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _draft_in_editor(draft: IssueDraft) -> IssueDraft:
    import click

    from passmuster.cli._drafts import editor_template, read_markdown_draft

    text = click.edit(editor_template(draft), extension=".md", require_save=True)
    if text is None:
        raise BadInput("the editor was closed without saving; nothing filed")
    from passmuster.errors import ParseError

    try:
        edited = read_markdown_draft(text, "(editor)")
    except ParseError as exc:
        # Keep what the person typed: a mistake in one line must not cost them the whole text.
        import tempfile

        with tempfile.NamedTemporaryFile(
            "w", prefix="passmuster-draft-", suffix=".md", delete=False, encoding="utf-8"
        ) as kept:
            kept.write(text)
        raise BadInput(
            f"{exc.message}; your text is kept in {kept.name} "
            f"(retry with: passmuster new --from-file {kept.name})"
        ) from None
    # Flags that the template cannot show survive the edit.
    edited.error_details = edited.error_details or draft.error_details
    edited.reporter = edited.reporter or draft.reporter
    return edited


def _fix_json(issue: Issue) -> dict[str, Any]:
    return {
        "ref": issue.ref,
        "number": issue.number,
        "title": issue.title,
        "status": issue.status.value,
        "resolution": issue.resolution,
        "root_cause": issue.root_cause,
        "workaround": issue.workaround,
        "prevention": issue.prevention,
        "resolved_at": to_jsonable(issue.resolved_at),
    }


def _print_known_fixes(fixes: Sequence[Issue]) -> None:
    # Plain indented text rather than rendered Markdown: filing stays quick (no Markdown or
    # syntax-highlighting import), and a resolution's Markdown source reads fine as it is.
    import textwrap

    out = console()
    out.print()
    out.print("[bold]Known fixes[/]: resolved issues like this one. Try these first.")
    for fix in fixes:
        body = fix.resolution or fix.workaround or fix.root_cause or "(no resolution written)"
        out.print(f"\n  [bold green]{fix.ref}[/] {_escape(fix.title)}")
        out.print(_escape(textwrap.indent(body.strip(), "      ")), soft_wrap=True)


# --- list, search, ready, claim -------------------------------------------------------------


@app.command("list")
def list_command(
    status: Annotated[
        list[str] | None, typer.Option("--status", "-s", help="Status (repeatable, or a,b).")
    ] = None,
    severity: Annotated[
        list[str] | None, typer.Option("--severity", "-S", help="Severity (repeatable, or a,b).")
    ] = None,
    type_: Annotated[
        list[str] | None, typer.Option("--type", "-t", help="Type (repeatable, or a,b).")
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="Affecting this service (repeatable: any of them)."),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="Carrying this label (repeatable: all of them)."),
    ] = None,
    assignee: Annotated[
        str | None, typer.Option(help="Only issues assigned to this person.")
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", "-q", help="Only issues mentioning these words.")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", "-a", help="Include resolved and closed issues.")
    ] = False,
    sort: Annotated[
        str, typer.Option(help="urgency, number, -number, updated, -updated, severity, reported.")
    ] = "number",
    limit: Annotated[int, typer.Option(help="At most this many (0: no limit).")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List issues, filtered and sorted.

    Without --status or --all only active issues are listed (not resolved or closed).
    """
    from passmuster.core.issues import IssueQuery, IssueType, Severity, Status

    statuses = [Status.parse(s, field_name="status") for s in _many(status)]
    query = IssueQuery(
        statuses=statuses,
        severities=[Severity.parse(s) for s in _many(severity)],
        types=[IssueType.parse(t) for t in _many(type_)],
        services=_many(service),
        labels=_many(label),
        assignee=assignee,
        text=text,
        active_only=not statuses and not all_,
        sort=sort,
        limit=_limit(limit),
    )
    with desk_session() as desk:
        issues = desk.list(query)
        full_page = not as_json and query.limit is not None and len(issues) == query.limit
        total = desk.count(_unlimited(query)) if full_page else len(issues)
        badges = _sla_badges(desk, issues) if not as_json else {}
    if as_json:
        emit_json([issue_json(i) for i in issues])
        return
    _print_issues(issues, badges=badges, empty="No issues match.")
    if total > len(issues):
        _note(f"{len(issues)} of {total} shown; --limit 0 shows all.")


def _limit(limit: int) -> int | None:
    if limit < 0:
        raise BadInput(f"--limit must be 0 (no limit) or more, not {limit}", field="limit")
    return limit or None


def _unlimited(query: IssueQuery) -> IssueQuery:
    from dataclasses import replace

    return replace(query, limit=None, offset=0)


@app.command("search")
def search_command(
    words: Annotated[list[str], typer.Argument(help="Words to look for.", show_default=False)],
    limit: Annotated[int, typer.Option(help="At most this many.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Full-text search over issues.

    Searches titles, descriptions, error details, resolutions and the other text fields, best
    matches first.
    """
    text = " ".join(words).strip()
    if not text:
        raise BadInput("search needs at least one word", field="text")
    with desk_session() as desk:
        issues = desk.search(text, limit=_limit(limit) or 1_000_000)
    if as_json:
        emit_json([issue_json(i) for i in issues])
        return
    _print_issues(issues, empty=f"Nothing matches {text!r}.")


@app.command("ready")
def ready_command(
    limit: Annotated[int, typer.Option(help="At most this many.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Unblocked work, most urgent first.

    Active issues that are not blocked and not waiting on another open issue.
    """
    with desk_session() as desk:
        issues = desk.ready(limit=_limit(limit) or 1_000_000)
        badges = _sla_badges(desk, issues) if not as_json else {}
    if as_json:
        emit_json([issue_json(i) for i in issues])
        return
    _print_issues(issues, badges=badges, empty="Nothing is ready: no unblocked, unassigned work.")


AsAgent = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Whose claim this is (an agent's name). Default: $PASSMUSTER_ACTOR, else your "
        "login name.",
        show_default=False,
    ),
]
LeaseOption = Annotated[
    str | None,
    typer.Option(
        "--lease",
        help="How long the claim holds without a renewal: 90s, 45m, 2h (default: [leases] "
        "default in passmuster.toml, 30m).",
        show_default=False,
    ),
]


@app.command("claim")
def claim_command(
    number: Annotated[
        int | None,
        typer.Argument(
            parser=parse_number,
            metavar="[NUMBER]",
            help="Claim this issue instead of the next ready one.",
            show_default=False,
        ),
    ] = None,
    lease: LeaseOption = None,
    as_agent: AsAgent = None,
    as_json: JsonOption = False,
) -> None:
    """Atomically assign the next ready issue (or NUMBER) to you, for a while.

    The claim takes a lease: renew it while you work (`passmuster renew N`), give the issue
    back with `passmuster release N`; a lease that runs out returns the issue to the ready
    queue. Many agents can claim at once: each gets a different issue. Exits 3 when nothing is
    ready, 4 when NUMBER is claimed by someone else.
    """
    from passmuster.errors import NotFound

    who = as_agent or actor()
    with desk_session() as desk:
        issue = desk.claim(actor=who, number=number, lease=lease)
    if issue is None:
        raise NotFound("nothing is ready to claim")
    if as_json:
        emit_json(issue_json(issue))
        return
    say(f"Claimed [bold]{issue.ref}[/] {_escape(issue.title)} for {_escape(who)}{_until(issue)}")


@app.command("renew")
def renew_command(
    number: Number, lease: LeaseOption = None, as_agent: AsAgent = None, as_json: JsonOption = False
) -> None:
    """Extend your claim on an issue (from now, by --lease or the default).

    A claim that already ran out cannot be renewed: claim the issue again. Exits 4 when the
    issue is not claimed by you.
    """
    who = as_agent or actor()
    with desk_session() as desk:
        issue = desk.renew(number, actor=who, lease=lease)
    if as_json:
        emit_json(issue_json(issue))
        return
    say(f"Renewed [bold]{issue.ref}[/] for {_escape(who)}{_until(issue)}")


@app.command("release")
def release_command(number: Number, as_agent: AsAgent = None, as_json: JsonOption = False) -> None:
    """Give a claimed issue back to the ready queue.

    It is unassigned and, if it was in progress, open again. Only the claim's holder can
    release it.
    """
    who = as_agent or actor()
    with desk_session() as desk:
        issue = desk.release(number, actor=who)
    if as_json:
        emit_json(issue_json(issue))
        return
    say(f"Released [bold]{issue.ref}[/]: back in the ready queue ({issue.status.value})")


@app.command("agents")
def agents_command(as_json: JsonOption = False) -> None:
    """Who holds which issue: every claim, since when and until when.

    A claim past its end is marked `ran out` until it is returned to the ready queue (by the
    next claim, `serve`, `passmuster mcp` or the monitor, within their sweep interval).
    """
    with desk_session() as desk:
        held = desk.held()
        now = desk.clock()
    if as_json:
        from passmuster.core.leases import claims_table

        emit_json(claims_table(held, now))
        return
    if not held:
        say("No issue is claimed.")
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("agent", "issue", "title", "since", "until", "left"):
        table.add_column(column, no_wrap=column != "title", overflow="fold")
    for issue in held:
        lease = issue.lease
        if lease is None:
            continue
        left = "ran out" if lease.expired(now) else human_duration(lease.remaining(now))
        table.add_row(
            _escape(lease.holder),
            issue.ref,
            _escape(issue.title),
            local_time(lease.since),
            local_time(lease.until),
            left,
        )
    console().print(table)


def _claim_text(issue: Issue) -> str:
    lease = issue.lease
    if lease is None:
        return ""
    return f"by {lease.holder} since {local_time(lease.since)}, until {local_time(lease.until)}"


def _until(issue: Issue) -> str:
    if issue.lease is None:
        return ""
    return f" until {local_time(issue.lease.until)}"


# --- show -----------------------------------------------------------------------------------


@app.command("show")
def show_command(number: Number, as_json: JsonOption = False) -> None:
    """Show one issue with its timeline.

    Every field, the task checklist, files changed, links, comments and every recorded event.
    """
    from passmuster.usecases.runtime_errors import error_summary

    with desk_session() as desk:
        issue = desk.get(number)
        comments = desk.comments(number)
        events = _all_events(desk, number)
        errors = error_summary(desk, number)
    if as_json:
        emit_json(
            {
                "issue": issue_json(issue),
                "comments": to_jsonable(comments),
                "events": to_jsonable(events),
                **({"runtime_errors": errors.to_dict()} if errors is not None else {}),
            }
        )
        return
    for part in _issue_view(issue, comments, events):
        console().print(part)
    if errors is not None:
        console().print(f"[bold]Runtime errors[/]  {_escape(errors.line())}")


def _all_events(desk: Desk, number: int) -> list[Event]:
    events: list[Event] = []
    after: int | None = None
    while True:
        page = desk.events(issue=number, after=after, limit=500)
        events.extend(page)
        if len(page) < 500:
            return events
        after = page[-1].id


_LONG_FIELDS = (
    ("description", "Description"),
    ("impact", "Impact"),
    ("attempted_solutions", "Attempted solutions"),
    ("root_cause", "Root cause"),
    ("workaround", "Workaround"),
    ("resolution", "Resolution"),
    ("prevention", "Prevention"),
    ("test_results", "Test results"),
)


def _issue_view(issue: Issue, comments: Sequence[Comment], events: Sequence[Event]) -> list[Any]:
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.rule import Rule
    from rich.syntax import Syntax
    from rich.table import Table

    parts: list[RenderableType] = [
        Rule(f"[bold]{issue.ref}[/] {_escape(issue.title)}", align="left")
    ]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    status = styled(issue.status, STATUS_STYLE)
    if issue.close_reason:
        status += f" ({issue.close_reason.value})"
    rows: list[tuple[str, str]] = [
        ("Status", status),
        ("Severity", styled(issue.severity, SEVERITY_STYLE)),
        ("Priority", issue.priority.value if issue.priority else ""),
        ("Type", issue.type.value),
        ("Services", ", ".join(issue.services)),
        ("Component", issue.component or ""),
        ("Reporter", issue.reporter or ""),
        ("Assignee", issue.assignee or ""),
        ("Claimed", _claim_text(issue)),
        ("Reported", local_time(issue.reported_at or issue.created_at)),
        ("Acknowledged", local_time(issue.acknowledged_at)),
        ("Resolved", local_time(issue.resolved_at)),
        ("Updated", local_time(issue.updated_at)),
        ("Labels", ", ".join(issue.labels)),
        ("Original ID", issue.original_id or ""),
        ("Source", issue.source or ""),
        ("Version", str(issue.version)),
    ]
    for name, value in rows:
        if value:
            grid.add_row(name, value if name in ("Status", "Severity") else _escape(value))
    parts.append(Padding(grid, (1, 0)))

    def long_text(fields: Sequence[tuple[str, str]]) -> None:
        for attr, heading in fields:
            text = getattr(issue, attr)
            if text:
                parts.append(Panel(_markdown(text), title=heading, title_align="left"))

    long_text(_LONG_FIELDS[:2])  # description and impact come before the errors, as in the logs
    for i, block in enumerate(issue.error_details, start=1):
        title = "Error details" + (f" ({i})" if len(issue.error_details) > 1 else "")
        shown = Syntax(escape_controls(block), "text", word_wrap=True)
        parts.append(Panel(shown, title=title, title_align="left"))
    long_text(_LONG_FIELDS[2:])
    if issue.original_values:
        written = "\n".join(
            f"[dim]{_escape(name)}:[/] {_escape(text)}"
            for name, text in sorted(issue.original_values.items())
        )
        parts.append(Panel(written, title="As written in the log", title_align="left"))
    for section in issue.extra_sections:
        parts.append(
            Panel(_markdown(section.body), title=_escape(section.name), title_align="left")
        )
    if issue.tasks:
        done = sum(1 for t in issue.tasks if t.done)
        lines = [
            # The boxes are escaped: Rich would read a bare "[x]" as a style and drop it.
            f"{i}. {'[green]' + _escape('[x]') + '[/]' if t.done else _escape('[ ]')} "
            f"{_escape(t.text)}"
            for i, t in enumerate(issue.tasks, start=1)
        ]
        parts.append(
            Panel("\n".join(lines), title=f"Tasks {done}/{len(issue.tasks)}", title_align="left")
        )
    if issue.files_changed:
        lines = [
            f"{_escape(f.path)}" + (f" [dim]- {_escape(f.note)}[/]" if f.note else "")
            for f in issue.files_changed
        ]
        parts.append(Panel("\n".join(lines), title="Files changed", title_align="left"))
    if issue.links:
        lines = [f"{link.kind.value.replace('_', ' ')} #{link.target:03d}" for link in issue.links]
        parts.append(Panel("\n".join(lines), title="Links", title_align="left"))
    if comments:
        table = Table(show_header=False, box=None, padding=(0, 1))
        for comment in comments:
            table.add_row(
                f"[dim]{local_time(comment.created_at)}[/]",
                f"[bold]{_escape(comment.author)}[/]",
                _markdown(comment.body),
            )
        parts.append(Panel(table, title="Comments", title_align="left"))
    if events:
        parts.append(Panel(_timeline(events), title="Timeline", title_align="left"))
    return parts


def _timeline(events: Iterable[Event]) -> Table:
    from rich.table import Table

    from passmuster.core.timeline import describe_event

    table = Table(show_header=False, box=None, padding=(0, 1))
    for event in events:
        table.add_row(
            f"[dim]{local_time(event.at)}[/]",
            _escape(event.actor),
            _escape(describe_event(event)),
        )
    return table


# --- edit -----------------------------------------------------------------------------------


@app.command("edit")
def edit_command(
    number: Number,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    type_: Annotated[str | None, typer.Option("--type", "-t", help="New type.")] = None,
    severity: Annotated[str | None, typer.Option("--severity", "-S", help="New severity.")] = None,
    priority: Annotated[str | None, typer.Option("--priority", "-p", help="'' clears it.")] = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Replace the services (repeatable).")
    ] = None,
    add_service: Annotated[
        list[str] | None, typer.Option("--add-service", help="Add a service (repeatable).")
    ] = None,
    remove_service: Annotated[
        list[str] | None, typer.Option("--remove-service", help="Remove a service (repeatable).")
    ] = None,
    component: Annotated[str | None, typer.Option(help="Component within the service.")] = None,
    reporter: Annotated[str | None, typer.Option(help="Who reported it.")] = None,
    assignee: Annotated[str | None, typer.Option(help="'' unassigns.")] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Replace the labels (repeatable).")
    ] = None,
    add_label: Annotated[
        list[str] | None, typer.Option("--add-label", help="Add a label (repeatable).")
    ] = None,
    remove_label: Annotated[
        list[str] | None, typer.Option("--remove-label", help="Remove a label (repeatable).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="What went wrong.")] = None,
    impact: Annotated[str | None, typer.Option(help="How it affects other services.")] = None,
    error_details: Annotated[
        list[str] | None, typer.Option("--error-details", help="Add a verbatim error block.")
    ] = None,
    attempted: Annotated[
        str | None, typer.Option("--attempted", help="What was tried already.")
    ] = None,
    root_cause: Annotated[str | None, typer.Option("--root-cause", help="Why it happened.")] = None,
    resolution: Annotated[str | None, typer.Option(help="What fixed it.")] = None,
    workaround: Annotated[str | None, typer.Option(help="A workaround in place.")] = None,
    prevention: Annotated[
        str | None, typer.Option(help="What stops it from happening again.")
    ] = None,
    test_results: Annotated[
        str | None, typer.Option("--test-results", help="How the fix was verified.")
    ] = None,
    task: Annotated[list[str] | None, typer.Option("--task", help="Add a task.")] = None,
    done: Annotated[
        list[int] | None, typer.Option("--done", help="Tick task N (1-based, repeatable).")
    ] = None,
    file: Annotated[
        list[str] | None, typer.Option("--file", help="Add a changed file: 'path: note'.")
    ] = None,
    original_id: Annotated[
        str | None, typer.Option("--original-id", help="The ID a log gave it (e.g. #004).")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Move to another status too, e.g. planned or workaround_applied (the workflow "
            "decides what is allowed; closing needs `close --reason`).",
        ),
    ] = None,
    expected_version: ExpectedVersion = None,
    as_json: JsonOption = False,
) -> None:
    """Change fields of an issue.

    Plain flags replace a field; --add-*/--remove-*, --task, --done, --file and --error-details
    change lists. --status moves the issue in the same commit; ack, start, block, resolve, close
    and reopen are the usual moves.
    """
    from passmuster.core.issues import FileChange, Status, Task

    target = Status.parse(status, field_name="status") if status is not None else None
    if target is Status.CLOSED:
        raise BadInput(
            "closing needs a reason: passmuster close N --reason wont_fix|duplicate|invalid"
        )
    with desk_session() as desk, desk.transaction():
        current = desk.get(number)
        changes: dict[str, Any] = {}
        plain = {
            "title": title,
            "type": type_,
            "severity": severity,
            "priority": priority,
            "component": component,
            "reporter": reporter,
            "assignee": assignee,
            "description": description,
            "impact": impact,
            "attempted_solutions": attempted,
            "root_cause": root_cause,
            "resolution": resolution,
            "workaround": workaround,
            "prevention": prevention,
            "test_results": test_results,
            "original_id": original_id,
        }
        changes.update({k: v for k, v in plain.items() if v is not None})
        services = _edit_list(current.services, _many(service), add_service, remove_service)
        if services is not None:
            changes["services"] = services
        labels = _edit_list(current.labels, _many(label), add_label, remove_label)
        if labels is not None:
            changes["labels"] = labels
        if error_details:
            changes["error_details"] = [*current.error_details, *error_details]
        if task or done:
            tasks = list(current.tasks)
            for index in done or ():
                if not 1 <= index <= len(tasks):
                    raise BadInput(
                        f"--done {index}: {current.ref} has {len(tasks)} task(s)", field="tasks"
                    )
                tasks[index - 1] = Task(tasks[index - 1].text, done=True)
            tasks.extend(Task(t) for t in task or ())
            changes["tasks"] = tasks
        if file:
            files = list(current.files_changed)
            for item in file:
                path, _, note = item.partition(":")
                if not path.strip():
                    raise BadInput(f"--file {item!r}: give a path, then ': note'", field="files")
                files.append(FileChange(path.strip(), note.strip()))
            changes["files_changed"] = files
        if not changes and target is None:
            raise BadInput("nothing to change: give at least one field flag (see --help)")
        # Lists were read above, so guard the whole read-modify-write with the version read.
        version = expected_version if expected_version is not None else current.version
        issue = current
        if changes:
            issue = desk.update(number, changes, actor=actor(), expected_version=version)
            version = issue.version
        if target is not None and target is not issue.status:
            issue = desk.transition(number, target, actor=actor(), expected_version=version)
            changes["status"] = target
    if as_json:
        emit_json(issue_json(issue))
        return
    changed = ", ".join(sorted(changes)) or "nothing (already there)"
    say(f"Updated [bold]{issue.ref}[/]: {changed} (version {issue.version})")


def _edit_list(
    current: Sequence[str],
    replace: list[str],
    add: Sequence[str] | None,
    remove: Sequence[str] | None,
) -> list[str] | None:
    if not replace and not add and not remove:
        return None
    items = list(replace) if replace else list(current)
    items.extend(x for x in _many(add) if x not in items)
    dropped = set(_many(remove))
    return [x for x in items if x not in dropped]


# --- workflow -------------------------------------------------------------------------------


def _move(
    number: int,
    to: Status,
    *,
    as_json: bool,
    expected_version: int | None,
    fields: dict[str, Any] | None = None,
    note: str | None = None,
    before: Callable[[Desk, str], None] | None = None,
    instead: Callable[[Desk, str], Issue] | None = None,
    **kwargs: Any,
) -> None:
    """Transition an issue, with an optional comment and preparatory step, all in one commit.

    `instead` makes the move another way (a use case that transitions and records more)."""
    who = actor()
    with desk_session() as desk:
        with desk.transaction():
            if before is not None:
                before(desk, who)
            if instead is not None:
                issue = instead(desk, who)
            else:
                issue = desk.transition(
                    number,
                    to,
                    actor=who,
                    fields=fields or None,
                    expected_version=expected_version,
                    **kwargs,
                )
            if note:
                desk.comment(number, note, actor=who)
        if note:
            issue = desk.get(number)
    if as_json:
        emit_json(issue_json(issue))
        return
    reason = f" ({issue.close_reason.value})" if issue.close_reason else ""
    say(f"[bold]{issue.ref}[/] is now {styled(issue.status, STATUS_STYLE)}{reason}")
    if to.value == "resolved" and not issue.resolution.strip():
        # Known fixes only offer resolved issues that say how they were fixed.
        err_console().print(
            "[yellow]warning:[/] no resolution recorded, so this issue will not be offered as a "
            f"known fix; add one with `passmuster edit {issue.number} --resolution TEXT`"
        )


@app.command("ack")
def ack_command(number: Number, as_json: JsonOption = False) -> None:
    """Acknowledge an issue (starts the resolve clock).

    Records who responded and when; the response SLA is met from this moment.
    """
    with desk_session() as desk:
        issue = desk.acknowledge(number, actor=actor())
    if as_json:
        emit_json(issue_json(issue))
        return
    say(f"[bold]{issue.ref}[/] acknowledged at {local_time(issue.acknowledged_at)}")


@app.command("start")
def start_command(
    number: Number, expected_version: ExpectedVersion = None, as_json: JsonOption = False
) -> None:
    """Move an issue to in_progress."""
    from passmuster.core.issues import Status

    _move(number, Status.IN_PROGRESS, as_json=as_json, expected_version=expected_version)


@app.command("block")
def block_command(
    number: Number,
    reason: Annotated[
        str | None, typer.Option("--reason", "-r", help="What it waits for (kept as a comment).")
    ] = None,
    expected_version: ExpectedVersion = None,
    as_json: JsonOption = False,
) -> None:
    """Mark an issue blocked."""
    from passmuster.core.issues import Status

    note = f"Blocked: {reason}" if reason else None
    _move(number, Status.BLOCKED, as_json=as_json, expected_version=expected_version, note=note)


@app.command("resolve")
def resolve_command(
    number: Number,
    resolution: Annotated[
        str | None, typer.Option("--resolution", "-m", help="What fixed it.")
    ] = None,
    root_cause: Annotated[str | None, typer.Option("--root-cause", help="Why it happened.")] = None,
    prevention: Annotated[
        str | None, typer.Option(help="What stops it from happening again.")
    ] = None,
    workaround: Annotated[str | None, typer.Option(help="A workaround, if any.")] = None,
    test_results: Annotated[
        str | None, typer.Option("--test-results", help="How the fix was verified.")
    ] = None,
    in_next_release: Annotated[
        bool,
        typer.Option(
            "--in-next-release",
            help="A runtime error fixed in the release after the latest one seen: events from "
            "that release or older ones do not reopen it.",
        ),
    ] = False,
    expected_version: ExpectedVersion = None,
    as_json: JsonOption = False,
) -> None:
    """Resolve an issue with its resolution.

    The resolution, root cause and prevention are what `passmuster new` later shows as known
    fixes for look-alike issues, so write them for the next person. A runtime error resolved
    plainly reopens on its next event; with --in-next-release only on an event from a later
    release.
    """
    from passmuster.core.issues import Status

    fields = {
        k: v
        for k, v in {
            "resolution": resolution,
            "root_cause": root_cause,
            "prevention": prevention,
            "workaround": workaround,
            "test_results": test_results,
        }.items()
        if v is not None
    }
    if in_next_release:
        from passmuster.usecases.runtime_errors import resolve_in_next_release

        def resolve(desk: Desk, who: str) -> Issue:
            return resolve_in_next_release(
                desk, number, actor=who, fields=fields, expected_version=expected_version
            )

        _move(number, Status.RESOLVED, as_json=as_json, expected_version=None, instead=resolve)
        return
    _move(
        number, Status.RESOLVED, as_json=as_json, expected_version=expected_version, fields=fields
    )


@app.command("close")
def close_command(
    number: Number,
    reason: Annotated[
        str,
        typer.Option("--reason", "-r", help="wont_fix, duplicate or invalid.", show_default=False),
    ],
    duplicate_of: Annotated[
        int | None,
        typer.Option("--duplicate-of", parser=parse_number, help="The issue this one duplicates."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why (kept as a comment).")] = None,
    expected_version: ExpectedVersion = None,
    as_json: JsonOption = False,
) -> None:
    """Close an issue with a reason.

    For an issue already resolved, closing files it away; for an open one it ends it without a
    fix (wont_fix, duplicate or invalid).
    """
    from passmuster.core.issues import CloseReason, LinkKind, Status

    why = CloseReason.parse(reason)
    if duplicate_of is not None and why is not CloseReason.DUPLICATE:
        raise BadInput("--duplicate-of goes with --reason duplicate", field="reason")
    before = None
    if duplicate_of is not None:
        target = duplicate_of

        def before(desk: Desk, who: str) -> None:
            desk.link(number, LinkKind.DUPLICATE_OF, target, actor=who)

    _move(
        number,
        Status.CLOSED,
        as_json=as_json,
        expected_version=expected_version,
        note=note,
        before=before,
        reason=why,
    )


@app.command("reopen")
def reopen_command(
    number: Number,
    note: Annotated[str | None, typer.Option("--note", help="Why (kept as a comment).")] = None,
    expected_version: ExpectedVersion = None,
    as_json: JsonOption = False,
) -> None:
    """Reopen a resolved or closed issue."""
    from passmuster.core.issues import Status

    _move(number, Status.OPEN, as_json=as_json, expected_version=expected_version, note=note)


@app.command("comment")
def comment_command(
    number: Number,
    body: Annotated[
        list[str], typer.Argument(help="The comment (Markdown); '-' reads it from stdin.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Comment on an issue."""
    text = " ".join(body)
    if text.strip() == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise BadInput("the comment is empty", field="body")
    with desk_session() as desk:
        comment = desk.comment(number, text.strip(), actor=actor())
    if as_json:
        emit_json(comment)
        return
    say(f"Commented on [bold]#{number:03d}[/] as {_escape(comment.author)}")


@app.command("link")
def link_command(
    number: Number,
    kind: Annotated[
        str | None,
        typer.Argument(
            help="duplicate_of, blocks, relates_to, regression_of or caused_by (dashes work too).",
            show_default=False,
        ),
    ] = None,
    target: Annotated[
        int | None,
        typer.Argument(
            parser=parse_number, metavar="TARGET", help="The other issue.", show_default=False
        ),
    ] = None,
    rule: Annotated[
        str | None, typer.Option("--rule", help="Link the issue to a check rule code instead.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Link two issues, or an issue to a rule.

    `passmuster link 3 caused_by 2` records that #003 was caused by #002.
    `passmuster link 3 --rule ENV003` ties #003 to a check rule (kept as the label rule:ENV003).
    """
    from passmuster.core.issues import LinkKind

    who = actor()
    if rule is not None:
        if kind is not None or target is not None:
            raise BadInput("give either KIND TARGET or --rule CODE, not both")
        issue = _link_rule(number, rule, who)
        if as_json:
            emit_json(issue_json(issue))
        else:
            say(f"Linked [bold]{issue.ref}[/] to rule {_rule_code(rule)}")
        return
    if kind is None or target is None:
        # Spelled as the help, the API and the "invalid link kind" message spell them.
        valid = ", ".join(k.value for k in LinkKind)
        raise BadInput(f"give KIND and TARGET, e.g. `link {number} caused_by 2`; kinds: {valid}")
    link_kind = LinkKind.parse(kind)
    with desk_session() as desk:
        issue = desk.link(number, link_kind, target, actor=who)
    if as_json:
        emit_json(issue_json(issue))
        return
    say(f"[bold]{issue.ref}[/] {link_kind.value.replace('_', ' ')} #{target:03d}")


def _link_rule(number: int, code: str, who: str) -> Issue:
    """Tie an issue to a scanner rule: the label `rule:CODE`, which the scanner reads too.

    The code (or the rule's name) must be one the scanner knows; scans then reopen the issue as a
    regression when the rule fires again after it was resolved.
    """
    code = _rule_code(code)
    label = f"rule:{code}"
    with desk_session() as desk:
        current = desk.get(number)
        if label in current.labels:
            return current
        return desk.update(
            number,
            {"labels": [*current.labels, label]},
            actor=who,
            expected_version=current.version,
        )


def _rule_code(text: str) -> str:
    import re

    try:
        from passmuster.scanner.registry import default_registry
    except ImportError:  # a build without the scanner: accept anything shaped like a code
        code = text.strip().upper()
        if not re.fullmatch(r"[A-Z]{2,8}\d{1,4}", code):
            raise BadInput(
                f"--rule {text!r}: a rule code looks like ENV003", field="rule"
            ) from None
        return code
    return default_registry().get(text).code


# --- shared rendering -----------------------------------------------------------------------


def _markdown(text: str) -> RenderableType:
    """Issue text as Markdown on the terminal: control characters visible, and every link's
    address printed after its text (no terminal hyperlink can hide where it goes)."""
    from rich.markdown import Markdown

    return Markdown(escape_controls(text), hyperlinks=False)


def _escape(text: str) -> str:
    """Text from the desk as Rich markup that shows it as it is (control characters visible)."""
    from rich.markup import escape

    return escape(escape_controls(text))


def _sla_badges(desk: Desk, issues: Sequence[Issue]) -> dict[int, str]:
    """number -> a short badge ("resolve breached") for shown issues at risk or in breach.

    A short listing reads the shown issues' own timelines; a long one asks the desk for every
    active issue's clocks at once, which is cheaper than one query per issue.
    """
    from datetime import UTC, datetime

    from passmuster.core.sla import SlaStatus, issue_clocks

    active = [i for i in issues if i.status.is_active]
    clocks: list[SlaStatus] = []
    if len(active) > 100:
        shown = {i.number for i in active}
        clocks = [c for c in desk.sla() if c.number in shown]
    else:
        now = datetime.now(UTC)
        policy = desk.sla_policy
        for issue in active:
            clocks += issue_clocks(issue, _all_events(desk, issue.number), policy, now=now)
    worst: dict[int, SlaStatus] = {}
    for clock in clocks:
        if clock.state not in ("breached", "at_risk"):
            continue
        key = (clock.state != "breached", clock.remaining)
        current = worst.get(clock.number)
        if current is None or key < (current.state != "breached", current.remaining):
            worst[clock.number] = clock
    return {
        number: f"{c.clock} {'breached' if c.state == 'breached' else 'at risk'}"
        for number, c in worst.items()
    }


def issue_lines(
    issues: Sequence[Issue],
    *,
    badges: dict[int, str] | None = None,
    width: int = 120,
    color: bool = False,
) -> list[str]:
    """The table `list`, `search`, `ready` and `service show` print, as lines of text.

    Laid out by hand rather than with a Rich table: measuring every cell of a long listing costs
    Rich more than the query behind it, and listing is what people and agents run most.
    """
    import textwrap
    from datetime import UTC, datetime

    import click

    now = datetime.now(UTC)
    headers = ["#", "Sev", "Status", "Type", "Title", "Services", "Assignee", "Age"]
    if badges:
        headers.append("SLA")
    from passmuster.usecases.reconcile import is_still_detected

    rows: list[list[str]] = []
    for issue in issues:
        opened = issue.reported_at or issue.created_at
        row = [
            issue.ref,
            issue.severity.value,
            # "Claimed resolved, still detected" is a state of its own, not just a label.
            STILL_DETECTED_STATUS if is_still_detected(issue) else issue.status.value,
            issue.type.value,
            escape_controls(issue.title),
            escape_controls(", ".join(issue.services)),
            escape_controls(issue.assignee or ""),
            human_duration(now - opened) if opened else "",
        ]
        if badges:
            row.append(badges.get(issue.number, ""))
        rows.append(row)
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    widths[5] = min(widths[5], 32)
    fixed = sum(w for i, w in enumerate(widths) if i != 4) + 2 * (len(headers) - 1)
    widths[4] = max(24, min(widths[4], width - fixed))
    colors = {**_SEVERITY_COLOR, **_STATUS_COLOR, **_BADGE_COLOR}

    def cell(i: int, text: str) -> str:
        padded = text.rjust(widths[i]) if headers[i] in ("#", "Age") else text.ljust(widths[i])
        style = colors.get(text) if color and i in (1, 2, 8) else None
        return click.style(padded, **style) if style else padded

    header = "  ".join(
        h.rjust(widths[i]) if h in ("#", "Age") else h.ljust(widths[i])
        for i, h in enumerate(headers)
    ).rstrip()
    lines = [click.style(header, bold=True, dim=True) if color else header]
    for row in rows:
        title = textwrap.wrap(row[4], widths[4]) or [""]
        services = textwrap.wrap(row[5], widths[5], break_on_hyphens=False) or [""]
        for k in range(max(len(title), len(services))):
            if k == 0:
                cells = [cell(i, v) for i, v in enumerate(row)]
                cells[4] = title[0].ljust(widths[4])
                cells[5] = services[0].ljust(widths[5])
            else:
                cells = [" " * w for w in widths]
                cells[4] = (title[k] if k < len(title) else "").ljust(widths[4])
                cells[5] = (services[k] if k < len(services) else "").ljust(widths[5])
            lines.append("  ".join(cells).rstrip())
    return lines


_SEVERITY_COLOR: dict[str, dict[str, Any]] = {
    "critical": {"fg": "white", "bg": "red", "bold": True},
    "high": {"fg": "red", "bold": True},
    "medium": {"fg": "yellow"},
    "low": {"fg": "green"},
    "info": {"dim": True},
}
STILL_DETECTED_STATUS = "resolved, still detected"
_STATUS_COLOR: dict[str, dict[str, Any]] = {
    STILL_DETECTED_STATUS: {"fg": "yellow", "bold": True},
    "in_progress": {"fg": "blue"},
    "blocked": {"fg": "magenta"},
    "workaround_applied": {"fg": "yellow"},
    "resolved": {"fg": "green"},
    "closed": {"dim": True},
}
_BADGE_COLOR: dict[str, dict[str, Any]] = {
    "respond breached": {"fg": "red", "bold": True},
    "resolve breached": {"fg": "red", "bold": True},
    "respond at risk": {"fg": "yellow"},
    "resolve at risk": {"fg": "yellow"},
}


def print_issue_table(issues: Sequence[Issue], *, badges: dict[int, str] | None = None) -> None:
    """Print `issue_lines` to stdout, in color on a terminal (unless NO_COLOR is set)."""
    import os
    import shutil

    import click

    tty = sys.stdout.isatty()
    width = (
        shutil.get_terminal_size((120, 24)).columns
        if tty
        else int(os.environ.get("COLUMNS", "120"))
    )
    color = tty and not os.environ.get("NO_COLOR")
    click.echo("\n".join(issue_lines(issues, badges=badges, width=width, color=color)))


def _note(text: str) -> None:
    """A dim line on stdout, without loading Rich (listings print nothing else through it)."""
    import os

    import click

    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    click.echo(click.style(text, dim=True) if color else text)


def _print_issues(
    issues: Sequence[Issue], *, badges: dict[int, str] | None = None, empty: str
) -> None:
    if not issues:
        _note(empty)
        return
    print_issue_table(issues, badges=badges)
