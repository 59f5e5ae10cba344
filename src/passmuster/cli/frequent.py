"""The commands people and agents run most: file (`new`), find (`list`, `search`, `ready`), read
(`show`) and take work (`claim`).

They are declared on plain click through `cli/_options.py` rather than on Typer, so that each run
starts without importing Typer and pydantic (an agent calls these hundreds of times a session);
their options, help and messages are the same as the Typer commands' in `cli/issues.py`. The desk
and Rich are imported inside the commands, and listings are laid out by hand, for the same reason.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from passmuster.cli import _options as opt
from passmuster.cli._output import (
    SEVERITY_STYLE,
    STATUS_STYLE,
    BadInput,
    actor,
    console,
    desk_session,
    emit_json,
    issue_json,
    local_time,
    say_plain,
    styled,
    to_jsonable,
)
from passmuster.core.durations import duration_text
from passmuster.core.visible import escape_controls

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

    from passmuster.core.findings import Occurrences
    from passmuster.core.issues import Comment, Event, Issue, IssueDraft, IssueQuery
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.runtime_errors import ErrorSummary


def parse_number(text: str) -> int:
    """An issue number as people write it: 3, 003 or #003."""
    raw = str(text).strip().lstrip("#")
    if not raw.isdigit() or int(raw) < 1:
        raise click.BadParameter(f"{text!r} is not an issue number (like 3 or #003)")
    return int(raw)


def many(values: Sequence[str] | None) -> list[str]:
    """Repeated options, each possibly comma-separated: `-s open,blocked -s planned`."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


# --- new ------------------------------------------------------------------------------------


def new_command(
    title: Sequence[str] | None,
    type_: str | None,
    severity: str | None,
    priority: str | None,
    service: Sequence[str] | None,
    component: str | None,
    assignee: str | None,
    reporter: str | None,
    label: Sequence[str] | None,
    description: str | None,
    impact: str | None,
    error_details: Sequence[str] | None,
    attempted: str | None,
    from_file: Path | None,
    edit: bool | None,
    as_json: bool,
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
        "services": many(service) or None,
        "component": component,
        "assignee": assignee,
        "reporter": reporter,
        "labels": many(label) or None,
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
        known = {service.name for service in desk.services()} if draft.services else set()
        issue = desk.file(draft, actor=actor())
        fixes = desk.known_fixes(draft, limit=3)
    if known:
        _warn_new_services(draft.services, known)
    if as_json:
        emit_json({"issue": issue_json(issue), "known_fixes": [_fix_json(f) for f in fixes]})
        return
    print_filed(issue, fixes)


def _warn_new_services(names: Sequence[str], known: set[str]) -> None:
    """On stderr, each service the issue named that the desk did not know but that is spelt
    almost like one it does (filing added it): `--service bilingg` files against a new, empty
    service rather than billing."""
    from passmuster.core.catalog import near_miss_text, near_misses

    for name, close in near_misses(names, known):
        click.echo(
            f"warning: {escape_controls(near_miss_text(name, close))}",
            err=True,
        )


def print_filed(issue: Issue, fixes: Sequence[Issue]) -> None:
    """What `new` prints: the issue filed, then the known fixes, if any."""
    kind = f"{issue.severity.value} {issue.type.value}"
    say_plain(
        f"Filed {issue.ref} {issue.title} ({kind})",
        lambda: (
            f"Filed [bold]{issue.ref}[/] {escape_markup(issue.title)} "
            f"({styled(issue.severity, SEVERITY_STYLE)} {issue.type.value})"
        ),
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
    from functools import partial

    say_plain("", str)
    heading = "Known fixes: resolved issues like this one. Try these first."
    say_plain(heading, lambda: heading.replace("Known fixes", "[bold]Known fixes[/]", 1))
    for fix in fixes:
        body = fix.resolution or fix.workaround or fix.root_cause or "(no resolution written)"
        say_plain(f"\n  {fix.ref} {fix.title}", partial(_fix_heading, fix))
        indented = textwrap.indent(body.strip(), "      ")
        say_plain(indented, partial(escape_markup, indented), soft_wrap=True)


def _fix_heading(fix: Issue) -> str:
    return f"\n  [bold green]{fix.ref}[/] {escape_markup(fix.title)}"


# --- list, search, ready, claim -------------------------------------------------------------


def list_command(
    status: Sequence[str] | None,
    severity: Sequence[str] | None,
    type_: Sequence[str] | None,
    service: Sequence[str] | None,
    label: Sequence[str] | None,
    assignee: str | None,
    text: str | None,
    all_: bool,
    sort: str,
    limit: int,
    as_json: bool,
) -> None:
    """List issues, filtered and sorted.

    Without --status or --all only active issues are listed (not resolved or closed).
    """
    from passmuster.core.issues import IssueQuery, IssueType, Severity, Status

    statuses = [Status.parse(s, field_name="status") for s in many(status)]
    query = IssueQuery(
        statuses=statuses,
        severities=[Severity.parse(s) for s in many(severity)],
        types=[IssueType.parse(t) for t in many(type_)],
        services=many(service),
        labels=many(label),
        assignee=assignee,
        text=text,
        active_only=not statuses and not all_,
        sort=sort,
        limit=_limit(limit),
    )
    with desk_session() as desk:
        issues = desk.issues(query)
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


def search_command(words: Sequence[str], limit: int, as_json: bool) -> None:
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


def ready_command(limit: int, as_json: bool) -> None:
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


def claim_command(
    number: int | None, lease: str | None, as_agent: str | None, as_json: bool
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
    print_claimed(issue, who)


def print_claimed(issue: Issue, who: str) -> None:
    """What `claim` prints: the issue claimed, for whom and until when."""
    until = lease_until(issue)
    say_plain(
        f"Claimed {issue.ref} {issue.title} for {who}{until}",
        lambda: (
            f"Claimed [bold]{issue.ref}[/] {escape_markup(issue.title)} for "
            f"{escape_markup(who)}{until}"
        ),
    )


def _claim_text(issue: Issue) -> str:
    lease = issue.lease
    if lease is None:
        return ""
    return f"by {lease.holder} since {local_time(lease.since)}, until {local_time(lease.until)}"


def lease_until(issue: Issue) -> str:
    if issue.lease is None:
        return ""
    return f" until {local_time(issue.lease.until)}"


# --- show -----------------------------------------------------------------------------------


def show_command(number: int, as_json: bool) -> None:
    """Show one issue with its timeline.

    Every field, the task checklist, files changed, links, comments and every recorded event.
    """
    with desk_session() as desk:
        issue = desk.get(number)
        comments = desk.comments(number)
        events = _all_events(desk, number)
        errors = _error_summary(desk, issue)
        seen = desk.occurrences([number]).get(number)
    if as_json:
        emit_json(
            {
                "issue": issue_json(issue),
                "comments": to_jsonable(comments),
                "events": to_jsonable(events),
                **({"runtime_errors": errors.to_dict()} if errors is not None else {}),
                **({"occurrences": to_jsonable(seen)} if seen is not None else {}),
            }
        )
        return
    print_issue(issue, comments, events, seen, errors)


def print_issue(
    issue: Issue,
    comments: Sequence[Comment],
    events: Sequence[Event],
    seen: Occurrences | None = None,
    errors: ErrorSummary | None = None,
) -> None:
    """What `show` prints in text: laid out by hand when that gives Rich's bytes (see
    `_plain_view`), else through Rich."""
    parts = _issue_view(issue, comments, events, seen)
    plain = _plain_view(parts) if errors is None else None
    if plain is not None:
        sys.stdout.write(plain)
        sys.stdout.flush()
        return
    for part in _rich_view(parts):
        console().print(part)
    if errors is not None:
        console().print(f"[bold]Runtime errors[/]  {escape_markup(errors.line())}")


def _error_summary(desk: Desk, issue: Issue) -> ErrorSummary | None:
    if issue.source is None:  # filed by hand: no runtime errors, nothing to import to say so
        return None
    from passmuster.core.error_events import SOURCE

    if issue.source != SOURCE:  # only runtime-error groups file these; others skip the import
        return None
    from passmuster.usecases.runtime_errors import error_summary

    return error_summary(desk, issue.number)


def _all_events(desk: Desk, number: int) -> list[Event]:
    events: list[Event] = []
    after: int | None = None
    while True:
        page = desk.events(issue=number, after=after, limit=500)
        events.extend(page)
        if len(page) < 500:
            return events
        after = page[-1].id


def _seen_text(seen: Occurrences | None) -> str:
    if seen is None:
        return ""
    scans = "1 scan" if seen.count == 1 else f"{seen.count} scans"
    return (
        f"{scans}; first {local_time(seen.first_seen_at)} ({seen.first_seen_in}), "
        f"last {local_time(seen.last_seen_at)} ({seen.last_seen_in})"
    )


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


# `show`'s view is described once, as parts (below), and laid out either by Rich or, when Rich
# would print its text as it is, by hand (cli/_layout.py): the same bytes without importing Rich.
# A span is text as the desk holds it, shown as it is, with the Rich style it is printed in.
Span = tuple[str, str | None]


class _Heading(NamedTuple):
    """The rule the view starts with."""

    spans: list[Span]


class _Fields(NamedTuple):
    """The fields, one per line: name and value."""

    rows: list[tuple[str, list[Span]]]


class _TextPanel(NamedTuple):
    """Issue text, rendered as Markdown, in a panel."""

    title: str
    text: str


class _CodePanel(NamedTuple):
    """A verbatim error block in a panel."""

    title: str
    block: str


class _LinesPanel(NamedTuple):
    """Lines of text in a panel."""

    title: str
    lines: list[list[Span]]


class _TablePanel(NamedTuple):
    """A borderless table in a panel; a cell that is a string is issue text (Markdown)."""

    title: str
    rows: list[list[list[Span] | str]]


_Part = _Heading | _Fields | _TextPanel | _CodePanel | _LinesPanel | _TablePanel


def _issue_view(
    issue: Issue,
    comments: Sequence[Comment],
    events: Sequence[Event],
    seen: Occurrences | None = None,
) -> list[_Part]:
    from passmuster.core.timeline import describe_event

    parts: list[_Part] = [_Heading([(issue.ref, "bold"), (f" {issue.title}", None)])]
    status: list[Span] = [(issue.status.value, STATUS_STYLE.get(issue.status.value))]
    if issue.close_reason:
        status.append((f" ({issue.close_reason.value})", None))
    rows: list[tuple[str, str | list[Span]]] = [
        ("Status", status),
        ("Severity", [(issue.severity.value, SEVERITY_STYLE.get(issue.severity.value))]),
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
        ("Seen by scans", _seen_text(seen)),
        ("Version", str(issue.version)),
    ]
    parts.append(
        _Fields(
            [
                (name, [(value, None)] if isinstance(value, str) else value)
                for name, value in rows
                if value
            ]
        )
    )

    def long_text(fields: Sequence[tuple[str, str]]) -> None:
        for attr, heading in fields:
            text = getattr(issue, attr)
            if text:
                parts.append(_TextPanel(heading, text))

    long_text(_LONG_FIELDS[:2])  # description and impact come before the errors, as in the logs
    for i, block in enumerate(issue.error_details, start=1):
        title = "Error details" + (f" ({i})" if len(issue.error_details) > 1 else "")
        parts.append(_CodePanel(title, block))
    long_text(_LONG_FIELDS[2:])
    if issue.original_values:
        written = [
            [(f"{name}:", "dim"), (f" {text}", None)]
            for name, text in sorted(issue.original_values.items())
        ]
        parts.append(_LinesPanel("As written in the log", written))
    for section in issue.extra_sections:
        parts.append(_TextPanel(section.name, section.body))
    if issue.tasks:
        done = sum(1 for t in issue.tasks if t.done)
        tasks: list[list[Span]] = [
            [(f"{i}. ", None), ("[x]", "green") if t.done else ("[ ]", None), (f" {t.text}", None)]
            for i, t in enumerate(issue.tasks, start=1)
        ]
        parts.append(_LinesPanel(f"Tasks {done}/{len(issue.tasks)}", tasks))
    if issue.files_changed:
        files: list[list[Span]] = [
            [(f.path, None), *([(" ", None), (f"- {f.note}", "dim")] if f.note else [])]
            for f in issue.files_changed
        ]
        parts.append(_LinesPanel("Files changed", files))
    if issue.links:
        links: list[list[Span]] = [
            [(f"{link.kind.value.replace('_', ' ')} #{link.target:03d}", None)]
            for link in issue.links
        ]
        parts.append(_LinesPanel("Links", links))
    if comments:
        said: list[list[list[Span] | str]] = [
            [[(local_time(c.created_at), "dim")], [(c.author, "bold")], c.body] for c in comments
        ]
        parts.append(_TablePanel("Comments", said))
    if events:
        timeline: list[list[list[Span] | str]] = [
            [[(local_time(e.at), "dim")], [(e.actor, None)], [(describe_event(e), None)]]
            for e in events
        ]
        parts.append(_TablePanel("Timeline", timeline))
    return parts


def _markup(spans: Sequence[Span]) -> str:
    """Rich markup that prints the spans' text as it is, in their styles."""
    return "".join(
        f"[{style}]{escape_markup(text)}[/]" if style else escape_markup(text)
        for text, style in spans
    )


class _HeadingRule:
    """The view's first line: the reference and title in a rule, as Rich's `Rule` draws it;
    a title too long for the line is printed whole above a plain rule instead, where `Rule`
    would cut it ("… from 'fastap… ─") and `show` would not say it anywhere else."""

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.rule import Rule

        title = console.render_str(self.markup)
        if title.cell_len <= options.max_width - 2:  # as Rule fits a title, else it cuts it
            yield Rule(title, align="left")
            return
        yield title
        yield Rule()


def _rich_view(parts: Sequence[_Part]) -> list[RenderableType]:
    """The view as Rich renderables, one `console().print` each."""
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.table import Table

    shown: list[RenderableType] = []
    for part in parts:
        if isinstance(part, _Heading):
            shown.append(_HeadingRule(_markup(part.spans)))
        elif isinstance(part, _Fields):
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column()
            for name, value in part.rows:
                grid.add_row(name, _markup(value))
            shown.append(Padding(grid, (1, 0)))
        else:
            title = escape_markup(part.title)
            body: RenderableType
            if isinstance(part, _TextPanel):
                body = _markdown(part.text)
            elif isinstance(part, _CodePanel):
                from rich.syntax import Syntax  # loads Pygments: only for issues with error blocks

                body = Syntax(escape_controls(part.block), "text", word_wrap=True)
            elif isinstance(part, _LinesPanel):
                body = "\n".join(_markup(line) for line in part.lines)
            else:
                body = Table(show_header=False, box=None, padding=(0, 1))
                for row in part.rows:
                    body.add_row(
                        *(
                            _markdown(cell) if isinstance(cell, str) else _markup(cell)
                            for cell in row
                        )
                    )
            shown.append(Panel(body, title=title, title_align="left"))
    return shown


def _plain_view(parts: Sequence[_Part]) -> str | None:
    """The view as `_rich_view` prints it, laid out without Rich; None when Rich must lay it out
    (a terminal, or text that Rich might print otherwise than as it is)."""
    from passmuster.cli import _layout as lay
    from passmuster.cli._output import _plain_console_width

    width = _plain_console_width()
    # Rich draws its boxes in ASCII on another encoding (a stream without one counts as UTF-8).
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    if width is None or not encoding.lower().startswith("utf"):
        return None

    def plain(spans: Sequence[Span]) -> str:
        return lay.as_is("".join(escape_controls(text) for text, _ in spans))

    lines: list[str] = []
    try:
        for part in parts:
            if isinstance(part, _Heading):
                lines += lay.rule(plain(part.spans), width)
            elif isinstance(part, _Fields):
                lines += lay.padded_grid([(name, plain(v)) for name, v in part.rows], width)
            elif isinstance(part, _TextPanel):
                text = _paragraph_text(part.text)
                lines += lay.panel(lay.as_is(part.title), lay.wrap(text, width - 4), width)
            elif isinstance(part, _LinesPanel):
                body = lay.text_lines([plain(line) for line in part.lines], width - 4)
                lines += lay.panel(lay.as_is(part.title), body, width)
            elif isinstance(part, _TablePanel):
                last_wraps = isinstance(part.rows[0][-1], str)
                cells = [
                    [_paragraph_text(c) if isinstance(c, str) else plain(c) for c in row]
                    for row in part.rows
                ]
                body = lay.table(cells, width - 4, last_wraps=last_wraps)
                lines += lay.panel(lay.as_is(part.title), body, width)
            else:  # error blocks: Rich's syntax highlighting lays them out
                return None
    except lay.NotPlain:
        return None
    return "".join(line + "\n" for line in lines)


def _paragraph_text(text: str) -> str:
    """Issue text that `_markdown` shows as one plain paragraph, else NotPlain."""
    from passmuster.cli._layout import NotPlain, as_is

    shown = escape_controls(text)
    if not _reads_as_one_paragraph(shown):
        raise NotPlain
    return as_is(shown)


# --- shared rendering -----------------------------------------------------------------------


def _markdown(text: str) -> RenderableType:
    """Issue text as Markdown on the terminal: control characters visible, and every link's
    address printed after its text (no terminal hyperlink can hide where it goes).

    Most descriptions are one line of plain words, which Markdown renders as that text: those
    are shown as `_Paragraph` without loading a Markdown parser (longer than the rest of `show`).
    """
    shown = escape_controls(text)
    if _reads_as_one_paragraph(shown):
        return _Paragraph(shown)
    from rich.markdown import Markdown

    return Markdown(shown, hyperlinks=False)


# Characters that can start Markdown syntax anywhere in a line (emphasis, code, links, images,
# HTML, entities, escapes, strikethrough, tables).
_INLINE_SYNTAX = frozenset("\\`*_[]<>&!~|")


def _reads_as_one_paragraph(text: str) -> bool:
    """True when Markdown reads `text` as one paragraph of exactly these characters: one line,
    no surrounding space, opening with a letter or a number that starts no list, and no
    character of inline syntax."""
    if not text or "\n" in text or "\r" in text or text != text.strip():
        return False
    if not text[0].isalnum() or _INLINE_SYNTAX.intersection(text):
        return False
    digits = len(text) - len(text.lstrip("0123456789"))
    return not (0 < digits < 10 and text[digits : digits + 1] in (".", ")"))


class _Paragraph:
    """One paragraph of plain text, rendered as Rich's Markdown renders it (same style, same
    wrapping, and, like Markdown, no measurement of its own inside a table)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        style = console.get_style("none") + console.get_style("markdown.paragraph", default="none")
        yield Text(self.text, style=style, justify="left")


def escape_markup(text: str) -> str:
    """Text from the desk as Rich markup that shows it as it is (control characters visible)."""
    from rich.markup import escape

    return escape(escape_controls(text))


def _sla_badges(desk: Desk, issues: Sequence[Issue]) -> dict[int, str]:
    """number -> a short badge ("resolve breached") for shown issues at risk or in breach.

    A short listing reads the shown issues' own timelines (all in one query); a long one asks
    the desk for every active issue's clocks at once.
    """
    from datetime import UTC, datetime

    from passmuster.core.sla import SlaStatus, issue_clocks, worst_clocks

    active = [i for i in issues if i.status.is_active]
    clocks: list[SlaStatus] = []
    if len(active) > 100:
        shown = {i.number for i in active}
        clocks = [c for c in desk.sla() if c.number in shown]
    else:
        now = datetime.now(UTC)
        policy = desk.sla_policy
        timelines = desk.timelines([i.number for i in active])
        for issue in active:
            clocks += issue_clocks(issue, timelines.get(issue.number, []), policy, now=now)
    return {
        number: f"{c.clock} {'breached' if c.state == 'breached' else 'at risk'}"
        for number, c in worst_clocks(clocks).items()
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
    from passmuster.core.issues import is_still_detected

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
            duration_text(now - opened) if opened else "",
        ]
        if badges:
            row.append(badges.get(issue.number, ""))
        rows.append(row)
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    widths[5] = min(widths[5], 32)
    shown = _listing_columns(headers, widths, width)
    fixed = sum(widths[i] for i in shown if i != 4) + 2 * (len(shown) - 1)
    widths[4] = max(_TITLE_MIN, min(widths[4], width - fixed))
    colors = {**_SEVERITY_COLOR, **_STATUS_COLOR, **_BADGE_COLOR}

    def cell(i: int, text: str) -> str:
        padded = text.rjust(widths[i]) if headers[i] in ("#", "Age") else text.ljust(widths[i])
        style = colors.get(text) if color and i in (1, 2, 8) else None
        return click.style(padded, **style) if style else padded

    header = "  ".join(
        headers[i].rjust(widths[i]) if headers[i] in ("#", "Age") else headers[i].ljust(widths[i])
        for i in shown
    ).rstrip()
    lines = [click.style(header, bold=True, dim=True) if color else header]
    for row in rows:
        title = textwrap.wrap(row[4], widths[4]) or [""]
        services = textwrap.wrap(row[5], widths[5], break_on_hyphens=False) or [""]
        if 5 not in shown:
            services = [""]
        for k in range(max(len(title), len(services))):
            if k == 0:
                cells = {i: cell(i, row[i]) for i in shown}
                cells[4] = title[0].ljust(widths[4])
                if 5 in shown:
                    cells[5] = services[0].ljust(widths[5])
            else:
                cells = {i: " " * widths[i] for i in shown}
                cells[4] = (title[k] if k < len(title) else "").ljust(widths[4])
                if 5 in shown:
                    cells[5] = (services[k] if k < len(services) else "").ljust(widths[5])
            lines.append("  ".join(cells[i] for i in shown).rstrip())
    return lines


_TITLE_MIN = 24  # narrower, a finding's title takes more lines than it is worth
# The columns a narrow terminal leaves out, first to last: # , severity and title always stay.
_NARROW_DROPS = ("Type", "Assignee", "Age", "Services", "Status", "SLA")


def _listing_columns(headers: list[str], widths: list[int], width: int) -> list[int]:
    """The indexes of the columns shown at `width`: all of them when they fit beside a title of
    `_TITLE_MIN`, else without the least needed ones (`_NARROW_DROPS`) until they do, so a
    narrow terminal shows each issue on lines it can hold rather than wrapping every line."""
    shown = list(range(len(headers)))

    def needed() -> int:
        return sum(widths[i] for i in shown if i != 4) + 2 * (len(shown) - 1) + _TITLE_MIN

    for name in _NARROW_DROPS:
        if needed() <= width:
            break
        if name in headers:
            shown.remove(headers.index(name))
    return shown


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

    import click

    tty = sys.stdout.isatty()
    if tty:
        import shutil  # only here: importing it costs more than laying out a short listing

        width = shutil.get_terminal_size((120, 24)).columns
    else:
        # Piped: COLUMNS when it is a width, else 120 (as Rich's console() is set up for a pipe).
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() and int(columns) > 0 else 120
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


# --- the commands, as `passmuster COMMAND` runs them ----------------------------------------

_NUMBER_HELP = "Issue number (3 or #003)."


def _number(*, required: bool, metavar: str, help: str) -> opt.Argument:
    return opt.Argument(
        ["number"],
        type=opt.Parsed(parse_number),
        required=required,
        metavar=metavar,
        help=help,
        type_label="<int>",
        show_default=False,
    )


def _lease() -> opt.Option:
    return opt.text_option(
        "lease",
        "--lease",
        help="How long the claim holds without a renewal: 90s, 45m, 2h (default: [leases] "
        "default in passmuster.toml, 30m).",
        show_default=False,
    )


def _as_agent() -> opt.Option:
    return opt.text_option(
        "as_agent",
        "--as",
        help="Whose claim this is (an agent's name). Default: $PASSMUSTER_ACTOR, else your "
        "login name.",
        show_default=False,
    )


app = click.Group("frequent")
app.add_command(
    opt.command(
        "new",
        new_command,
        [
            opt.Argument(
                ["title"],
                nargs=-1,
                required=False,
                help="The title (quotes optional).",
                type_label="<list[str]>",
                show_default=False,
            ),
            opt.text_option(
                "type_",
                "--type",
                "-t",
                help="bug (the default), incident, finding, coordination, deployment, "
                "security, performance, tech_debt, enhancement.",
            ),
            opt.text_option(
                "--severity", "-S", help="critical, high, medium (the default), low, info."
            ),
            opt.text_option(
                "--priority", "-p", help="immediate, short_term, medium_term, long_term."
            ),
            opt.text_option("--service", help="Affected service (repeatable).", multiple=True),
            opt.text_option("--component", help="Component within the service."),
            opt.text_option("--assignee", help="Who works on it."),
            opt.text_option("--reporter", help="Who reports it (default: you)."),
            opt.text_option("--label", help="Label (repeatable).", multiple=True),
            opt.text_option("--description", help="What went wrong."),
            opt.text_option("--impact", help="How it affects other services."),
            opt.text_option(
                "error_details",
                "--error-details",
                help="A verbatim error block (repeatable).",
                multiple=True,
            ),
            opt.text_option("--attempted", help="What was tried already."),
            opt.Option(
                ["from_file", "--from-file", "-f"],
                help="Read the draft from a Markdown, JSON or YAML file.",
                type=click.Path(path_type=Path),
                type_label="<path>",
                reference="PATH",
            ),
            opt.Option(
                ["edit", "--edit/--no-edit"],
                help="Write the issue in $EDITOR (default: when in a terminal and no title given).",
                default=None,
                show_default=False,
            ),
            opt.json_flag(),
        ],
    )
)
app.add_command(
    opt.command(
        "list",
        list_command,
        [
            opt.text_option("--status", "-s", help="Status (repeatable, or a,b).", multiple=True),
            opt.text_option(
                "--severity", "-S", help="Severity (repeatable, or a,b).", multiple=True
            ),
            opt.text_option(
                "type_", "--type", "-t", help="Type (repeatable, or a,b).", multiple=True
            ),
            opt.text_option(
                "--service", help="Affecting this service (repeatable: any of them).", multiple=True
            ),
            opt.text_option(
                "--label", help="Carrying this label (repeatable: all of them).", multiple=True
            ),
            opt.text_option("--assignee", help="Only issues assigned to this person."),
            opt.text_option("--text", "-q", help="Only issues mentioning these words."),
            opt.flag("all_", "--all", "-a", help="Include resolved and closed issues."),
            opt.text_option(
                "--sort",
                help="urgency, number, -number, updated, -updated, severity, reported.",
                default="number",
            ),
            opt.integer_option("--limit", help="At most this many (0: no limit).", default=50),
            opt.json_flag(),
        ],
    )
)
app.add_command(
    opt.command(
        "search",
        search_command,
        [
            opt.Argument(
                ["words"],
                nargs=-1,
                required=True,
                help="Words to look for.",
                type_label="<list[str]>",
                show_default=False,
            ),
            opt.integer_option("--limit", help="At most this many.", default=20),
            opt.json_flag(),
        ],
    )
)
app.add_command(
    opt.command(
        "ready",
        ready_command,
        [opt.integer_option("--limit", help="At most this many.", default=20), opt.json_flag()],
    )
)
app.add_command(
    opt.command(
        "claim",
        claim_command,
        [
            _number(
                required=False,
                metavar="[NUMBER]",
                help="Claim this issue instead of the next ready one.",
            ),
            _lease(),
            _as_agent(),
            opt.json_flag(),
        ],
    )
)
app.add_command(
    opt.command(
        "show",
        show_command,
        [_number(required=True, metavar="NUMBER", help=_NUMBER_HELP), opt.json_flag()],
    )
)
