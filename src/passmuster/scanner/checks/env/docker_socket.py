from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.images import parse_image
from passmuster.scanner.context.model import Platform
from passmuster.scanner.rule import Rule, reported_once

_SOCKETS = frozenset({"/var/run/docker.sock", "/run/docker.sock"})


class DockerSocketMount(Rule):
    """## What it does
    Flags a service that mounts the Docker socket (`/var/run/docker.sock`).

    ## Why is this bad?
    Access to the socket is root on the host: the service (and anything that compromises it,
    such as a template injection in a provisioning job) can start privileged containers,
    read every volume and every other container's secrets.

    ## Example
    ```yaml
    services:
      instances-worker:
        volumes:
          - /var/run/docker.sock:/var/run/docker.sock
    ```

    ## How to fix
    Put a socket proxy that allows only the API calls the service needs
    (`tecnativa/docker-socket-proxy` with `CONTAINERS=1`) between the service and Docker, or
    move the work to a dedicated, isolated host. When a service must have it, list it in the
    configuration so the exception is deliberate and visible.

    ## Configuration
    ```toml
    [scan.options.ENV007]
    allow = ["deployer"]                        # services allowed the socket
    allow-images = ["traefik", "portainer"]     # images (by name) whose purpose it is
    ```
    By default the images of tools made for the Docker API (Traefik, Portainer, socket
    proxies, Watchtower, cAdvisor, log shippers such as Promtail and Fluent Bit, …) are
    allowed.
    """

    code = "ENV007"
    name = "docker-socket-mount"
    severity = Severity.HIGH
    fix = Fix.NONE
    default_options: ClassVar[Mapping[str, Any]] = {
        "allow": [],
        # Images whose purpose is the Docker API: a proxy, a dashboard, an updater.
        "allow_images": [
            "traefik",
            "portainer",
            "docker-socket-proxy",
            "watchtower",
            "autoheal",
            "dozzle",
            "cadvisor",
            # Log shippers that tag each line with its container's name and labels.
            "promtail",
            "fluent-bit",
            "filebeat",
            "logspout",
            "alloy",
            "docker-gen",
            "nginx-proxy",
        ],
    }

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        allowed = set(self.options["allow"])
        images = set(self.options["allow_images"])
        for service in platform.services:
            if service.name in allowed:
                continue
            if service.image and _made_for_the_socket(service.image, images):
                continue
            for volume in service.volumes:
                if volume.source not in _SOCKETS and volume.target not in _SOCKETS:
                    continue
                mode = "read-only" if volume.read_only else "read-write"
                socket = volume.source if volume.source in _SOCKETS else volume.target
                yield self.finding(
                    f"{service.name} mounts the Docker socket {socket} ({mode}): root on the host",
                    volume.path,
                    volume.line,
                    service=service.name,
                    key=volume.target,
                )
                break


def _made_for_the_socket(image: str, names: set[str]) -> bool:
    """An allowed image by name, edition (`portainer/portainer-ce`, `portainer-agent`) or
    publisher (`portainer/…`)."""
    parsed = parse_image(image)
    publisher = parsed.repository.split("/", 1)[0] if "/" in parsed.repository else None
    return (
        parsed.name in names
        or publisher in names
        or any(parsed.name.startswith(f"{name}-") for name in names)
    )
