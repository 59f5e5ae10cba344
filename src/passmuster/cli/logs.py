"""`passmuster import` and `passmuster export`: Markdown issue logs in and out of the desk."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from passmuster.cli._output import (
    BadInput,
    JsonOption,
    actor,
    console,
    desk_session,
    emit_json,
    err_console,
    open_desk,
    print_listing,
    to_jsonable,
)

if TYPE_CHECKING:
    from passmuster.logs.model import ImportReport, ReportEntry
    from passmuster.usecases.desk import Desk

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)

# Above this much input the import shows a progress bar (on a terminal).
_PROGRESS_BYTES = 2_000_000
_PROGRESS_FILES = 50


@app.command("import")
def import_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Log files, or folders of them (one issue per file is fine).", show_default=False
        ),
    ],
    log_format: Annotated[
        str,
        typer.Option("--format", help="Force a format: auto, sections, single, table."),
    ] = "auto",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    prefer: Annotated[
        str,
        typer.Option(
            "--prefer",
            help="Whose value wins a field changed both on the desk and in the log since the "
            "last import: desk or log.",
        ),
    ] = "desk",
    as_json: JsonOption = False,
) -> None:
    """Import Markdown issue logs.

    Reads every file first, then applies all of them in one transaction: new issues are filed,
    changed ones updated (with events), unchanged ones left alone. A log imported before is
    merged three ways: what only the log changed is applied, what only the desk changed is
    kept, and a field both changed is a conflict (reported; the desk's value kept unless
    --prefer log). Issues gone from a log are reported, never deleted. Exit 2 when nothing could
    be imported; warnings (file:line) do not change the exit code.
    """
    from passmuster.errors import DeskNotFound
    from passmuster.logs.reader import FAMILIES
    from passmuster.usecases.exporting import desk_root
    from passmuster.usecases.importing import NothingImported, collect_files, import_logs

    if log_format not in FAMILIES:
        raise BadInput(f"--format {log_format!r}: choose from {', '.join(FAMILIES)}")
    if prefer not in ("desk", "log"):
        raise BadInput(f"--prefer {prefer!r}: choose desk or log", field="prefer")
    desk: Desk | None
    try:
        desk = open_desk()
    except DeskNotFound:
        if not dry_run:
            raise
        desk = None
    try:
        root = desk_root(desk) if desk is not None else Path.cwd()
        files = collect_files(paths)
        with _Progress(files, quiet=as_json) as progress:
            try:
                report = import_logs(
                    desk,
                    paths,
                    actor=actor(),
                    dry_run=dry_run,
                    family=log_format,
                    root=root or Path.cwd(),
                    progress=progress,
                    prefer=prefer,
                )
            except NothingImported as exc:
                if as_json:
                    emit_json(_report_json(exc.report))
                else:
                    # The error line that follows names what went wrong with each file; only
                    # the warnings would be lost (and no summary of nothing belongs on stdout).
                    _print_warnings(exc.report)
                raise
    finally:
        if desk is not None:
            desk.close()
    try:
        if as_json:
            emit_json(_report_json(report))
        else:
            _print_report(report)
    except KeyboardInterrupt:
        if dry_run:
            raise
        # Ctrl-C while the report prints: the import is in the desk already, which a bare
        # "aborted" would deny.
        done = ", ".join(
            f"{count} {action}"
            for action, count in _summary(report).items()
            if action in ("created", "updated", "unchanged") and count
        )
        typer.echo(
            f"\ninterrupted while printing the report; the import itself was committed "
            f"({done or 'nothing changed'})",
            err=True,
        )
        raise typer.Exit(130) from None


class _Progress:
    """A Rich progress bar on stderr for large inputs on a terminal; otherwise nothing."""

    def __init__(self, files: list[Path], *, quiet: bool) -> None:
        size = sum(f.stat().st_size for f in files if f.is_file())
        self.enabled = (
            not quiet
            and sys.stderr.isatty()
            and (size >= _PROGRESS_BYTES or len(files) >= _PROGRESS_FILES)
        )
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import Progress

        self.bar = Progress(console=err_console(), transient=True)
        self.bar.start()
        self.task = self.bar.add_task("reading logs", total=None)

        def update(done: int, total: int) -> None:
            self.bar.update(self.task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _report_json(report: ImportReport) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(report)
    data["summary"] = _summary(report)
    return data


def _summary(report: ImportReport) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in report.issues:
        counts[entry.action] = counts.get(entry.action, 0) + 1
    counts["warnings"] = len(report.warnings)
    counts["errors"] = len(report.errors)
    counts["notes"] = len(report.notes)
    if report.conflicts:
        counts["conflicts"] = len(report.conflicts)
    if report.removed:
        counts["removed from the log"] = len(report.removed)
    return counts


# A report of more issues than this lists those the import changed, this many at most: no
# terminal shows more, and laying out a table of 10,000 rows took Rich longer than the import.
# The summary line counts every issue, and `--json` lists each one.
LISTED_ISSUES = 200


def _listed_issues(report: ImportReport) -> list[ReportEntry]:
    """The issues the text report lists: all of a small report; of a large one, those that
    were not unchanged, up to LISTED_ISSUES."""
    if len(report.issues) <= LISTED_ISSUES:
        return list(report.issues)
    return [entry for entry in report.issues if entry.action != "unchanged"][:LISTED_ISSUES]


def _print_report(report: ImportReport) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    listed = _listed_issues(report)
    if listed:
        table = Table(title="Dry run: nothing written" if report.dry_run else None)
        for column in ("Issue", "Log", "Title", "Action", "Fields"):
            table.add_column(column)
        for entry in listed:
            number = f"#{entry.number:03d}" if entry.number else "-"
            fields = ", ".join(entry.changed) if entry.changed else str(len(entry.filled))
            table.add_row(
                number,
                escape(f"{Path(entry.path).name}:{entry.line} {entry.original_id or ''}".strip()),
                escape(entry.title),
                entry.action,
                escape(fields),
            )
        print_listing(table, out)
    if len(listed) < len(report.issues):
        rest = len(report.issues) - len(listed)
        what = f"{rest} more issues" if listed else f"{rest} issues, all unchanged,"
        out.print(f"{what} not listed; --json lists every one")
    for note in report.notes:
        out.print(f"[dim]note  {escape(Path(note.path).name)}:{note.line} {escape(note.title)}[/]")
    _print_warnings(report)
    err = err_console()
    for error in report.errors:
        err.print(f"[red]error:[/] {escape(error)}")
    summary = _summary(report)
    parts = [
        f"{n} {action}"
        for action, n in summary.items()
        if action not in ("warnings", "errors", "notes", "conflicts", "removed from the log")
    ]
    if report.conflicts:
        parts.append(f"{len(report.conflicts)} conflicts (see the warnings)")
    if report.removed:
        parts.append(f"{len(report.removed)} no longer in their log (kept)")
    parts.append(f"{len(report.notes)} log notes kept in this report")
    parts.append(f"{len(report.warnings)} warnings")
    out.print(", ".join(parts))


def _print_warnings(report: ImportReport) -> None:
    from rich.markup import escape

    err = err_console()
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(str(warning))}")


@app.command("export")
def export_command(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the log to this file.")
    ] = None,
    template: Annotated[
        Path | None, typer.Option("--template", help="A Jinja2 template to render with.")
    ] = None,
    per_issue: Annotated[
        Path | None,
        typer.Option("--per-issue", help="Write one file per issue into DIR.", metavar="DIR"),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 when the file(s) on disk differ."),
    ] = False,
    title: Annotated[str, typer.Option("--title", help="The log's heading.")] = "Issue Log",
    notes: Annotated[
        bool,
        typer.Option(
            "--notes",
            help="Append the imported logs' notes (templates, workflows, legends …); importing "
            "the export gives them back to their logs.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Render the desk as a Markdown log.

    Without -o the log goes to stdout. The output is deterministic, so --check can guard a
    committed log in CI or a pre-commit hook.
    """
    from passmuster.usecases.exporting import (
        differs,
        export_log,
        per_issue_files,
        write_if_changed,
    )

    if check and output is None and per_issue is None:
        raise BadInput("--check needs -o FILE or --per-issue DIR to compare with")
    # Checked before rendering, so a wrong path is one line rather than an OSError traceback.
    if output is not None and output.is_dir():
        raise BadInput(f"-o {output}: is a folder; give a file name", field="output")
    if per_issue is not None and per_issue.exists() and not per_issue.is_dir():
        raise BadInput(f"--per-issue {per_issue}: is a file; give a folder", field="per_issue")
    with desk_session() as desk:
        if per_issue is not None:
            files = per_issue_files(desk)
            _export_folder(per_issue, files, check=check, as_json=as_json)
            return
        text = export_log(desk, title=title, template=template, notes=notes)
    if output is None:
        if as_json:
            # --json promises JSON on stdout; the log travels as one string in it.
            emit_json({"title": title, "markdown": text})
        else:
            sys.stdout.write(text)
        return
    if check:
        stale = differs(output, text)
        if as_json:
            emit_json({"file": str(output), "up_to_date": not stale})
        elif stale:
            err_console().print(
                f"{output} differs from the desk; run passmuster export -o {output}"
            )
        else:
            console().print(f"{output} is up to date")
        if stale:
            raise typer.Exit(1)
        return
    try:
        result = write_if_changed(output, text)
    except OSError as exc:
        raise BadInput(f"-o {output}: {exc.strerror}", field="output") from None
    if as_json:
        emit_json({"file": str(output), "changed": result.changed})
    else:
        console().print(f"{'wrote' if result.changed else 'unchanged'} {output}")


def _export_folder(folder: Path, files: dict[str, str], *, check: bool, as_json: bool) -> None:
    from passmuster.usecases.exporting import differs, write_if_changed

    if check:
        stale = sorted(name for name, text in files.items() if differs(folder / name, text))
        # Only files named like an export (`001-title.md`) count: a README may live there too.
        pattern = "[0-9][0-9][0-9]*-*.md"
        extra = (
            sorted(p.name for p in folder.glob(pattern) if p.name not in files)
            if folder.is_dir()
            else []
        )
        if as_json:
            emit_json({"folder": str(folder), "stale": stale, "unknown": extra})
        else:
            for name in stale:
                err_console().print(f"{folder / name} differs from the desk")
            for name in extra:
                err_console().print(f"{folder / name} is not an issue on the desk")
            if not stale and not extra:
                console().print(f"{folder} is up to date ({len(files)} files)")
        if stale or extra:
            raise typer.Exit(1)
        return
    try:
        changed = [
            name for name, text in files.items() if write_if_changed(folder / name, text).changed
        ]
    except OSError as exc:
        raise BadInput(f"--per-issue {folder}: {exc.strerror}", field="per_issue") from None
    if as_json:
        emit_json({"folder": str(folder), "files": sorted(files), "changed": changed})
    else:
        console().print(f"{len(changed)} of {len(files)} files written to {folder}")


@app.command("notes")
def notes_command(
    log: Annotated[
        str | None,
        typer.Argument(help="Only this log (as the import report names it).", show_default=False),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The notes of imported logs: what they say besides their issues.

    Format templates, legends, escalation workflows, contact protocols, statistics …: each
    import keeps a log's notes (replacing the ones before), so they stay readable once the
    desk is the log. `passmuster export --notes` writes them into an exported log.
    """
    from rich.markup import escape

    with desk_session() as desk:
        found = desk.log_notes(log)
    if as_json:
        emit_json([to_jsonable(note) for note in found])
        return
    out = console()
    if not found:
        out.print("no log notes" + (f" for {escape(log)}" if log else ""))
        return
    for note in found:
        out.print(f"[bold]{escape(note.title)}[/]  [dim]{escape(note.path)}:{note.line}[/]")
        if note.body:
            out.print(escape(note.body), soft_wrap=True)
        out.print()
