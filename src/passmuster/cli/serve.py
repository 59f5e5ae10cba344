"""`passmuster serve`: the dashboard and the REST API in one process (FastAPI on Uvicorn)."""

from __future__ import annotations

import functools
import gc
import ipaddress
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec

import click

from passmuster.cli import _options as opt
from passmuster.cli._output import (
    BadInput,
    database_url,
    display_url,
    err_console,
    stop_on_sigterm,
)
from passmuster.core.gc_pause import gc_paused
from passmuster.core.visible import escape_controls

if TYPE_CHECKING:
    import uvicorn


P = ParamSpec("P")
# Uvicorn's levels, spelled out so the help and the check need not import uvicorn.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen_problem(host: str, port: int) -> tuple[str, str] | None:
    """Why the server could not listen on `host`:`port`, with the option at fault, else None.

    Asked before anything is printed or opened, so a taken port or an address that is not this
    machine's is one line naming the option, rather than a banner announcing a dashboard
    followed by Uvicorn's log of its failure. The socket is bound as Uvicorn binds it
    (SO_REUSEADDR) and closed at once.
    """
    import errno

    try:
        # The family Uvicorn binds with: IPv6 for an address with a colon, else IPv4.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        found = socket.getaddrinfo(
            host, port, family=family, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
        return (
            f"--host {host}: cannot listen there ({reason}); give an address of this machine, "
            "such as 127.0.0.1",
            "host",
        )
    family, kind, proto, _, address = found[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            shown = f"[{host}]" if ":" in host else host
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"--port {port}: {shown}:{port} is already in use; choose another --port "
                    "or stop what uses it",
                    "port",
                )
            if exc.errno == errno.EADDRNOTAVAIL:
                return f"--host {host}: not an address of this machine", "host"
            return f"cannot listen on {shown}:{port}: {exc.strerror}", "port"
    return None


def server_for(config: uvicorn.Config) -> uvicorn.Server:
    """A Uvicorn server that ends the live streams first when it stops.

    Uvicorn waits for open responses before shutting the app down, and a live stream never
    ends by itself; closing the feed first lets the server stop at once.
    """
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            # The lifespan has frozen what start-up made (api/app.py): collect from here on.
            gc.enable()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            hub = getattr(getattr(config.app, "state", None), "hub", None)
            if hub is not None:
                hub.close()
            await super().shutdown(sockets)

    return Server(config)


def _collector_off(run: Callable[P, None]) -> Callable[P, None]:
    """`run` with the garbage collector off until the server it starts is up.

    What start-up makes (modules, classes, the app, the desk) lives as long as the server, so
    the collector would walk it again and again for nothing: about a tenth of start-up's CPU.
    The server turns it back on once started (`server_for`), the way Python's documentation of
    gc.freeze advises a server to start; after a start that fails, `gc_paused` puts it back.
    """

    @functools.wraps(run)
    def collector_off(*args: P.args, **kwargs: P.kwargs) -> None:
        with gc_paused():
            run(*args, **kwargs)

    return collector_off


@_collector_off
def serve(
    host: str,
    port: int,
    monitor: bool,
    platform: Path | None,
    base_url: Sequence[str] | None,
    monitor_config: Path | None,
    log_level: str,
) -> None:
    """Serve the dashboard and the REST API (no auto-reload: this is the real server)."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    from passmuster.api.app import create_app
    from passmuster.api.config import ServeSettings
    from passmuster.errors import InvalidValue
    from passmuster.usecases.desk import Desk

    # Checked before the desk opens, so a typo is one line and not a server traceback.
    if log_level.lower() not in LOG_LEVELS:
        raise InvalidValue("--log-level", log_level, LOG_LEVELS)
    if platform is not None and not platform.is_dir():
        raise BadInput(f"--platform {platform}: no such folder", field="platform")
    if monitor_config is not None and not monitor_config.is_file():
        raise BadInput(f"--monitor-config {monitor_config}: no such file", field="monitor_config")
    if monitor_config is not None:
        # Read now: a broken file is one line here, not a monitor that never starts.
        from passmuster.monitor.configuration import load_setup

        load_setup(monitor_config, services=[])
    if not host.strip():
        # An empty host would listen on every interface: never by accident.
        raise BadInput("--host: give an address, such as 127.0.0.1", field="host")
    problem = listen_problem(host, port)
    if problem is not None:
        raise BadInput(problem[0], field=problem[1])
    if not is_loopback(host):
        err_console().print(
            f"[bold red]WARNING: listening on {host}: anyone who can reach this machine can "
            "reach the desk.[/bold red] Every request still needs a token; put TLS in front "
            "(a reverse proxy) and set PASSMUSTER_COOKIE_SECURE=1 so session cookies stay on "
            "HTTPS."
        )
    url = database_url()
    # Opened here, not in the server, so a missing or broken desk is one clear line.
    desk = Desk.open(url)
    # Flags given on the command line win; the rest comes from PASSMUSTER_* variables.
    given: dict[str, object] = {"database_url": desk.url}
    if monitor:
        given["monitor"] = True
    if platform is not None:
        given["platform_root"] = platform
    if monitor_config is not None:
        given["monitor_config"] = monitor_config
    if base_url:
        from passmuster.monitor.targets import parse_base_urls

        given["base_urls"] = parse_base_urls(base_url)
    settings = ServeSettings(**given)  # type: ignore[arg-type]
    if settings.monitor:
        # The configuration the monitor will read (the project's passmuster.toml), read now:
        # a broken one is one line here, not a traceback from the server's start-up.
        from passmuster.monitor.configuration import check_configuration

        try:
            check_configuration(settings.monitor_config, start=settings.platform_root)
        except BaseException:
            desk.close()
            raise
    application = create_app(settings, desk=desk)
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        log_level=log_level.lower(),
        # Open live streams would otherwise hold a stopping server for as long as they last.
        timeout_graceful_shutdown=2,
        server_header=False,
        # The monitor's probes need asyncio's own transports; uvloop (faster) serves otherwise.
        loop="asyncio" if settings.monitor else "auto",
    )
    server = server_for(config)
    shown = f"[{host}]" if ":" in host else host
    # Plain lines, not Rich (which takes longer to import than the rest of start-up's output):
    # they carry no markup, and control characters are shown as Rich would show them.
    for line in (
        f"passmuster serving the desk at {display_url(desk.url)}",
        f"Dashboard: http://{shown}:{port}/   API: http://{shown}:{port}/api/v1/docs",
    ):
        click.echo(escape_controls(line))
    try:
        with stop_on_sigterm():
            server.run()
    except SystemExit as exc:
        # Uvicorn exits 3 when it cannot start, which here would read as "not found"; it has
        # logged the cause already. (A taken port was refused above, unless it was taken since.)
        if exc.code != STARTUP_FAILURE:
            raise
        raise BadInput(
            f"could not start serving on {shown}:{port} (the reason is above)", field="port"
        ) from None
    finally:
        desk.close()


def _path_option(name: str, help: str) -> opt.Option:
    return opt.Option(
        [name], help=help, type=click.Path(path_type=Path), type_label="<path>", reference="PATH"
    )


# Declared on plain click (cli/_options.py), with Typer's help and messages: Typer and its
# conversions cost the server tens of milliseconds of start-up.
app = click.Group("serve")
app.add_command(
    opt.command(
        "serve",
        serve,
        [
            opt.text_option(
                "--host",
                help="Address to listen on. Anything but loopback is public.",
                default="127.0.0.1",
            ),
            opt.Option(
                ["--port"],
                help="Port to listen on.",
                type=opt.BoundedInteger(1, 65535),
                default=8000,
                type_label="<int range>",
                reference="INTEGER",
            ),
            opt.flag(
                "--monitor", help="Also run the health monitor in this process.", show_default=False
            ),
            _path_option("--platform", "Platform repository that POST /api/v1/scans/run scans."),
            opt.text_option(
                "--base-url",
                help="SERVICE=URL for the monitor when it runs outside the compose network "
                "(repeatable).",
                multiple=True,
            ),
            _path_option("--monitor-config", "The monitor's passmuster.toml or Gatus file."),
            opt.text_option("--log-level", help=f"{', '.join(LOG_LEVELS)}.", default="info"),
        ],
    )
)
