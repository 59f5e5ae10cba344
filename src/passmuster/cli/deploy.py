"""`passmuster deploy`: roll the platform out service by service, health-gated, and record
every attempt; `deploy status|logs|restart|stop|history` around it.

`passmuster deploy [SERVICE...]` is short for `passmuster deploy run [SERVICE...]`.

Exit codes: 0 every service deployed (or stopped); 1 something failed, timed out or was skipped;
2 bad configuration (an unknown service, a dependency cycle, a template without `{service}`):
nothing is started; 3 no desk; 4 another deploy is deploying some of the same services now;
130 interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer
from typer.core import TyperGroup

from passmuster.cli._output import (
    BadInput,
    JsonOption,
    actor,
    console,
    desk_session,
    emit_json,
    err_console,
    listing_table,
    local_time,
    print_listing,
    report_table,
    styled,
)
from passmuster.core.durations import hours_text, seconds_text

if TYPE_CHECKING:
    from passmuster.core.deploy.attempts import Attempt
    from passmuster.core.deploy.plan import Plan
    from passmuster.deploy.configuration import DeploySetup
    from passmuster.deploy.rollout import RolloutResult
    from passmuster.usecases.deployments import Finished


class _DeployGroup(TyperGroup):
    """`deploy billing` means `deploy run billing`: anything that is not a subcommand is the
    list of services to deploy (and `deploy` alone deploys everything)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(add_completion=False, rich_markup_mode=None)
deploy_app = typer.Typer(cls=_DeployGroup, add_completion=False, rich_markup_mode=None)
app.add_typer(
    deploy_app,
    name="deploy",
    help=(
        "Deploy services in dependency order, health-gated; status, logs, history.\n\n"
        "`passmuster deploy [SERVICE...]` is short for `passmuster deploy run [SERVICE...]`; "
        "`passmuster deploy` alone deploys every service the runner can start. Configure it "
        "under [deploy] in passmuster.toml (docs/deploy.md)."
    ),
)

RESULT_STYLE = {
    "succeeded": "green",
    "failed": "bold red",
    "timed_out": "bold red",
    "skipped": "yellow",
    "interrupted": "magenta",
    "running": "cyan",
}
RESULT_MARK = {
    "succeeded": "✓",
    "failed": "✗",
    "timed_out": "✗",
    "skipped": "-",
    "interrupted": "!",
    "running": "…",
}
HEALTH_STYLE = {"up": "green", "degraded": "yellow", "down": "bold red", "unknown": "dim"}

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="The passmuster.toml to read [deploy] from."),
]
RunnerOption = Annotated[
    str | None,
    typer.Option("--runner", help="auto, compose, local or command (default: [deploy] runner)."),
]


def _setup(config: Path | None, runner: str | None = None) -> DeploySetup:
    from passmuster.deploy.configuration import load_deploy_setup

    if config is not None and not config.is_file():
        raise BadInput(f"{config}: no such configuration file", field="config")
    return load_deploy_setup(config_path=config, runner=runner)


@deploy_app.command("run")
def run_command(
    services: Annotated[
        list[str] | None,
        typer.Argument(help="Services to deploy (default: every one the runner can start)."),
    ] = None,
    parallel: Annotated[
        int | None,
        typer.Option("--parallel", "-j", min=1, max=256, help="Services of a wave at once."),
    ] = None,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going",
            "-k",
            help="After a failure, still deploy everything that does not depend on it.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Print the plan; start nothing.")
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.1, help="Seconds per service (default: [deploy])."),
    ] = None,
    runner: RunnerOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deploy services in dependency order, each gated by its health probe.

    Services start in waves: a wave holds services whose dependencies are all in earlier
    waves, started together (up to --parallel). A service counts as deployed when its monitor
    probe passes within its timeout; what depends on it waits for that. Dependencies outside
    the plan (a database, a service not named) must pass their probe first. Without
    --keep-going the rollout stops after the wave where something failed.

    Every attempt is recorded (`deploy history`), and each failure goes into one deployment
    issue per failure class (`deploy classes`), linked to the scanner finding that predicted
    it; a later successful deploy of the service clears it from the issue.

    Exit codes: 0 all deployed, 1 something failed or was skipped, 2 bad configuration
    (nothing started), 3 no desk, 4 another deploy is deploying some of the same services,
    130 interrupted.
    """
    from passmuster.deploy.operations import plan_for

    setup = _setup(config, runner)
    if timeout is not None:
        for unit in setup.units.values():
            unit.timeout = timeout
    plan = plan_for(setup, services or [])
    if dry_run:
        _print_plan(setup, plan, as_json)
        return
    if not setup.graph:
        raise BadInput(
            f"no services found under {setup.root}: no compose file there (passmuster reads "
            "compose.yaml and docker-compose*.yml, also in subfolders)"
        )
    if not plan.services:
        raise BadInput(
            f"nothing to deploy: the {setup.runner} runner can start none of the services "
            "(see `passmuster deploy --dry-run` for why each is left out)"
        )
    options = " ".join(
        part
        for part in (
            f"--parallel {parallel}" if parallel else "",
            "--keep-going" if keep_going else "",
            f"--timeout {timeout:g}" if timeout else "",
            f"--runner {setup.runner}",
        )
        if part
    )
    outcome = _roll_out(setup, plan, parallel, keep_going, options, as_json)
    if outcome is None:
        raise typer.Exit(130)
    if as_json:
        emit_json(_rollout_json(outcome))
    else:
        _print_summary(outcome)
    if outcome.failed or outcome.skipped or outcome.not_started:
        raise typer.Exit(1)


def _roll_out(
    setup: DeploySetup,
    plan: Plan,
    parallel: int | None,
    keep_going: bool,
    options: str,
    as_json: bool,
) -> RolloutResult | None:
    """Run the rollout; None when it was interrupted."""
    import asyncio
    import signal

    from passmuster.deploy import processes
    from passmuster.deploy.operations import sweep, versions_for
    from passmuster.deploy.rollout import Rollout
    from passmuster.usecases.deployments import DeployLog

    out = err_console() if as_json else console()
    with desk_session() as desk:
        log = DeployLog(desk, actor=actor(), source="cli", keep_output=setup.config.keep_output)
        swept = sweep(log)
        if swept.runs:
            out.print(
                f"[yellow]{len(swept.runs)} earlier deploy run(s) had stopped without finishing "
                f"(run {', '.join(str(r.id) for r in swept.runs)}); {swept.attempts} attempt(s) "
                "recorded as interrupted[/]"
            )
        for other, shared in log.busy(plan.services):
            from passmuster.errors import Conflict

            raise Conflict(
                f"deploy run {other.id} ({other.actor}, started "
                f"{local_time(other.started_at, seconds=True)}) is deploying "
                f"{', '.join(shared)} now; wait for it to finish, or stop it first"
            )
        versions = versions_for(setup, plan.services)
        for service, missing in plan.unknown.items():
            out.print(
                f"[yellow]warning:[/yellow] {service} depends on {', '.join(missing)}, which no "
                "service of the platform is"
            )
        _print_left_out(out, setup)
        started = time.monotonic()
        rollout = Rollout(
            setup,
            plan,
            log,
            parallel=parallel,
            keep_going=keep_going,
            reporter=_printer(out, started),
            versions=versions,
            options=options,
        )

        async def main() -> RolloutResult | None:
            task = asyncio.current_task()
            assert task is not None
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, task.cancel)
            try:
                return await rollout.run(owner=processes.identity(os.getpid()))
            except asyncio.CancelledError:
                return None
            finally:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)

        result = asyncio.run(main())
        if result is None:
            out.print(
                "[magenta]interrupted: the attempts in flight were stopped and recorded as "
                "interrupted[/]"
            )
        return result


def _printer(out: Any, begun: float) -> Any:
    from passmuster.deploy.rollout import Reporter

    class Printer(_Printer, Reporter):
        pass

    return Printer(out, begun)


class _Printer:
    """One line per event of the rollout."""

    def __init__(self, out: Any, begun: float) -> None:
        self.out = out
        self.begun = begun

    def wave(self, index: int, total: int, services: list[str]) -> None:
        if services:
            self.out.print(f"[bold]wave {index}/{total}[/]: {', '.join(services)}")

    def started(self, service: str) -> None:
        pass

    def finished(self, finished: Finished) -> None:
        attempt = finished.attempt
        self.out.print(_attempt_line(attempt, finished))

    def skipped(self, attempt: Attempt) -> None:
        self.out.print(_attempt_line(attempt, None))

    def not_started(self, services: list[str], why: str) -> None:
        self.out.print(f"[yellow]not started: {', '.join(services)} ({why})[/]")


def _attempt_line(attempt: Attempt, finished: Finished | None) -> str:
    from rich.markup import escape

    from passmuster.core.deploy.attempts import short

    result = attempt.result.value
    mark = RESULT_MARK.get(result, "?")
    took = seconds_text(attempt.duration) if attempt.duration is not None else ""
    head = f"  [{RESULT_STYLE.get(result, '')}]{mark} {attempt.service:<20}[/] {took:>6}"
    if attempt.result.value == "succeeded":
        version = short(attempt.service_commit or attempt.commit)
        return head + (f"  [dim]{version}[/]" if version else "")
    why = attempt.reason.splitlines()[0] if attempt.reason else result
    if len(why) > 140:
        why = why[:139] + "…"
    text = f"{head}  {result.replace('_', ' ')}"
    if attempt.failure:
        text += f" [bold]{attempt.failure}[/]"
    text += f": {escape(why)}"
    if attempt.issue:
        text += f"  → #{attempt.issue:03d}"
    return text


def _print_summary(outcome: RolloutResult) -> None:
    from rich.markup import escape

    out = console()
    counts: dict[str, int] = {}
    for finished in outcome.finished:
        counts[finished.attempt.result.value] = counts.get(finished.attempt.result.value, 0) + 1
    if outcome.skipped:
        counts["skipped"] = len(outcome.skipped)
    if outcome.not_started:
        counts["not started"] = len(outcome.not_started)
    parts = [f"{n} {k.replace('_', ' ')}" for k, n in counts.items()]
    out.print(f"\nrun {outcome.run.id}: {', '.join(parts) or 'nothing done'}.")
    for finished in outcome.finished:
        for change in finished.changes:
            issue = change.issue
            verb = {
                "opened": "opened",
                "added": f"now lists {change.service}",
                "updated": f"updated for {change.service}",
                "reopened": "reopened (regression)",
                "cleared": f"{change.service} cleared",
                "resolved": "resolved: no service left",
            }[change.action]
            out.print(f"  {issue.ref} {verb}: {escape(issue.title)} ({', '.join(issue.services)})")
            for number in change.findings:
                out.print(f"      caused by scanner finding #{number:03d}")
            for fix in change.known_fixes:
                first = fix.resolution.strip().splitlines()[0] if fix.resolution.strip() else ""
                out.print(f"      known fix {fix.ref} {escape(fix.title)}: {escape(first)}")


def _rollout_json(outcome: RolloutResult) -> dict[str, Any]:
    from passmuster.cli._output import issue_json, to_jsonable

    changes = [
        {
            "action": c.action,
            "service": c.service,
            "issue": issue_json(c.issue),
            "findings": c.findings,
            "known_fixes": [
                {"number": f.number, "title": f.title, "resolution": f.resolution}
                for f in c.known_fixes
            ],
        }
        for f in outcome.finished
        for c in f.changes
    ]
    return {
        "run": to_jsonable(outcome.run),
        "status": outcome.status.value,
        "attempts": [to_jsonable(f.attempt) for f in outcome.finished]
        + [to_jsonable(a) for a in outcome.skipped],
        "not_started": outcome.not_started,
        "issues": changes,
    }


def _print_plan(setup: DeploySetup, plan: Plan, as_json: bool) -> None:
    import shlex

    from rich.markup import escape

    if as_json:
        emit_json(
            {
                "runner": setup.runner,
                "root": str(setup.root),
                "waves": [
                    [
                        {
                            "service": name,
                            "command": setup.units[name].argv,
                            "cwd": str(setup.units[name].cwd),
                            "probe": _probe_url(setup, name),
                            "timeout": setup.units[name].timeout,
                            "depends_on": list(plan.depends_on.get(name, ())),
                            "checks": list(plan.outside.get(name, ())),
                        }
                        for name in wave
                    ]
                    for wave in plan.waves
                ],
                "left_out": setup.left_out,
                "unknown_dependencies": {k: list(v) for k, v in plan.unknown.items()},
            }
        )
        return
    out = console()
    services, waves = len(plan.services), len(plan.waves)
    out.print(
        f"Plan ({setup.runner} runner, {services} service{'s' if services != 1 else ''} in "
        f"{waves} wave{'s' if waves != 1 else ''}, from {escape(str(setup.root))}):"
    )
    for index, wave in enumerate(plan.waves, start=1):
        out.print(f"[bold]wave {index}[/]")
        for name in wave:
            unit = setup.units[name]
            command = shlex.join(unit.argv) if unit.argv else "(probe only)"
            probe = unit.target.url if unit.target else "its command's exit status"
            out.print(f"  {name}: {command}", markup=False)
            details = f"    healthy when {probe} answers within {unit.timeout:g}s"
            if plan.outside.get(name):
                details += f"; first checks {', '.join(plan.outside[name])}"
            out.print(details, markup=False)
    for service, missing in plan.unknown.items():
        out.print(f"[yellow]warning:[/yellow] {service} depends on unknown {', '.join(missing)}")
    _print_left_out(out, setup)


def _probe_url(setup: DeploySetup, name: str) -> str | None:
    target = setup.units[name].target
    return target.url if target is not None else None


def _print_left_out(out: Any, setup: DeploySetup) -> None:
    from rich.markup import escape

    for service, why in sorted(setup.left_out.items()):
        out.print(f"[dim]left out: {service} ({escape(why)})[/]")


@deploy_app.command("restart")
def restart_command(
    service: Annotated[str, typer.Argument(help="The service to restart.")],
    config: ConfigOption = None,
    runner: RunnerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Restart one service: stop it, deploy it again, wait for its health probe.

    Recorded like any deploy. Exit codes as for `deploy run`.
    """
    from passmuster.deploy.operations import plan_for, stop_services

    setup = _setup(config, runner)
    plan = plan_for(setup, [service])
    stop_services(setup, [service])
    outcome = _roll_out(setup, plan, 1, False, "restart", as_json)
    if outcome is None:
        raise typer.Exit(130)
    if as_json:
        emit_json(_rollout_json(outcome))
    else:
        _print_summary(outcome)
    if outcome.failed or outcome.skipped:
        raise typer.Exit(1)


@deploy_app.command("stop")
def stop_command(
    services: Annotated[
        list[str] | None,
        typer.Argument(help="Services to stop (default: every one the deploy started)."),
    ] = None,
    config: ConfigOption = None,
    runner: RunnerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stop services: the processes a deploy left running here, or their `stop` command
    (`docker compose stop SERVICE` with the compose runner).

    Exit codes: 0 stopped (or not running), 1 a stop command failed, 2 unknown service.
    """
    from passmuster.deploy.operations import stop_services

    setup = _setup(config, runner)
    stopped = stop_services(setup, services or [])
    if as_json:
        emit_json([{"service": s.service, "result": s.how, "ok": s.ok} for s in stopped])
    else:
        if not stopped:
            console().print("nothing to stop")
        for item in stopped:
            style = "green" if item.how == "stopped" else "dim" if item.ok else "bold red"
            console().print(f"  [{style}]{item.service}[/]: {item.how}")
    if not all(s.ok for s in stopped):
        raise typer.Exit(1)


@deploy_app.command("status")
def status_command(
    probe: Annotated[
        bool, typer.Option("--probe/--no-probe", help="Probe each service's health now.")
    ] = True,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Per service: the last attempt, its result and version, health now, open deployment
    issues."""
    from passmuster.deploy.operations import status
    from passmuster.errors import ConfigError

    try:
        setup: DeploySetup | None = _setup(config)
    except ConfigError:
        if config is not None:
            raise
        setup = None  # no platform here: what the desk recorded is still worth showing
    with desk_session() as desk:
        rows = status(desk, setup, probe=probe)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console().print("no deployments recorded yet (run `passmuster deploy`)")
        return

    from passmuster.core.deploy.attempts import short

    table = listing_table("SERVICE", "LAST DEPLOY", "RESULT", "TOOK", "VERSION", "HEALTH", "ISSUES")
    for row in rows:
        last = row.last
        table.add_row(
            row.service,
            local_time(last.started_at) if last else "never",
            styled(last.result.value, RESULT_STYLE) if last else "",
            seconds_text(last.duration) if last and last.duration is not None else "",
            short(last.service_commit or last.commit) if last else "",
            styled(row.health, HEALTH_STYLE),
            " ".join(f"#{n:03d}" for n in row.issues),
        )
    print_listing(table)


@deploy_app.command("logs")
def logs_command(
    service: Annotated[
        str | None, typer.Argument(help="The service (default: every one, a few lines each).")
    ] = None,
    lines: Annotated[int, typer.Option("--lines", "-n", min=1, help="Lines to show.")] = 50,
    attempt: Annotated[
        int | None,
        typer.Option(
            "--attempt", min=1, max=2**31 - 1, help="Show what this recorded attempt kept instead."
        ),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a service's logs: its `logs` command or the log the deploy wrote here, else what
    its last recorded attempt kept (the last 200 lines of output and logs)."""
    from passmuster.errors import NotFound

    if attempt is not None:
        from passmuster.usecases.deployments import attempt as get_attempt

        with desk_session() as desk:
            found = get_attempt(desk, attempt)
        if as_json:
            emit_json(found)
            return
        _print_attempt_text(found, lines)
        return
    setup = _setup(config)
    names = [service] if service else sorted(setup.units)
    if service is not None and service not in setup.units:
        raise NotFound(f"no service {service!r}; known: {', '.join(sorted(setup.units))}")
    from passmuster.deploy.operations import service_logs

    shown: dict[str, str | None] = {}
    for name in names:
        text = service_logs(setup, name, lines=lines if service else min(lines, 10))
        if text is None:
            text = _recorded(name, lines)
        shown[name] = text
    if as_json:
        emit_json(shown)
        return
    if service is not None:
        text = shown[service]
        if text is None:
            raise NotFound(f"no logs for {service}: it has not been deployed from here")
        click.echo(text)
        return
    for name, text in shown.items():
        if text:
            click.echo(click.style(f"==> {name} <==", bold=True))
            click.echo(text)


def _recorded(service: str, lines: int) -> str | None:
    from passmuster.usecases.deployments import history

    try:
        with desk_session() as desk:
            found = history(desk, services=[service], limit=1)
            if not found:
                return None
            from passmuster.usecases.deployments import attempt as get_attempt

            full = get_attempt(desk, found[0].id)
    except Exception:  # no desk here: there is nothing recorded to show
        return None
    text = full.logs or full.output
    return "\n".join(text.splitlines()[-lines:]) if text else None


def _print_attempt_text(found: Attempt, lines: int) -> None:
    click.echo(
        f"attempt {found.id}: {found.service} {found.result.value}"
        + (f" ({found.failure})" if found.failure else "")
        + (f": {found.reason}" if found.reason else "")
    )
    for title, text in (("output", found.output), ("service logs", found.logs)):
        if text:
            click.echo(click.style(f"--- {title} ---", bold=True))
            click.echo("\n".join(text.splitlines()[-lines:]))


@deploy_app.command("history")
def history_command(
    service: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Only this service (repeatable).")
    ] = None,
    result: Annotated[
        list[str] | None,
        typer.Option(
            "--result",
            "-r",
            help="succeeded, failed, timed_out, skipped, interrupted, running (repeatable).",
        ),
    ] = None,
    run: Annotated[
        int | None, typer.Option("--run", min=1, max=2**31 - 1, help="Only this deploy run.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 30,
    as_json: JsonOption = False,
) -> None:
    """Recorded deployment attempts, newest first."""
    from passmuster.core.deploy.attempts import Result, short
    from passmuster.usecases.deployments import history

    results = [Result.parse(r) for value in result or () for r in value.split(",") if r]
    with desk_session() as desk:
        found = history(desk, services=service or [], results=results, run=run, limit=limit)
    if as_json:
        emit_json(found)
        return
    if not found:
        console().print("no deployments recorded")
        return
    from rich.markup import escape

    table = listing_table("ID", "RUN", "SERVICE", "STARTED", "RESULT", "TOOK", "VERSION", "WHY")
    for a in found:
        why = (a.failure + ": " if a.failure else "") + (
            a.reason.splitlines()[0] if a.reason else ""
        )
        table.add_row(
            str(a.id),
            str(a.run) if a.run is not None else a.source,
            a.service,
            local_time(a.started_at, seconds=True),
            styled(a.result.value, RESULT_STYLE),
            seconds_text(a.duration) if a.duration is not None else "",
            short(a.service_commit or a.commit),
            escape(why[:100]) + (f" → #{a.issue:03d}" if a.issue else ""),
        )
    print_listing(table)


@deploy_app.command("classes")
def classes_command(
    name: Annotated[str | None, typer.Argument(help="Show this class's documentation.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The failure classes deploy failures are sorted into, in the order they are tried."""
    from passmuster.usecases.deploy_failures import default_classifiers

    catalogue = default_classifiers()
    chosen = [catalogue.get(name)] if name else catalogue.all()
    if as_json:
        emit_json(
            [
                {
                    "name": c.name,
                    "title": c.title,
                    "severity": c.severity.value,
                    "predicted_by": list(c.predicted_by),
                    "summary": c.summary(),
                    "docs": c.docs(),
                }
                for c in chosen
            ]
        )
        return
    if name:
        c = chosen[0]
        click.echo(f"# {c.name}: {c.title}\n")
        predicted = ", ".join(c.predicted_by) or "none"
        click.echo(f"Severity: {c.severity.value}. Predicted by scanner rules: {predicted}.\n")
        click.echo(c.docs())
        return
    for c in chosen:
        summary = c.summary()
        if len(summary) > 90:
            summary = summary[:89].rstrip() + "…"
        click.echo(f"{c.name:22} {c.severity.value:8} {summary}")


@deploy_app.command("classify")
def classify_command(
    files: Annotated[list[Path], typer.Argument(help="Log files (- for standard input).")],
    exit_code: Annotated[
        int | None, typer.Option("--exit-code", help="The command's exit status, if known.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Name the failure class of a log: a CI job's output, a container's logs.

    Exit codes: 0 a class was found, 1 only the catch-all (unclassified), 2 unreadable file.
    """
    import sys

    from passmuster.core.deploy.attempts import Result, tail
    from passmuster.core.deploy.classify import Evidence
    from passmuster.usecases.deploy_failures import default_classifiers

    texts = []
    for path in files:
        if str(path) == "-":
            texts.append(sys.stdin.read())
            continue
        try:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise BadInput(f"{path}: cannot read: {exc.strerror}", field="files") from None
    failure = default_classifiers().classify(
        Evidence("", Result.FAILED, exit_code=exit_code, output=tail("\n".join(texts), 2000))
    )
    if as_json:
        emit_json(failure)
    else:
        click.echo(f"{failure.name}: {failure.summary}")
        if failure.excerpt:
            click.echo(failure.excerpt)
    if failure.name == "unclassified":
        raise typer.Exit(1)


def delivery_view(keys: Any) -> Any:
    """DORA's four keys as a Rich table (for `passmuster stats`)."""
    table = report_table("Delivery (DORA's four keys, per service deployment)")
    table.add_column("Key")
    table.add_column("Value", justify="right")
    table.add_column("Over")
    rate = keys.change_failure_rate
    table.add_row(
        "Deployment frequency",
        f"{keys.per_day:.2f}/day" if keys.per_day is not None else "-",
        f"{keys.deployments} successful in {keys.days:g} days",
    )
    table.add_row(
        "Lead time for changes",
        hours_text(keys.lead_time_hours),
        f"median; 90th percentile {hours_text(keys.lead_time_p90_hours)}",
    )
    table.add_row(
        "Change failure rate",
        f"{rate * 100:.1f}%" if rate is not None else "-",
        f"{keys.change_failures} of {keys.deployments + keys.failed} deployments",
    )
    table.add_row(
        "Time to restore",
        hours_text(keys.restore_hours),
        f"median; {keys.unrestored} not restored yet" if keys.unrestored else "median",
    )
    return table
