"""One reader per compose service key: each turns the key's value into fields of a ServiceDef.

`READERS` maps a key to its reader, in the order they apply (`env_file` before `environment`,
whose values win). A key no reader knows is kept in `ServiceDef.raw` only.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from passmuster.scanner.context.commands import split_command
from passmuster.scanner.context.interpolate import template_of
from passmuster.scanner.context.model import (
    Command,
    Dependency,
    EnvFile,
    EnvVar,
    HealthCheck,
    ParseProblem,
    PortRef,
    PublishedPort,
    ServiceDef,
    Volume,
    Where,
)
from passmuster.scanner.context.yamldoc import YamlDoc

_MAX_RANGE = 1024


@dataclass(slots=True)
class KeyContext:
    """What a key reader needs besides the value: where it is, and the repository."""

    doc: YamlDoc
    body: dict[str, Any]  # the service's mapping
    path: str  # the compose file
    rel: Callable[[str], str | None]  # a path in the file -> root-relative (None: outside)
    is_dir: Callable[[str], bool]
    file_exists: Callable[[str], bool]
    env_file: Callable[[str], EnvFile]  # read an env file of the repository (once)
    problems: list[ParseProblem]

    def at(self, key: str, container: Any = None) -> int | None:
        return self.doc.line(self.body if container is None else container, key)


Reader = Callable[[ServiceDef, Any, KeyContext], None]


def text_value(value: Any) -> str:
    """A scalar as compose turns it into a string (`true`, not `True`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def port_range(text: str) -> list[tuple[int, str]]:
    """`8000`, `8000-8002`, `53/udp` → [(port, protocol), …]; [] when it is not a port."""
    spec, _, proto = text.strip().partition("/")
    proto = (proto or "tcp").lower()
    low, dash, high = spec.partition("-")
    try:
        start = int(low)
        end = int(high) if dash else start
    except ValueError:
        return []
    if not (0 < start <= end < 65536) or end - start > _MAX_RANGE:
        return []
    return [(p, proto) for p in range(start, end + 1)]


def _image(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if isinstance(value, str):
        service.image = value


def _build(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    context = "."
    dockerfile = "Dockerfile"
    dockerfile_line = ctx.at("build")
    if isinstance(value, str):
        context = value
    elif isinstance(value, dict):
        context = str(value.get("context", "."))
        if "dockerfile" in value:
            dockerfile = str(value["dockerfile"])
            dockerfile_line = ctx.doc.line(value, "dockerfile")
        if isinstance(value.get("target"), str):
            service.build_target = value["target"]
    else:
        return
    if "://" in context or context.startswith("git@"):
        service.build_context = None  # a remote build: nothing to read here
        return
    resolved = ctx.rel(context)
    service.build_context = resolved
    service.build_where = Where(ctx.path, ctx.at("build"))
    service.build_context_exists = resolved is not None and ctx.is_dir(resolved)
    if resolved is not None:
        path = posixpath.normpath(posixpath.join(resolved, dockerfile))
        lower = posixpath.join(resolved, "dockerfile")
        if dockerfile == "Dockerfile" and not ctx.file_exists(path) and ctx.file_exists(lower):
            # With no `dockerfile:` given, Docker takes a lowercase `dockerfile` too.
            path = posixpath.normpath(lower)
        service.dockerfile_path = path
        service.dockerfile_where = Where(ctx.path, dockerfile_line)


def _container_name(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if isinstance(value, str):
        service.container_name = value


def _hostname(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if isinstance(value, str):
        service.hostname = value


def _profiles(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if isinstance(value, list):
        service.profiles = tuple(str(p) for p in value)


def _command_reader(key: str, origin: str) -> Reader:
    def read(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
        if value is None:
            return
        argv, shell = split_command(value)
        raw = value if isinstance(value, str) else " ".join(argv)
        setattr(service, key, Command(argv, raw, ctx.path, ctx.at(key), origin, shell))

    return read


def _env_file(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if value is None:
        return
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        required = True
        if isinstance(item, dict):
            required = bool(item.get("required", True))
            item = item.get("path")
        if not isinstance(item, str):
            continue
        line = ctx.doc.line(items, index) if isinstance(value, list) else ctx.at("env_file")
        resolved = ctx.rel(item)
        exists = resolved is not None and ctx.file_exists(resolved)
        service.env_files.append((resolved or item, Where(ctx.path, line), exists or not required))
        if not exists and resolved is not None:
            example = _example_of(resolved, ctx)
            if example is not None:
                service.documented_env.update(e.key for e in ctx.env_file(example).entries)
        if exists and resolved is not None:
            env_file = ctx.env_file(resolved)
            values = env_file.resolved()
            for entry in env_file.entries:
                template = entry.value if entry.quote != "'" and "$" in entry.value else None
                service.env[entry.key] = EnvVar(
                    entry.key, values[entry.key], resolved, entry.line, "env_file", template
                )


def _example_of(path: str, ctx: KeyContext) -> str | None:
    """The committed example of an env file kept out of the repository (`.env` ->
    `.env.example`, `.env.sample`)."""
    for suffix in (".example", ".sample", ".template", ".dist"):
        if ctx.file_exists(path + suffix):
            return path + suffix
    return None


def _environment(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            service.env[str(key)] = EnvVar(
                str(key),
                None if item is None else text_value(item),
                ctx.path,
                ctx.doc.line(value, key),
                "environment",
                template_of(item),
            )
    elif isinstance(value, list):
        for index, item in enumerate(value):
            key, eq, text = str(item).partition("=")
            template = template_of(item)
            service.env[key] = EnvVar(
                key,
                text if eq else None,
                ctx.path,
                ctx.doc.line(value, index),
                "environment",
                template.partition("=")[2] if template is not None and eq else None,
            )


def _ports(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        _port(service, item, ctx, ctx.doc.line(value, index) or ctx.at("ports"))


def _port(service: ServiceDef, item: Any, ctx: KeyContext, line: int | None) -> None:
    if isinstance(item, dict):
        target = item.get("target")
        published = item.get("published")
        protocol = str(item.get("protocol", "tcp")).lower()
        host_ip = item.get("host_ip")
        containers = port_range(str(target)) if target is not None else []
        hosts = port_range(str(published)) if published not in (None, "") else []
        raw = f"{published or ''}:{target}/{protocol}"
    else:
        raw = str(item)
        spec, _, protocol = raw.partition("/")
        protocol = (protocol or "tcp").lower()
        host_ip = None
        if spec.startswith("["):  # [::1]:8080:80
            close = spec.find("]")
            host_ip, spec = spec[1:close], spec[close + 2 :]
        parts = spec.split(":")
        if len(parts) == 3:
            host_ip, host_part, container_part = parts
        elif len(parts) == 2:
            host_part, container_part = parts
        else:
            host_part, container_part = "", parts[0]
        containers = port_range(container_part)
        hosts = port_range(host_part) if host_part else []
    if not containers:
        if _unset_variable_gave_it(item):
            return  # `${API_PORT}:${API_PORT}` with API_PORT unset: ENV001 tells that
        ctx.problems.append(ParseProblem(ctx.path, line, f"cannot read port mapping {raw!r}"))
        return
    for index, (container, _) in enumerate(containers):
        host: int | None = None
        if hosts:
            host = hosts[index][0] if len(hosts) == len(containers) else hosts[0][0]
        service.ports.append(
            PublishedPort(
                container, host, str(host_ip) if host_ip else None, protocol, ctx.path, line, raw
            )
        )


def _unset_variable_gave_it(item: Any) -> bool:
    """Whether a port mapping came out empty from variables the scan has no value for
    (substituted as empty strings), rather than being written wrong."""
    template = template_of(item)
    if template is None:
        return False
    value = str(item)
    return not value.strip(" :/") or value.split("/")[0].endswith(":")


def _expose(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        for port, proto in port_range(str(item)):
            service.expose.append(
                PortRef(port, proto, ctx.path, ctx.doc.line(value, index), "compose-expose")
            )


def _depends_on(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            service.depends_on.append(Dependency(str(item), ctx.path, ctx.doc.line(value, index)))
    elif isinstance(value, dict):
        for dep, spec in value.items():
            condition = spec.get("condition") if isinstance(spec, dict) else None
            service.depends_on.append(
                Dependency(str(dep), ctx.path, ctx.doc.line(value, dep), "depends_on", condition)
            )


def _links(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        target = str(item).split(":", 1)[0]
        service.depends_on.append(Dependency(target, ctx.path, ctx.doc.line(value, index), "links"))


def _healthcheck(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if not isinstance(value, dict):
        return
    if value.get("disable") is True:
        service.healthcheck = HealthCheck(("NONE",), ctx.path, ctx.at("healthcheck"), "compose")
    elif "test" in value:
        test = value["test"]
        argv = tuple(str(t) for t in test) if isinstance(test, list) else ("CMD-SHELL", str(test))
        service.healthcheck = HealthCheck(
            argv, ctx.path, ctx.doc.line(value, "test") or ctx.at("healthcheck"), "compose"
        )


def _volumes(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        volume = _volume(item, ctx, ctx.doc.line(value, index))
        if volume is not None:
            service.volumes.append(volume)


def _volume(item: Any, ctx: KeyContext, line: int | None) -> Volume | None:
    if isinstance(item, dict):
        kind = str(item.get("type", "volume"))
        source = item.get("source")
        target = str(item.get("target", ""))
        read_only = bool(item.get("read_only", False))
        raw = f"{source or ''}:{target}"
    else:
        raw = str(item)
        parts = raw.split(":")
        if len(parts) == 1:
            return Volume(parts[0], None, "volume", False, ctx.path, line, raw)
        source, target = parts[0], parts[1]
        read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        kind = "bind" if source.startswith((".", "/", "~", "$")) else "volume"
    resolved = None
    if kind == "bind" and isinstance(source, str) and not source.startswith(("/", "~")):
        resolved = ctx.rel(source)
    return Volume(
        target,
        None if source is None else str(source),
        kind,
        read_only,
        ctx.path,
        line,
        raw,
        resolved,
    )


def _networks(service: ServiceDef, value: Any, ctx: KeyContext) -> None:
    if isinstance(value, list):
        service.networks = [str(n) for n in value]
    elif isinstance(value, dict):
        service.networks = [str(n) for n in value]
        for spec in value.values():
            if isinstance(spec, dict) and isinstance(spec.get("aliases"), list):
                service.aliases.extend(str(a) for a in spec["aliases"])


READERS: dict[str, Reader] = {
    "image": _image,
    "build": _build,
    "container_name": _container_name,
    "hostname": _hostname,
    "profiles": _profiles,
    "command": _command_reader("command", "compose-command"),
    "entrypoint": _command_reader("entrypoint", "compose-entrypoint"),
    "env_file": _env_file,
    "environment": _environment,
    "ports": _ports,
    "expose": _expose,
    "depends_on": _depends_on,
    "links": _links,
    "healthcheck": _healthcheck,
    "volumes": _volumes,
    "networks": _networks,
}


def read_service_keys(service: ServiceDef, ctx: KeyContext) -> None:
    """Apply every key reader to the service's mapping, in `READERS` order."""
    for key, reader in READERS.items():
        if key in ctx.body:
            reader(service, ctx.body[key], ctx)
