from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import EnvEntry, EnvFile, Platform, Project, ServiceDef
from passmuster.scanner.context.urls import find_urls
from passmuster.scanner.rule import Rule, reported_once

_EXAMPLE = re.compile(r"(^|[._-])(example|sample|template|dist)([._-]|$)", re.IGNORECASE)
# An example that mirrors the compose environment shares at least this many keys with it.
_MIRRORED_KEYS = 3


def _is_example(path: str) -> bool:
    return bool(_EXAMPLE.search(posixpath.basename(path)))


class EnvExampleMismatch(Rule):
    """## What it does
    Compares env files with what compose wires and flags two disagreements:

    * a `<NAME>_HOST` naming a compose service paired with a `<NAME>_PORT` that is the
      port compose **publishes on the host** for it, not a port the service listens on
      inside the network (`POSTGRES_AUTH_HOST=postgres-auth`, `POSTGRES_AUTH_PORT=5434`
      for `5434:5432`): whoever follows the file connects to a closed port;
    * an example env file (`.env.example`) beside a compose file that interpolates no
      variable and loads no env file, while compose hard-codes the example's keys with
      other values: the `.env` the example asks for changes nothing. When another compose
      file of the folder reads the `.env` (production's beside a development file that
      hard-codes its values), the example is that file's and is not judged.

    One finding per env file, listing every key involved; values are never shown.

    ## Why is this bad?
    The example is what people copy. A host port inside the network gives `connection
    refused` from every container; an example for a `.env` compose never reads makes people
    believe they changed a secret or an address when the hard-coded one still runs.

    ## Example
    ```text
    # .env.example                      # docker-compose.yml: postgres-auth "5434:5432"
    POSTGRES_AUTH_HOST=postgres-auth
    POSTGRES_AUTH_PORT=5434
    ```

    ## How to fix
    Use the container port with the service name (`postgres-auth:5432`), and the published
    port only with `localhost`. Make compose read the values the example documents
    (`${SECRET_KEY}` or `env_file: .env`), or drop the example.
    """

    code = "ENV010"
    name = "env-example-mismatch"
    severity = Severity.MEDIUM
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        hosts: dict[str, list[ServiceDef]] = {}
        for service in platform.services:
            for host in service.hostnames:
                hosts.setdefault(host, []).append(service)
        for path, env_file in sorted(platform.env_files.items()):
            yield from self._host_ports(path, env_file, hosts)
            if _is_example(path):
                yield from self._ignored_example(platform, path, env_file)

    def _host_ports(
        self, path: str, env_file: EnvFile, hosts: dict[str, list[ServiceDef]]
    ) -> Iterator[Finding]:
        entries = {entry.key: entry for entry in env_file.entries}
        wrong: list[tuple[EnvEntry, EnvEntry, ServiceDef, list[int]]] = []
        for key, entry in entries.items():
            if not key.endswith("_HOST"):
                continue
            port_entry = entries.get(key[: -len("_HOST")] + "_PORT")
            targets = hosts.get(entry.value.strip())
            if port_entry is None or not targets or not port_entry.value.strip().isdigit():
                continue
            port = int(port_entry.value.strip())
            # Services of that name whose ports are known (a project may not publish them).
            known = [(t, sorted(_inside_ports(t))) for t in targets if _inside_ports(t)]
            if not known or any(port in ports for _, ports in known):
                continue  # unknown, or right for one of the services of that name
            if not any(p.host == port for t in targets for p in t.ports):
                continue
            target, ports = next(((t, p) for t, p in known if t.ports), known[0])
            wrong.append((entry, port_entry, target, ports))
        if not wrong:
            return
        _, first_port, _, _ = wrong[0]
        pairs = ", ".join(
            f"{h.key}={h.value.strip()} with {p.key}={p.value.strip()} (listens on "
            f"{', '.join(map(str, ports))})"
            for h, p, _, ports in wrong
        )
        yield self.finding(
            f"{pairs}: each port is the one compose publishes on the host, not the one the "
            f"service listens on inside the network; containers get connection refused",
            path,
            first_port.line,
            related=[
                Location(p.path, p.line, message=f"publishes {p.raw}", service=t.name)
                for _, port_entry, t, _ in wrong
                for p in t.ports
                if p.host is not None and str(p.host) == port_entry.value.strip()
            ],
            key=f"host-port:{path}",
        )

    def _ignored_example(
        self, platform: Platform, path: str, env_file: EnvFile
    ) -> Iterator[Finding]:
        folder = posixpath.dirname(path)
        beside = [
            p for p in platform.projects if p.files and posixpath.dirname(p.files[0]) == folder
        ]
        if any(_reads_env(platform, project) for project in beside):
            # One compose file of the folder reads the .env (production's, beside a
            # development file that hard-codes its values): the example documents that one.
            return
        for project in beside:
            members = platform.project_services(project.name)
            set_literally: dict[str, tuple[ServiceDef, str, int | None, str]] = {}
            for service in members:
                for name, var in service.env.items():
                    if var.origin == "environment" and var.value is not None:
                        set_literally.setdefault(name, (service, var.path, var.line, var.value))
            shared = [e for e in env_file.entries if e.key in set_literally]
            if any(_on_this_machine(e) for e in shared):
                continue  # an example for running the code on the host, not in compose
            differing = [e for e in shared if set_literally[e.key][3] != e.value]
            if len(shared) < _MIRRORED_KEYS or not differing:
                continue
            first = differing[0]
            service, compose_path, line, _ = set_literally[first.key]
            keys = ", ".join(e.key for e in differing[:6]) + (
                f" and {len(differing) - 6} more" if len(differing) > 6 else ""
            )
            yield self.finding(
                f"{path} documents a .env that {project.files[0]} never reads (it interpolates "
                f"no variable and loads no env file): compose hard-codes other values for "
                f"{keys} (values masked), so editing the .env changes nothing",
                path,
                first.line,
                related=[Location(compose_path, line, message=first.key, service=service.name)],
                key=f"ignored-example:{path}:{project.name}",
            )


_LOOPBACK = frozenset({"localhost", "127.0.0.1", "0.0.0.0"})


def _reads_env(platform: Platform, project: Project) -> bool:
    """Whether the project's compose files interpolate variables (read from the .env beside
    them) or a service of it loads an env file."""
    compose_files = [platform.compose_files.get(f) for f in project.files]
    if any(c is None or c.variables for c in compose_files):
        return True
    return any(service.env_files for service in platform.project_services(project.name))


def _on_this_machine(entry: EnvEntry) -> bool:
    """Whether the entry points a backend (a host, a database or broker URL) at the
    machine itself: the example is for running the code outside containers."""
    value = entry.value.strip()
    if entry.key.endswith("_HOST") and value in _LOOPBACK:
        return True
    return any(
        url.host in _LOOPBACK and url.scheme not in ("http", "https", "ws", "wss")
        for url in find_urls(value)
    )


def _inside_ports(service: ServiceDef) -> set[int]:
    """The ports the service answers on inside the network: what it listens on, else the
    container side of its published ports and what it exposes."""
    listening = service.listening_ports()
    if listening:
        return listening
    return {p.container for p in service.ports} | {p.port for p in service.expose}
