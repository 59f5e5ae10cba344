"""The service catalog: the platform's services as the tracker and the monitor know them."""

from __future__ import annotations

import re

from passmuster.core.catalog import Service
from passmuster.scanner.context.model import Platform, ServiceDef

HEALTH_PATHS = ("/healthz", "/health", "/livez", "/readyz", "/health/live", "/status")
_URL = re.compile(r"https?://[^\s'\"]+")
_ROUTE = re.compile(r"""\.(?:get|api_route|route)\(\s*["'](/[^"']*)["']""")


def health_path(service: ServiceDef, platform: Platform) -> str | None:
    """The path of the service's health route: configured, from its healthcheck, or its code."""
    if service.health_path:
        return service.health_path
    if service.healthcheck is not None and not service.healthcheck.disabled:
        match = _URL.search(service.healthcheck.command_text)
        if match:
            path = "/" + match.group(0).split("://", 1)[1].partition("/")[2]
            return path.rstrip("'\"") if path != "/" else path
    routes = app_routes(service, platform)
    return next((p for p in HEALTH_PATHS if p in routes), None)


def app_routes(service: ServiceDef, platform: Platform) -> set[str]:
    """Paths registered with `@app.get("/…")`-style decorators in the service's code."""
    routes: set[str] = set()
    for source in platform.python_files(service):
        if ".get(" in source.text or "route(" in source.text:
            routes.update(_ROUTE.findall(source.text))
    return routes


def _serves_no_http(service: ServiceDef) -> bool:
    """A queue worker built from its API's image inherits the API's EXPOSE and routes, but does
    not serve them."""
    entry = service.entry
    return entry is not None and entry.server in ("celery", "dramatiq", "rq", "arq")


def main_port(service: ServiceDef) -> int | None:
    """The container port the service serves on: what it listens on, else what it exposes."""
    for ref in (*service.listens, *service.expose):
        return ref.port
    if service.ports:
        return service.ports[0].container
    return None


def catalog_services(platform: Platform) -> list[Service]:
    """One `Service` per service name (first definition wins), for the desk and the monitor.

    `health_url` uses the compose hostname and container port (`http://identity:8001/healthz`);
    `ports` lists published mappings as `host:container[/udp]`, else the container port.
    """
    result: list[Service] = []
    for service in platform.by_name().values():
        port = main_port(service)
        path = health_path(service, platform)
        if _serves_no_http(service):
            port = port if service.ports else None
            path = service.health_path  # only what the user configured
        health_url = f"http://{service.name}:{port}{path}" if port and path else None
        ports = [
            f"{p.host}:{p.container}" + ("" if p.protocol == "tcp" else f"/{p.protocol}")
            for p in service.ports
            if p.host is not None
        ]
        if not ports and port:
            ports = [str(port)]
        result.append(
            Service(
                name=service.name,
                description=service.description,
                owner=service.owner,
                kind=service.kind,
                depends_on=sorted({d.name for d in service.depends_on}),
                health_url=health_url,
                ports=ports,
                source=service.path,
            )
        )
    return result
