"""Everything a deploy needs from configuration and the repository, read before anything runs:
the `[deploy]` section, the service catalog and its dependencies, how each service is started,
where its health probe answers. A mistake here (an unknown service, a dependency cycle, a
template without `{service}`) stops the deploy before a single command runs.

Runners:

- **compose** (`runner = "auto"` where `docker compose` works): `docker compose up -d --build
  {service}` in the compose file's folder; the health probe goes to the port compose publishes
  on this machine.
- **local** (`auto` without Docker): every service whose command is `uvicorn module:app` runs
  as a local process on its published port (`[deploy.services.NAME] port` to choose another),
  with compose URLs naming other services rewritten to their local ports; PostgreSQL, Redis,
  RabbitMQ and MySQL are used where they already answer on their usual port. What the local
  runner cannot start is left out of the plan, with the reason.
- **command**: `[deploy] command`, a template with `{service}`, for anything else.

Any service may have its own `command` (and `stop`, `logs`) under `[deploy.services.NAME]`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from passmuster.core.catalog import Service
from passmuster.core.deploy.config import (
    COMPOSE_LOGS,
    COMPOSE_STOP,
    COMPOSE_UP,
    LOCAL_UVICORN,
    DeployConfig,
    ServiceDeploy,
    render,
)
from passmuster.core.targets import MonitorConfig, Target
from passmuster.errors import ConfigError
from passmuster.settings import DESK_DIR, ProjectConfig, find_config, load_config

STATE_DIR = "deploy"


@dataclass(slots=True)
class Unit:
    """How one service is deployed."""

    service: str
    argv: list[str] | None  # None: not started by the deploy, only probed (external)
    cwd: Path
    env: dict[str, str]
    timeout: float
    target: Target | None  # the health gate; None: the command's success is the gate
    port: int | None = None  # local runner: checked free before starting
    folder: str | None = None  # the service's folder in the repository (its version)
    stop: list[str] | None = None
    logs: list[str] | None = None
    template: str = ""  # the command template, as configured


@dataclass(slots=True)
class DeploySetup:
    root: Path
    where: str  # the configuration file, for messages
    config: DeployConfig
    runner: str  # compose, local, command
    units: dict[str, Unit] = field(default_factory=dict)
    graph: dict[str, list[str]] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)  # service -> why
    hosts: dict[str, str] = field(default_factory=dict)  # host or host:port -> service

    @property
    def state_dir(self) -> Path:
        return self.root / DESK_DIR / STATE_DIR

    def log_file(self, service: str) -> Path:
        return self.state_dir / "logs" / f"{service}.log"


def load_deploy_setup(
    start: Path | None = None,
    *,
    config_path: Path | None = None,
    runner: str | None = None,
) -> DeploySetup:
    """Read `[deploy]`, `[monitor]` and the platform under the configuration's folder (or
    `start`). Raises ConfigError (exit 2) for anything a deploy cannot run with."""
    project = load_config(config_path) if config_path else find_config(start)
    root = (project.root or start or Path.cwd()).resolve()
    where = str(project.path) if project.path else "passmuster.toml"
    config = project.section("deploy", DeployConfig)
    if runner is not None:
        if runner not in ("auto", "compose", "local", "command"):
            raise ConfigError(f"--runner {runner!r}: expected auto, compose, local or command")
        config = config.model_copy(update={"runner": runner})
    config.check(where)
    from passmuster.monitor.targets import load_monitor_config

    monitor = load_monitor_config(project)
    platform, services = _discover(root, project)
    unknown = sorted(set(config.services) - {s.name for s in services})
    if unknown:
        raise ConfigError(
            f"{where}: [deploy.services.{unknown[0]}] names no service of the platform "
            f"(services: {', '.join(sorted(s.name for s in services)) or 'none'})",
            field=f"deploy.services.{unknown[0]}",
        )
    chosen = _runner(config, root)
    setup = DeploySetup(root, where, config, chosen)
    setup.graph = {s.name: list(s.depends_on) for s in services}
    _build_units(setup, platform, services, monitor)
    return setup


def _discover(root: Path, project: ProjectConfig) -> tuple[Any, list[Service]]:
    from passmuster.scanner.catalog import catalog_services
    from passmuster.scanner.config import ScanConfig
    from passmuster.scanner.context import discover

    scan_config = ScanConfig.from_project(project) if project.root == root else None
    platform = discover(root, scan_config)
    return platform, catalog_services(platform)


def _runner(config: DeployConfig, root: Path) -> str:
    if config.runner != "auto":
        return config.runner
    if config.command:
        return "command"
    return "compose" if compose_available(root) else "local"


def compose_available(root: Path) -> bool:
    """`docker compose` (or the standalone `docker-compose`) answers here."""
    docker = shutil.which("docker")
    if docker is not None:
        try:
            done = subprocess.run(
                [docker, "compose", "version"],
                cwd=root,
                capture_output=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return False
        if done.returncode == 0:
            return True
    return shutil.which("docker-compose") is not None


def _compose_program() -> str:
    """`docker compose` when the plugin is there, else the standalone `docker-compose`."""
    return "docker compose" if shutil.which("docker") else "docker-compose"


def _build_units(
    setup: DeploySetup, platform: Any, services: Sequence[Service], monitor: MonitorConfig
) -> None:
    from passmuster.monitor.targets import catalog_targets
    from passmuster.usecases.local_platform import local_infra_port, uvicorn_app

    config, root = setup.config, setup.root
    defs = platform.by_name()
    # A path is relative to the platform root; a bare name (`python3.12`) is found on PATH.
    python = config.python
    if python and "/" in python:
        python = str(root / python)
    ports: dict[str, int] = {}
    base_urls: dict[str, str] = {}
    plans: dict[str, tuple[str | None, Path]] = {}  # service -> (template, cwd)
    apps: dict[str, str] = {}
    for service in services:
        name = service.name
        override = config.services.get(name, ServiceDeploy())
        definition = defs.get(name)
        if override.skip:
            setup.left_out[name] = f"skip = true under [deploy.services.{name}]"
            continue
        port = override.port or _host_port(definition)
        cwd = root / override.cwd if override.cwd else _compose_folder(root, definition)
        template = override.command
        if template is None and setup.runner == "compose":
            template = config.command or COMPOSE_UP.replace("docker compose", _compose_program())
        elif template is None and setup.runner == "command":
            template = config.command
        elif template is None:  # local
            app = uvicorn_app(definition, root) if definition is not None else None
            infra = local_infra_port(definition) if definition is not None else None
            if app is not None:
                template = LOCAL_UVICORN
                cwd = root / override.cwd if override.cwd else app[0]
                apps[name] = app[1]
            elif infra is not None:
                from passmuster.deploy.processes import port_in_use

                if port_in_use(infra):
                    base_urls[name] = f"127.0.0.1:{infra}"
                    plans[name] = (None, root)
                    continue
                setup.left_out[name] = (
                    f"the local runner does not start {definition.image if definition else name}"
                    f" and nothing answers on 127.0.0.1:{infra}"
                )
                continue
            else:
                setup.left_out[name] = (
                    "the local runner starts only `uvicorn module:app` services; give it a "
                    f"command under [deploy.services.{name}]"
                )
                continue
        if port is not None:
            ports[name] = port
            if setup.runner != "compose" or _host_port(definition) is not None:
                base_urls[name] = f"http://127.0.0.1:{port}"
        plans[name] = (template, cwd)
    # The user's base URLs win for compose (they know their network); the local runner's own
    # ports win for it (that is where it starts the services).
    merged = (
        {**base_urls, **monitor.base_urls}
        if setup.runner == "compose"
        else {**monitor.base_urls, **base_urls}
    )
    probe_config = monitor.model_copy(update={"base_urls": merged})
    by_name = {s.name: s for s in services}
    for name, (template, cwd) in plans.items():
        override = config.services.get(name, ServiceDeploy())
        port = ports.get(name)
        values = {
            "service": name,
            "port": str(port or ""),
            "root": str(root),
            "python": python or _interpreter(cwd, root),
            "app": apps.get(name, ""),
        }
        target = _target(by_name[name], override, probe_config, catalog_targets)
        stop = override.stop or config.stop
        logs = override.logs or config.logs
        if setup.runner == "compose":
            program = _compose_program()
            stop = stop or COMPOSE_STOP.replace("docker compose", program)
            logs = logs or COMPOSE_LOGS.replace("docker compose", program)
        setup.units[name] = Unit(
            service=name,
            argv=render(template, values) if template else None,
            cwd=cwd,
            env=_environment(setup, defs.get(name), override, port, merged),
            timeout=override.timeout or config.timeout,
            target=target,
            port=port if setup.runner == "local" and template is not None else None,
            folder=_service_folder(root, defs.get(name)),
            stop=render(stop, values) if stop else None,
            logs=render(logs, values) if logs else None,
            template=template or "",
        )
        for host in _hostnames(defs.get(name), name):
            setup.hosts[host] = name
            if port is not None:
                setup.hosts[f"{host}:{port}"] = name
        if port is not None:
            setup.hosts[f"127.0.0.1:{port}"] = name
            setup.hosts[f"localhost:{port}"] = name


def _target(
    service: Service, override: ServiceDeploy, config: MonitorConfig, make: Any
) -> Target | None:
    if override.health is not None:
        if override.health.lower() == "none":
            return None
        return Target(
            name=service.name,
            url=override.health,
            service=service.name,
            timeout=config.timeout,
            conditions=("[CONNECTED] == true",) if override.health.startswith("tcp://") else (),
        )
    found: list[Target] = make([service], config)
    return found[0] if found else None


def _environment(
    setup: DeploySetup,
    definition: Any,
    override: ServiceDeploy,
    port: int | None,
    base_urls: dict[str, str],
) -> dict[str, str]:
    env = dict(os.environ)
    if setup.runner == "local" and definition is not None:
        from passmuster.usecases.local_platform import localise_url

        for var in definition.env.values():
            if var.value is not None:
                env[var.name] = localise_url(var.value, base_urls)
        if port is not None:
            env.update({"PORT": str(port), "HOST": "127.0.0.1"})
        env["PYTHONUNBUFFERED"] = "1"
    env.update(override.env)
    return env


def _interpreter(folder: Path, root: Path) -> str:
    """The Python a service runs with here: a virtualenv in its folder or at the platform's
    root (where its requirements are installed), else the one running passmuster."""
    for base in (folder, root):
        candidate = base / ".venv" / "bin" / "python"
        if candidate.is_file():
            return str(candidate)
    return sys.executable


def _host_port(definition: Any) -> int | None:
    """The port the service answers on from this machine: its published host port, else the
    port it listens on."""
    if definition is None:
        return None
    for published in definition.ports:
        if published.host is not None and published.protocol == "tcp":
            return int(published.host)
    from passmuster.scanner.catalog import main_port

    found = main_port(definition)
    return int(found) if found is not None else None


def _compose_folder(root: Path, definition: Any) -> Path:
    if definition is None or not definition.path:
        return root
    return (root / str(definition.path)).parent


def _service_folder(root: Path, definition: Any) -> str | None:
    """The folder whose history is the service's: its build context, or the Dockerfile's
    folder when the context is the whole repository, or its code's top package."""
    if definition is None:
        return None
    context = definition.build_context
    if definition.dockerfile_path and context in (None, "", "."):
        folder = str(PurePosixPath(definition.dockerfile_path).parent)
        return folder if folder not in ("", ".") else None
    if context not in (None, "", "."):
        return str(context)
    entry = definition.entry
    if entry is not None and entry.module_path:
        depth = (entry.module or "").count(".") + 1
        parents = PurePosixPath(entry.module_path).parents
        return str(parents[depth]) if len(parents) > depth else None
    return None


def _hostnames(definition: Any, name: str) -> set[str]:
    return set(definition.hostnames) if definition is not None else {name}
