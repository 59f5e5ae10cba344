"""Tracker commands: create the desk, edit issues, move them through the workflow, link them.

Filing, listing, searching, showing and claiming live in `cli/frequent.py`, declared without
Typer so that they start quickly. Every command prints text for people, or JSON with `--json`.
User errors are `PassmusterError`s that the command group prints as one line with their exit code
(see `passmuster --help`). The desk and Rich are imported inside the commands so that
`passmuster --help` never pays for them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer

from passmuster.cli import frequent
from passmuster.cli._output import (
    STATUS_STYLE,
    BadInput,
    JsonOption,
    actor,
    database_url,
    desk_session,
    display_url,
    emit_json,
    err_console,
    issue_json,
    listing_table,
    local_time,
    print_listing,
    say,
    styled,
)
from passmuster.core.durations import duration_text

# Shared with the frequent commands, which live in their own module to start quickly.
_many = frequent.many
_escape = frequent.escape_markup
_until = frequent.lease_until
print_issue_table = frequent.print_issue_table

if TYPE_CHECKING:
    from passmuster.core.issues import Issue, Status
    from passmuster.usecases.desk import Desk

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)


def parse_number(text: str) -> int:
    """An issue number as people write it: 3, 003 or #003."""
    try:
        return frequent.parse_number(text)
    except click.BadParameter as exc:
        raise typer.BadParameter(exc.message) from None


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
        if target.exists() and not target.is_file():
            # Not "a desk already exists": commands walking up for a desk pass it by.
            raise DeskError(f"{target}: is a folder, not a desk; move it away and run init again")
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

    table = listing_table()
    for column in ("agent", "issue", "title", "since", "until", "left"):
        table.add_column(column, no_wrap=column != "title", overflow="fold")
    for issue in held:
        lease = issue.lease
        if lease is None:
            continue
        left = "ran out" if lease.expired(now) else duration_text(lease.remaining(now))
        table.add_row(
            _escape(lease.holder),
            issue.ref,
            _escape(issue.title),
            local_time(lease.since),
            local_time(lease.until),
            left,
        )
    print_listing(table)


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
    from passmuster.scanner.registry import default_registry

    return default_registry().get(text).code
