"""Everything the monitor needs from configuration, loaded in one place so a reload is one call.

`load_setup` reads `[monitor]` (from an explicit file or the project's passmuster.toml), the
catalog (discovered from the platform repo next to the configuration, else the desk's service
list), Gatus files, and builds the targets and notification channels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from passmuster.core.catalog import Service
from passmuster.core.targets import MonitorConfig
from passmuster.monitor.notify import build_channel
from passmuster.monitor.targets import TargetSet, build_targets, load_monitor_config
from passmuster.settings import ProjectConfig, find_config, find_desk_file, load_config
from passmuster.usecases.incidents import ChannelRule


@dataclass(slots=True)
class MonitorSetup:
    config: MonitorConfig
    targets: TargetSet
    channels: dict[str, Any] = field(default_factory=dict)
    rules: list[ChannelRule] = field(default_factory=list)
    watch: list[Path] = field(default_factory=list)  # files whose change triggers a reload


def setup_from(
    config: MonitorConfig,
    *,
    services: Sequence[Service] = (),
    root: Path | None = None,
    where: str = "passmuster.toml",
    watch: Sequence[Path] = (),
) -> MonitorSetup:
    """Targets and channels from an already validated `[monitor]` section."""
    targets = build_targets(config, services=services, root=root, where=where)
    channels = {
        name: build_channel(name, channel, where=where) for name, channel in config.notify.items()
    }
    rules = [
        ChannelRule(
            name,
            tuple(c.events),
            remind_ms=None if c.remind_every is None else int(c.remind_every * 1000),
        )
        for name, c in config.notify.items()
    ]
    files = list(watch)
    for name in config.gatus:
        path = Path(name)
        files.append(path if path.is_absolute() or root is None else root / path)
    return MonitorSetup(config, targets, channels, rules, files)


def load_setup(
    config_path: Path | None = None,
    *,
    services: Sequence[Service] | None = None,
    desk_services: Sequence[Service] = (),
    base_urls: Mapping[str, str] | None = None,
    start: Path | None = None,
    skip: Sequence[str] = (),
) -> MonitorSetup:
    """Read the configuration and the catalog; `base_urls` (from --base-url) win over the file.

    The catalog: `services` when given, else discovered from the platform around the
    configuration file (compose files), else `desk_services` (services added by hand).
    `skip` names catalog services not to probe (the demo's services it does not run).
    """
    project = _configuration(config_path, start)
    config = load_monitor_config(project)
    if base_urls:
        config = config.model_copy(update={"base_urls": {**config.base_urls, **base_urls}})
    if skip:
        config = config.without(skip)
    root = platform_root(project, start)
    if services is None:
        found = discover_services(project, root) if config.catalog else []
        services = (found or list(desk_services)) if config.catalog else []
    where = str(project.path) if project.path else "passmuster.toml"
    watch = [project.path] if project.path else []
    return setup_from(config, services=services, root=project.root, where=where, watch=watch)


def check_configuration(config_path: Path | None = None, *, start: Path | None = None) -> None:
    """Read and validate what `load_setup` reads from configuration (`[monitor]`, and `[scan]`
    and `[services]`, which shape the discovered catalog) without discovering the platform;
    a ConfigError names the file and field."""
    project = _configuration(config_path, start)
    config = load_monitor_config(project)
    if config.catalog and project.path is not None:
        from passmuster.scanner.config import ScanConfig

        ScanConfig.from_project(project)


def _configuration(config_path: Path | None, start: Path | None) -> ProjectConfig:
    """The named file (a passmuster.toml, or a Gatus YAML file on its own), else the project's."""
    if config_path is None:
        return find_config(start)
    if config_path.suffix.lower() in (".yaml", ".yml"):
        return ProjectConfig(None, {"monitor": {"gatus": [str(config_path.resolve())]}})
    return load_config(config_path)


def platform_root(project: ProjectConfig, start: Path | None = None) -> Path:
    """The platform whose catalog the monitor probes.

    The folder of its passmuster.toml; without one, `start` (`serve --platform`), else the
    project the desk belongs to (the folder holding `.passmuster/`, where `passmuster init`
    ran), else the working folder. A platform needs no configuration file to be monitored.
    """
    if project.root is not None:
        return project.root
    if start is not None:
        return start.resolve()
    desk_file = find_desk_file()
    if desk_file is not None:
        return desk_file.parent.parent
    return Path.cwd().resolve()


def discover_services(project: ProjectConfig, root: Path | None = None) -> list[Service]:
    """The catalog of the platform at `root` (default: the configuration's folder); empty
    without compose files."""
    root = root or project.root
    if root is None:
        return []
    from passmuster.scanner.catalog import catalog_services
    from passmuster.scanner.config import ScanConfig
    from passmuster.scanner.context import discover

    platform = discover(root, ScanConfig.from_project(project))
    return catalog_services(platform)
