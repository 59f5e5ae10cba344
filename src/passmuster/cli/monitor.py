"""`passmuster monitor` and `passmuster status`.

`monitor` probes the platform's services until Ctrl-C (or SIGTERM), opening and resolving
incidents and sending notifications; `--once` probes everything once, prints a table and exits
0 when every target answered, 1 otherwise. `status` shows what the monitor last saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from passmuster.cli._output import (
    BadInput,
    JsonOption,
    console,
    desk_session,
    emit_json,
    err_console,
    listing_table,
    local_time,
    print_listing,
    styled,
)

if TYPE_CHECKING:
    from passmuster.core.health import Flip, ProbeResult
    from passmuster.core.targets import Target
    from passmuster.monitor.configuration import MonitorSetup
    from passmuster.usecases.desk import Desk

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)

HEALTH_STYLE = {"up": "green", "degraded": "yellow", "down": "bold red", "unknown": "dim"}


@app.command("monitor")
def monitor_command(
    once: Annotated[
        bool, typer.Option("--once", help="Probe every target once, print a table and exit.")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="passmuster.toml to read [monitor] from, or a Gatus file."
        ),
    ] = None,
    base_url: Annotated[
        list[str] | None,
        typer.Option(
            "--base-url",
            help="HOST=URL: probe the compose host HOST at URL instead (repeatable).",
        ),
    ] = None,
    metrics: Annotated[
        str | None,
        typer.Option("--metrics", help="Serve Prometheus /metrics on HOST:PORT while running."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Probe the services and open incidents.

    Runs in the foreground until Ctrl-C (exit 130) or SIGTERM (exit 0). Exit codes with
    --once: 0 every target answered, 1 at least one failed.
    """
    import asyncio

    from passmuster.monitor.targets import parse_base_urls

    overrides = parse_base_urls(base_url or [])
    if metrics:  # checked before anything runs, with --once too
        from passmuster.monitor.metrics import parse_listen_address

        parse_listen_address(metrics)
    with desk_session() as desk:
        setup = _load(desk, config, overrides)
        if not setup.targets.targets:
            raise BadInput(nothing_to_monitor(config))
        if once:
            results = asyncio.run(_once(desk, setup))
            _print_once(results, as_json)
            if not all(r.ok for _, r in results):
                raise typer.Exit(1)
            return
        server = None
        if metrics:
            from passmuster.monitor.metrics import serve_metrics

            try:
                server = serve_metrics(metrics, desk)
            except (OSError, ValueError) as exc:
                raise BadInput(f"--metrics {metrics}: cannot listen there ({exc})") from None
            err_console().print(f"metrics on http://{metrics}/metrics")
        try:
            interrupted = asyncio.run(_forever(desk, setup, lambda: _load(desk, config, overrides)))
        finally:
            if server is not None:
                server.shutdown()
        if interrupted:  # Ctrl-C, like every other command: 130 (SIGTERM is a clean stop, 0)
            raise typer.Exit(130)


def nothing_to_monitor(config: Path | None) -> str:
    from passmuster.monitor.configuration import platform_root
    from passmuster.settings import find_config, load_config

    project = load_config(config) if config else find_config()
    return (
        f"nothing to monitor: no probeable services in the compose files of "
        f"{platform_root(project)} nor on the desk, and no [monitor] targets (add "
        "[[monitor.targets]] to passmuster.toml, or run in the platform's folder)"
    )


def _load(desk: Desk, config: Path | None, overrides: dict[str, str]) -> MonitorSetup:
    from passmuster.monitor.configuration import load_setup

    return load_setup(config, desk_services=desk.services(), base_urls=overrides)


async def _once(desk: Desk, setup: MonitorSetup) -> list[tuple[Target, ProbeResult]]:
    from passmuster.monitor.scheduler import Monitor

    async with Monitor(desk, setup) as monitor:
        results = await monitor.probe_all()
        await monitor.deliver()
    return sorted(results, key=lambda pair: pair[0].name)


async def _forever(desk: Desk, setup: MonitorSetup, loader: Any) -> bool:
    """Monitor until SIGINT or SIGTERM; True when it was SIGINT (Ctrl-C)."""
    import asyncio
    import signal

    from passmuster.monitor.scheduler import Monitor

    stop = asyncio.Event()
    received: list[int] = []
    loop = asyncio.get_running_loop()

    def stopping(sig: int) -> None:
        received.append(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping, sig)
    out = err_console()

    def flipped(target: Target, flip: Flip) -> None:
        why = f" ({flip.reason})" if flip.reason else ""
        out.print(
            f"{local_time(_ms(flip.at), seconds=True)} {target.name}: "
            f"{styled(flip.old.value, HEALTH_STYLE)} -> {styled(flip.new.value, HEALTH_STYLE)}{why}"
        )

    out.print(
        f"monitoring {len(setup.targets.targets)} targets; notifications via "
        f"{', '.join(setup.channels) or 'no channel'}; Ctrl-C stops"
    )
    monitor = Monitor(desk, setup, loader=loader, on_flip=flipped)
    await monitor.run(stop)
    out.print(f"stopped after {monitor.probes_done} probes")
    return signal.SIGINT in received


def _ms(at: int) -> Any:
    from passmuster.core.epoch_ms import moment

    return moment(at)


def _print_once(results: list[tuple[Target, ProbeResult]], as_json: bool) -> None:
    _hint_unresolved(results)
    if as_json:
        emit_json(
            [
                {
                    "target": target.name,
                    "service": target.service,
                    "ok": result.ok,
                    "health": result.health.value,
                    "latency_ms": round(result.latency * 1000, 2),
                    "status_code": result.status_code,
                    "reason": result.reason or None,
                }
                for target, result in results
            ]
        )
        return

    table = listing_table("TARGET", "SERVICE", "HEALTH", "LATENCY", "REASON", right={"LATENCY"})
    for target, result in results:
        table.add_row(
            target.name,
            target.service or "",
            styled(result.health.value, HEALTH_STYLE),
            f"{result.latency * 1000:.0f} ms",
            result.reason,
        )
    print_listing(table)
    down = sum(1 for _, r in results if not r.ok)
    console().print(f"{len(results) - down} of {len(results)} up")


def _hint_unresolved(results: list[tuple[Target, ProbeResult]]) -> None:
    """On stderr, how to reach targets whose host names do not resolve: compose's service names
    resolve only inside its network, so a first `monitor --once` on a laptop finds every
    service down without saying why that is not an outage."""
    from urllib.parse import urlsplit

    import click

    hosts: dict[str, int | None] = {}
    for target, result in results:
        if not result.ok and result.reason.startswith("DNS lookup failed"):
            url = urlsplit(target.url)
            hosts.setdefault(url.hostname or target.name, url.port)
    if not hosts:
        return
    names = list(hosts)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    first = names[0]
    example = f"{first}=http://127.0.0.1:{hosts[first] or 'PORT'}"
    click.echo(
        f"hint: {shown} {'does' if len(names) == 1 else 'do'} not resolve here. Compose service "
        "names resolve only inside the compose network; from this machine, map each with "
        f"--base-url NAME=URL (such as {example}) or [monitor.base_urls] in passmuster.toml.",
        err=True,
    )


@app.command("status")
def status_command(as_json: JsonOption = False) -> None:
    """Services with health, latency and open incidents."""
    from passmuster.monitor.channel_status import channels
    from passmuster.usecases.health import overview

    with desk_session() as desk:
        rows = overview(desk)
        outlets = channels(desk)
    if as_json:
        emit_json({"services": rows, "channels": outlets})
        return
    for outlet in outlets:
        if outlet.disabled_reason:
            err_console().print(
                f"[yellow]warning:[/yellow] notification channel {outlet.name} is disabled: "
                f"{outlet.disabled_reason}"
            )
    if not rows:
        console().print("no monitored services yet (run `passmuster monitor`)")
        return

    table = listing_table(
        "SERVICE", "HEALTH", "SINCE", "LATENCY", "INCIDENTS", "LAST FAILURE", right={"LATENCY"}
    )
    for row in rows:
        table.add_row(
            row.service or row.name,
            styled(row.health, HEALTH_STYLE),
            local_time(row.since, seconds=True) if row.since else "",
            f"{row.latency_ms:.0f} ms" if row.latency_ms is not None else "",
            " ".join(f"#{n:03d}" for n in row.open_incidents),
            row.reason or "",
        )
    print_listing(table)
