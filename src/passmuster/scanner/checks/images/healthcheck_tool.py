from __future__ import annotations

import re
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.commands import split_command
from passmuster.scanner.context.images import image_flavour, parse_image
from passmuster.scanner.context.model import HealthCheck, Platform, ServiceDef
from passmuster.scanner.context.services import image_healthcheck
from passmuster.scanner.rule import Rule, reported_once

# What each image family ships: python:<v> sits on buildpack-deps (curl, wget and procps's
# pgrep and ps), slim images have none of them, Alpine's BusyBox provides wget, pgrep, ps and
# nc. Whether buildpack-deps has nc is left open: nc is judged on slim images only.
_PRESENT = {
    "full": {"curl", "wget", "pgrep", "pkill", "ps", "nc"},
    "slim": set(),
    "alpine": {"wget", "pgrep", "pkill", "ps", "nc"},
}
# Each tool and the system packages that provide it.
_PROVIDERS = {
    "curl": {"curl"},
    "wget": {"wget"},
    "pgrep": {"procps", "procps-ng"},
    "pkill": {"procps", "procps-ng"},
    "ps": {"procps", "procps-ng"},
    "nc": {"netcat-openbsd", "netcat-traditional", "netcat", "ncat", "nmap", "busybox-extras"},
}
_TOOLS = tuple(_PROVIDERS)
# Confluent Platform's broker images, whose Kafka tools have no `.sh` suffix.
_CONFLUENT_KAFKA = frozenset(
    {"confluentinc/cp-kafka", "confluentinc/cp-server", "confluentinc/cp-enterprise-kafka"}
)
_KAFKA_SCRIPT = re.compile(r"(kafka|zookeeper)-[a-z0-9-]+\.sh")
# Official images that add tools to their family's: nginx installs curl, also on Alpine.
_SHIPPED = {"nginx": {"curl"}}


def _tools_used(text: str) -> list[str]:
    words, _ = split_command(text)
    used: list[str] = []
    for word in words:
        base = word.rsplit("/", 1)[-1]
        if base in _TOOLS and base not in used:
            used.append(base)
    return used


class HealthcheckToolMissing(Rule):
    """## What it does
    Flags a health check (compose `healthcheck.test` or Dockerfile `HEALTHCHECK`) that runs
    `curl`, `wget`, `pgrep`/`pkill`/`ps` (procps) or `nc` in an image that does not have it:
    `python:*-slim` and Debian/Ubuntu base images ship none of them, Alpine has `wget`,
    `pgrep`, `ps` and `nc` (BusyBox) but not `curl`, unless the Dockerfile installs it; and
    a Kafka tool called by its `.sh` name (`kafka-topics.sh`) in Confluent's images
    (`confluentinc/cp-kafka`), which install the tools without the suffix.
    A Dockerfile's own `HEALTHCHECK` is judged even when compose replaces it: the image
    must work on its own, wherever else it runs.

    ## Why is this bad?
    The check fails with `curl: not found` (or `pgrep: not found`) every time, so the
    container never becomes healthy:
    services that `depends_on` it with `condition: service_healthy` never start, and
    orchestrators restart a perfectly working service.

    ## Example
    ```yaml
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8000/health"]
    ```
    for a service built `FROM python:3.11-slim` that never installs curl.

    ## How to fix
    Install the tool (`apt-get install -y --no-install-recommends curl`), or check with Python,
    which the image has:
    ```yaml
    test: ["CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://localhost:8000/health')"]
    ```
    """

    code = "IMG002"
    name = "healthcheck-tool-missing"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for service in platform.every_service():
            checks = [service.healthcheck]
            image_check = image_healthcheck(service)
            if image_check is not None and image_check != service.healthcheck:
                # An image must work on its own: its HEALTHCHECK is judged even when this
                # compose file replaces it (another deployment may not).
                checks.append(image_check)
            for check in checks:
                if check is None or check.disabled:
                    continue
                yield from self._judge(service, check)

    def _judge(self, service: ServiceDef, check: HealthCheck) -> Iterator[Finding]:
        yield from self._kafka_script(service, check)
        used = _tools_used(check.command_text)
        if not used:
            return
        final = service.dockerfile.final if service.dockerfile else None
        image = final.base if final is not None else service.image
        flavour = image_flavour(image)
        if flavour is None:
            return
        installed: set[str] = set()
        if final is not None and service.dockerfile is not None:
            for stage in service.dockerfile.stage_chain(final):
                installed |= stage.system_packages
        ships = _SHIPPED.get(parse_image(image or "").name, set())
        for tool in used:
            if tool in _PRESENT[flavour] or installed & _PROVIDERS[tool] or tool in ships:
                continue
            yield self.finding(
                f"the health check runs {tool}, which {image} does not have and the "
                f"Dockerfile does not install",
                check.path,
                check.line,
                service=service.name,
                key=tool,
            )

    def _kafka_script(self, service: ServiceDef, check: HealthCheck) -> Iterator[Finding]:
        """Confluent's Kafka images install Apache Kafka's tools without their `.sh`
        (`kafka-topics`, `kafka-broker-api-versions`); the `.sh` names are Apache's
        distribution's and are not there."""
        repository = parse_image(service.image or "").repository
        if service.dockerfile is not None or repository not in _CONFLUENT_KAFKA:
            return
        words, _ = split_command(check.command_text)
        for word in words:
            base = word.rsplit("/", 1)[-1]
            if _KAFKA_SCRIPT.fullmatch(base):
                yield self.finding(
                    f"the health check runs {base}, which {service.image} does not have: "
                    f"Confluent's images name it {base.removesuffix('.sh')}",
                    check.path,
                    check.line,
                    service=service.name,
                    key=base,
                )
                return
