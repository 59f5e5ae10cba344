"""Where a service names another: hosts in its environment and URL strings in its code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.context.pysource import StringConstant
from passmuster.scanner.context.urls import LOOPBACK_HOSTS, find_urls
from passmuster.scanner.facts.code import unread_setting, url_constants
from passmuster.scanner.facts.environment import env_values

_BARE_HOST = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_LOCAL_SCHEMES = frozenset({"file", "sqlite", "unix", "http+unix", "data", "mailto"})
# Service addresses in code: HTTP, and the database, cache and broker URLs a client connects to.
_CODE_SCHEMES = frozenset(
    {
        "http",
        "https",
        "ws",
        "wss",
        "postgresql",
        "postgres",
        "mysql",
        "redis",
        "rediss",
        "amqp",
        "mongodb",
    }
)
# Not hosts to call: Docker's host aliases, and the wildcards servers bind to
# (ASPNETCORE_URLS=http://+:80, http://*:8080).
_IGNORED_HOSTS = frozenset({"host.docker.internal", "gateway.docker.internal", "+", "*"})


@dataclass(frozen=True, slots=True)
class Reference:
    """`label` (an env var name, or "a URL in code") names `host`[:`port`] at path:line."""

    label: str
    host: str
    port: int | None
    path: str
    line: int | None
    in_code: bool


def _internal(host: str) -> bool:
    """A sibling's name: one label of a hostname. A template's slot (`http://{user}:8080`
    filled by `str.format`, `%s`, `${HOST}`, `<host>`) names no host yet."""
    return (
        _BARE_HOST.match(host) is not None
        and host not in LOOPBACK_HOSTS
        and host not in _IGNORED_HOSTS
    )


def service_references(platform: Platform, service: ServiceDef) -> list[Reference]:
    """Every internal host a service names, cached per scan."""
    cache: dict[str, list[Reference]] = platform.derived("references", dict)
    key = f"{service.project}\x1f{service.name}"
    found = cache.get(key)
    if found is None:
        found = _collect(platform, service)
        cache[key] = found
    return found


def _collect(platform: Platform, service: ServiceDef) -> list[Reference]:
    refs: list[Reference] = []
    env = dict((name, value) for name, value, _ in env_values(service))
    for name, value, var in env_values(service):
        urls = find_urls(value)
        for url in urls:
            if url.scheme in _LOCAL_SCHEMES or not _internal(url.host):
                continue
            refs.append(Reference(name, url.host, url.port, var.path, var.line, False))
        if not urls and name.endswith("_HOST") and _BARE_HOST.match(value.lower()):
            host = value.lower()
            if not _internal(host):
                continue
            port_text = env.get(name[: -len("_HOST")] + "_PORT", "")
            port = int(port_text) if port_text.isdigit() else None
            refs.append(Reference(name, host, port, var.path, var.line, False))
    for host, port, path, line, fallback_for, constant in _code_urls(
        platform, tuple(service.python_files)
    ):
        if unread_setting(platform, service, constant, fallback_for or ""):
            continue  # the default of a setting none of its code reads
        if fallback_for and fallback_for in service.env:
            continue  # the environment decides; its value is checked instead
        if fallback_for and fallback_for in service.documented_env:
            continue  # an env file kept out of the repository sets it, as its example says
        refs.append(Reference("a URL in code", host, port, path, line, True))
    return refs


_CodeUrl = tuple[str, int | None, str, int, str | None, StringConstant]


def _host_cut_short(constant: StringConstant, host: str) -> bool:
    """Whether an f-string's interpolation finishes the host (`f"https://api-{env}.example.com"`
    leaves `api-`): a host the text ends on with a separator is only its first part."""
    return constant.cut and host[-1:] in {"-", "_", "."} and constant.value.lower().endswith(host)


def _code_urls(platform: Platform, files: tuple[str, ...]) -> list[_CodeUrl]:
    """Internal-looking URLs in a set of files, read once per set: siblings share their code."""
    cache: dict[tuple[str, ...], list[_CodeUrl]] = platform.derived("code-urls", dict)
    found = cache.get(files)
    if found is not None:
        return found
    found = []
    for path, _, constant in url_constants(platform, files):
        for url in find_urls(constant.value):
            if url.start != 0 or url.scheme not in _CODE_SCHEMES:
                continue
            if not _internal(url.host):
                continue
            if _host_cut_short(constant, url.host):
                continue
            if not url.explicit_port and not url.is_http:
                continue  # a database URL without a port is usually a template's
            # An HTTP URL without a port still names its host (`http://api-gateway-url/x`);
            # its port is left unjudged: port 80 may be a proxy's the scan cannot see.
            port = url.port if url.explicit_port else None
            found.append((url.host, port, path, constant.line, constant.env_default_for, constant))
    cache[files] = found
    return found
