"""`passmuster scan`, `services`, `rule CODE` and `rules`: the platform checks.

Exit codes for `scan`: 0 nothing at or above --fail-on, 1 findings, 2 bad input or configuration.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer

from passmuster.cli._output import (
    BadInput,
    JsonOption,
    console,
    emit_json,
    listing_table,
    print_listing,
    say,
)
from passmuster.core.visible import escape_controls

if TYPE_CHECKING:
    from passmuster.scanner.config import ScanConfig
    from passmuster.scanner.engine import Progress, ScanResult
    from passmuster.scanner.registry import Registry

app = typer.Typer(add_completion=False, rich_markup_mode=None)

PathArg = Annotated[
    Path, typer.Argument(help="The platform repository to scan.", show_default=False)
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="A passmuster.toml (or pyproject.toml) to use."),
]
_PROGRESS_AFTER = 0.4  # seconds; quick scans print no bar


def _load_config(path: Path, config_file: Path | None) -> ScanConfig:
    from passmuster.scanner.config import ScanConfig
    from passmuster.settings import find_config, load_config

    if not path.exists():
        raise BadInput(f"{path}: no such folder", field="path")
    project = load_config(config_file) if config_file else find_config(path)
    config = ScanConfig.from_project(project)
    if config.baseline and project.root is not None:
        # A baseline named in the configuration file is relative to that file.
        config.baseline = str(project.root / config.baseline)
    return config


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or () for v in value.split(",") if v.strip()]


@app.command("scan")
def scan_command(
    path: PathArg = Path("."),
    output_format: Annotated[
        str,
        typer.Option("--format", "-f", help="text, concise, json, sarif or github."),
    ] = "text",
    select: Annotated[
        list[str] | None, typer.Option(help="Only these rules (codes, prefixes or names).")
    ] = None,
    ignore: Annotated[list[str] | None, typer.Option(help="Skip these rules.")] = None,
    extend_select: Annotated[
        list[str] | None, typer.Option("--extend-select", help="Add rules to the selection.")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on", help="Exit 1 only for findings this severe or worse (default: any)."
        ),
    ] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply safe fixes.")] = False,
    unsafe_fixes: Annotated[
        bool, typer.Option("--unsafe-fixes", help="Also apply fixes that may change behaviour.")
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Show the fixes as a unified diff; change nothing.")
    ] = False,
    baseline: Annotated[
        Path | None, typer.Option(help="Hide findings recorded in this baseline file.")
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option("--write-baseline", help="Record the current findings as the baseline."),
    ] = None,
    record: Annotated[
        bool,
        typer.Option("--record/--no-record", help="Record findings in the desk, if there is one."),
    ] = True,
    config_file: ConfigOption = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="A progress bar on long scans.")
    ] = True,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to this file instead of stdout."),
    ] = None,
    statistics: Annotated[
        bool, typer.Option("--statistics", help="Count findings per rule instead of listing them.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Same as --format json.", show_default=False)
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", min=0.001, help="Stop a scan running longer (seconds; default 600)."
        ),
    ] = None,
) -> None:
    """Check the platform for cross-service breakage."""
    from passmuster.core.gc_pause import gc_paused
    from passmuster.core.issues import Severity
    from passmuster.scanner.engine import read_baseline, scan
    from passmuster.scanner.engine import write_baseline as save_baseline
    from passmuster.scanner.fixes import plan_fixes
    from passmuster.scanner.registry import default_registry
    from passmuster.scanner.reporters import FORMATS, REPORTERS
    from passmuster.usecases.fixing import fix_platform

    if as_json:
        # Every command takes --json; for scan it picks the JSON reporter.
        output_format = "json"
    if output_format not in FORMATS:
        raise BadInput(
            f"--format {output_format!r}: choose one of {', '.join(FORMATS)}", field="format"
        )
    config = _load_config(path, config_file)
    if select:
        config.select = _split(select)
    if ignore:
        config.ignore = [*config.ignore, *_split(ignore)]
    if extend_select:
        config.extend_select = [*config.extend_select, *_split(extend_select)]
    if timeout is not None:
        config.timeout = timeout
    threshold = Severity.parse(fail_on, field_name="--fail-on") if fail_on else config.fail_on
    # The result holds every parsed file until the report is written: see gc_paused.
    with gc_paused():
        registry = default_registry()
        baseline_path = baseline or (Path(config.baseline) if config.baseline else None)
        known = read_baseline(baseline_path) if baseline_path and not write_baseline else None
        root = path.resolve()

        with _progress_bar(progress and sys.stderr.isatty()) as tick:
            result = scan(root, config, registry=registry, baseline=known, progress=tick)
        applied = 0
        if diff:
            plan = plan_fixes(root, result.findings, unsafe=unsafe_fixes)
            text = plan.diff()
            # The repository's own lines: on a terminal, control characters are shown, not sent.
            click.echo(escape_controls(text) if sys.stdout.isatty() else text, nl=False)
            count = len(plan.applied)
            click.echo(f"{count} fix{'es' if count != 1 else ''} would be applied.", err=True)
            sys.exit(1 if count else 0)
        if fix:
            fixed = fix_platform(
                root, result, config, registry=registry, baseline=known, unsafe=unsafe_fixes
            )
            result, applied = fixed.result, fixed.applied
            click.echo(f"Fixed {applied} finding{'s' if applied != 1 else ''}.", err=True)
        if write_baseline is not None:
            count = save_baseline(write_baseline, result.findings)
            click.echo(f"Wrote {count} findings to the baseline {write_baseline}.", err=True)
            sys.exit(0)
        notes: list[str] = []
        if record:
            # Fixes just written are not in any commit yet: HEAD still has the defects.
            notes = _record(root, result, registry, uncommitted=applied > 0)
        report = REPORTERS[output_format](result, registry, notes)
        if statistics:
            report = _statistics(result)
        if output is not None:
            try:
                output.write_text(report, encoding="utf-8")
            except OSError as exc:
                raise BadInput(f"--output {output}: {exc.strerror}", field="output") from None
        elif output_format == "text" and not statistics and sys.stdout.isatty():
            _print_coloured(report)
        else:
            click.echo(report, nl=False)
        if result.newer_python:
            _say_not_analysed(result.newer_python)
        code = result.exit_code(threshold)
        # Let go of the parsed platform while the collector is still paused: with nothing
        # holding it, it is freed at once instead of walked once more on the way out.
        del result
    sys.exit(code)


def _say_not_analysed(paths: list[str]) -> None:
    """On stderr: the Python files the scan could not read because their services run a newer
    Python than the one running passmuster (the report stays what it is)."""
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    shown = ", ".join(escape_controls(p) for p in paths[:3])
    more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
    if len(paths) == 1:
        what = (
            f"1 Python file not analysed: {shown} does not parse with Python {running}, which "
            "runs passmuster, and its service runs a newer Python whose syntax it may use; run "
            "passmuster on that Python to check it"
        )
    else:
        what = (
            f"{len(paths)} Python files not analysed: {shown}{more} do not parse with Python "
            f"{running}, which runs passmuster, and their services run a newer Python whose "
            "syntax they may use; run passmuster on that Python to check them"
        )
    click.echo(f"note: {what}", err=True)


def _statistics(result: ScanResult) -> str:
    """`count code name severity`, most frequent first, as ruff --statistics does."""
    from collections import Counter

    counts = Counter(f.code for f in result.findings)
    names = {rule.code: rule for rule in result.rules}
    lines = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = names.get(code)
        name = rule.name if rule else ""
        fixable = " [*]" if any(f.fix for f in result.findings if f.code == code) else ""
        lines.append(f"{count:5d}  {code:8} {name}{fixable}")
    return "\n".join(lines) + ("\n" if lines else "")


def _print_coloured(report: str) -> None:
    """The text report with severities and service headings coloured, for a terminal."""
    import re

    from rich.markup import escape

    from passmuster.cli._output import SEVERITY_STYLE

    out = console()
    for line in report.splitlines():
        text = escape(line)
        match = re.search(r" \\\[(critical|high|medium|low|info)\] ", text)
        if match:
            style = SEVERITY_STYLE[match.group(1)]
            coloured = f" \\[[{style}]{match.group(1)}[/]] "
            text = text.replace(match.group(0), coloured, 1)
        elif line and not line.startswith(" ") and line.endswith(")"):
            text = f"[bold]{text}[/]"
        out.print(text, highlight=False)


def _record(
    root: Path, result: ScanResult, registry: Registry, *, uncommitted: bool = False
) -> list[str]:
    """Record the findings in the desk when one is found; quietly skip when there is none."""
    from passmuster.cli._output import actor, database_url
    from passmuster.errors import DeskNotFound
    from passmuster.scanner.git import git_commit
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.reconcile import reconcile

    try:
        desk = Desk.open(database_url(), start=root)
    except DeskNotFound:
        from passmuster.settings import find_desk_file

        here = find_desk_file()
        if here is not None:
            # Run from a desk's folder on a platform outside it: the desk is looked for from
            # the platform (checks.md), so say why this desk got nothing.
            click.echo(
                f"note: findings not recorded: no desk in {escape_controls(str(root))} or above "
                f"(the desk at {escape_controls(str(here))} is for another folder; pass "
                "--database-url to record into it, or --no-record)",
                err=True,
            )
        return []
    try:
        outcome = reconcile(
            desk,
            result,
            registry,
            actor=f"scan ({actor()})",
            commit=git_commit(root),
            uncommitted=uncommitted,
        )
    finally:
        desk.close()
    return outcome.lines()


class _progress_bar:
    """A Rich progress bar on stderr that appears only when the scan takes a moment."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Progress | None:
        return self.tick if self.enabled else None

    def tick(self, done: int, total: int, label: str) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < _PROGRESS_AFTER:
                return
            from rich.progress import Progress as Bar

            from passmuster.cli._output import err_console

            self.bar = Bar(console=err_console(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("scanning", total=total)
        self.bar.update(self.task, completed=done, total=total, description=f"scanning {label}")

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command("services")
def services_command(
    path: PathArg = Path("."),
    config_file: ConfigOption = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record", help="Add or update these services in the desk (issues link to them)."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The service catalog discovered from the platform."""
    from passmuster.scanner.catalog import catalog_services
    from passmuster.scanner.context import discover

    config = _load_config(path, config_file)
    platform = discover(path, config)
    services = catalog_services(platform)
    # A file that could not be read leaves the catalog incomplete: say which, and exit 1.
    for problem in platform.problems:
        where = f"{problem.path}:{problem.line}" if problem.line else problem.path
        click.echo(f"warning: {escape_controls(f'{where}: {problem.message}')}", err=True)
    if record:
        from passmuster.cli._output import desk_session

        with desk_session() as desk, desk.transaction():
            for service in services:
                desk.ensure_service(service)
        click.echo(f"Recorded {len(services)} services in the desk.", err=True)
    if as_json:
        emit_json(services)
    else:
        _print_catalog(services)
    if platform.problems:
        sys.exit(1)


def _print_catalog(services: list[Any]) -> None:
    table = listing_table()
    for column in ("service", "kind", "ports"):
        table.add_column(column, no_wrap=True)
    table.add_column("depends on")
    table.add_column("health", no_wrap=True)  # URLs are copied, not read: keep them whole
    table.add_column("defined in", max_width=30, overflow="fold")
    for service in services:
        table.add_row(
            service.name,
            service.kind,
            ", ".join(service.ports),
            ", ".join(service.depends_on),
            service.health_url or "-",
            service.source or "",
        )
    print_listing(table)
    say(f"{len(services)} services")


@app.command("rule")
def rule_command(
    code: Annotated[str, typer.Argument(help="A rule code (ENV003) or name.")],
    as_json: JsonOption = False,
) -> None:
    """Show one rule's documentation."""
    from passmuster.scanner.registry import default_registry

    rule = default_registry().get(code)
    if as_json:
        emit_json(_rule_json(rule))
        return
    click.echo(f"# {rule.code} {rule.name}\n")
    click.echo(f"Severity: {rule.severity.value}. Fix: {rule.fix.value}.\n")
    click.echo(rule.docs())


@app.command("rules")
def rules_command(as_json: JsonOption = False) -> None:
    """List all rules."""
    from passmuster.scanner.registry import default_registry

    rules = default_registry().rules()
    if as_json:
        emit_json([_rule_json(r) for r in rules])
        return
    for rule in rules:
        fix = {"safe": " (fix)", "unsafe": " (unsafe fix)"}.get(rule.fix.value, "")
        summary = rule.summary()
        if len(summary) > 90:
            summary = summary[:89].rstrip() + "…"
        click.echo(f"{rule.code:8} {rule.name:32} {rule.severity.value:8} {summary}{fix}")


def _rule_json(rule: Any) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "severity": rule.severity.value,
        "fix": rule.fix.value,
        "summary": rule.summary(),
        "docs": rule.docs(),
    }
