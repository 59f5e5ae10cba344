"""Development set-ups: files and compose projects meant for a developer's machine."""

from __future__ import annotations

from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.facts.paths import is_dev_file


def development_projects(platform: Platform) -> frozenset[str]:
    """Compose projects every built service of which builds from a development Dockerfile
    (`Dockerfile.dev`): the stack a developer runs locally, whatever the compose file is
    called."""

    def build() -> frozenset[str]:
        built: dict[str, list[bool]] = {}
        for service in platform.services:
            if service.dockerfile_path is not None:
                built.setdefault(service.project, []).append(is_dev_file(service.dockerfile_path))
        return frozenset(project for project, dev in built.items() if dev and all(dev))

    return platform.derived("development-projects", build)


def in_development_setup(platform: Platform, service: ServiceDef, path: str) -> bool:
    """Whether a value at `path` given to `service` belongs to a local development set-up: a
    development file (`docker-compose.dev.yml`, `.env.local`) or a development project."""
    return is_dev_file(path) or service.project in development_projects(platform)
