"""The public status page, its JSON, its Atom feed and badges: no login, read-only, GET only.

Off unless `[status] enabled = true` in passmuster.toml; while off every route here answers 404.
Everything shown comes from `StatusReader` (usecases/status_page.py), which reads only
incidents, their public updates, maintenance windows and probe history of shown services.
"""

from __future__ import annotations

import functools
import gzip
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from xml.etree import ElementTree

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup, escape

from passmuster.core.status_page import (
    Component,
    PublicIncident,
    PublicMaintenance,
    PublicStatus,
    StatusConfig,
    bar_title,
)
from passmuster.core.uptime import Day, Tally, percent
from passmuster.errors import ConfigError, NotFound
from passmuster.settings import find_config
from passmuster.usecases.status_page import StatusReader, status_config
from passmuster.web.badges import COLOURS, STATE_COLOURS, badge
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(route_class=LazyAPIRoute, include_in_schema=False)
BADGE_KINDS = ("health", "uptime-24h", "uptime-7d", "uptime-30d", "response-time")
log = logging.getLogger("passmuster.status")
_CACHE_SECONDS = 30
STATUS_CACHE_SECONDS = 5.0
_CONFIG_CHECK_SECONDS = 2.0
ServiceName = Annotated[str, PathParam(min_length=1, max_length=128)]


# -- configuration -------------------------------------------------------------------------


def _config_start(request: Request) -> Path | None:
    settings = request.app.state.settings
    if settings.platform_root is not None:
        return Path(settings.platform_root)
    from passmuster.storage.engine import sqlite_path

    path = sqlite_path(request.app.state.desk.url)
    # A file desk belongs to the project around it (.passmuster/desk.db).
    return path.parent.parent if path is not None else None


def config_for(request: Request) -> StatusConfig:
    """`[status]`, read again when passmuster.toml changes (checked every few seconds)."""
    state = request.app.state
    given: StatusConfig | None = getattr(state, "status_config", None)
    if given is not None:
        return given
    cached: tuple[float, float, StatusConfig] | None = getattr(state, "_status_cache", None)
    now = time.monotonic()
    if cached is not None and now - cached[0] < _CONFIG_CHECK_SECONDS:
        return cached[2]
    try:
        project = find_config(_config_start(request))
        stamp = project.path.stat().st_mtime if project.path is not None else 0.0
        if cached is not None and cached[1] == stamp:
            state._status_cache = (now, stamp, cached[2])
            return cached[2]
        config = status_config(project)
    except ConfigError as exc:
        if cached is None:
            raise
        # An edit that breaks passmuster.toml must not take the public page down, nor show
        # outsiders the server's file paths: the page goes on with the configuration it had,
        # and the server log says what is wrong (once per mistake).
        if getattr(state, "_status_config_error", None) != exc.message:
            state._status_config_error = exc.message
            log.warning("status page: keeping its last configuration: %s", exc.message)
        state._status_cache = (now, cached[1], cached[2])
        return cached[2]
    state._status_config_error = None
    state._status_cache = (now, stamp, config)
    return config


def _reader(request: Request) -> StatusReader:
    config = config_for(request)
    if not config.enabled:
        raise NotFound("no status page here ([status] enabled = true turns it on)")
    return StatusReader(request.app.state.desk, config)


def _status(request: Request) -> PublicStatus:
    """The public status, computed at most every `status_cache_seconds` (5 s by default) per
    process: the page, its JSON and its feed are the same for every visitor, and a page
    reloading itself in many browsers should not recompute 18,000 days each time."""
    reader = _reader(request)
    state = request.app.state
    ttl: float = getattr(state, "status_cache_seconds", STATUS_CACHE_SECONDS)
    cached: tuple[float, StatusConfig, PublicStatus] | None = getattr(state, "_status_seen", None)
    now = time.monotonic()
    if cached is not None and now - cached[0] < ttl and cached[1] == reader.config:
        return cached[2]
    status = reader.status()
    state._status_seen = (now, reader.config, status)
    return status


# -- the page ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _cell(start_ms: int, count: int, ok: int, incidents: int) -> str:
    """One day of a bar. Cached: most days of most services look alike (every probe passed,
    no incident), so 200 services' 18,000 days come down to a few hundred distinct cells."""
    day = Day(start_ms, Tally(count, ok), incidents)
    return f'<i class="d-{day.level.value}" title="{escape(bar_title(day))}"></i>'


def bar_html(component: Component) -> Markup:
    """The 90 days of a component's bar as one string, joined here rather than in a template
    loop (several times faster for 18,000 days)."""
    return Markup("".join(_cell(*cell) for cell in component.cells()))


def _gzip_accepted(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request) -> Response:
    """The page, gzipped for browsers that take it (every current one does): 200 services'
    bars are about a megabyte of HTML that compresses a hundredfold. The rendered page is kept
    with the public status it shows, so visitors within the same few seconds share one
    rendering and one compression."""
    status = _status(request)
    gzipped = _gzip_accepted(request)
    state = request.app.state
    kept: tuple[PublicStatus, bool, bytes] | None = getattr(state, "_status_page", None)
    if kept is not None and kept[0] is status and kept[1] == gzipped:
        body = kept[2]
    else:
        html = (
            request.app.state.templates.made()
            .env.get_template("status.html")
            .render(status=status, bar=bar_html, percent=percent, STATE_COLOURS=STATE_COLOURS)
            .encode("utf-8")
        )
        body = gzip.compress(html, compresslevel=6, mtime=0) if gzipped else html
        state._status_page = (status, gzipped, body)
    headers = {
        "Cache-Control": f"public, max-age={min(status.refresh, _CACHE_SECONDS)}",
        "Vary": "Accept-Encoding",
    }
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="text/html", headers=headers)


# -- JSON ----------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def _incident_json(incident: PublicIncident) -> dict[str, Any]:
    return {
        "id": incident.number,
        "title": incident.title,
        "stage": incident.stage.value,
        "severity": incident.severity,
        "services": list(incident.services),
        "opened_at": _iso(incident.opened_at),
        "resolved_at": _iso(incident.resolved_at),
        "updates": [
            {"stage": u.stage.value, "message": u.message, "at": _iso(u.at)}
            for u in incident.updates
        ],
    }


def _maintenance_json(window: PublicMaintenance) -> dict[str, Any]:
    return {
        "id": window.id,
        "message": window.message,
        "services": list(window.services),
        "starts_at": _iso(window.starts_at),
        "ends_at": _iso(window.ends_at),
        "recurring": window.recurring,
        "active": window.active,
    }


def status_json(status: PublicStatus) -> dict[str, Any]:
    return {
        "title": status.title,
        "state": status.state,
        "headline": status.headline,
        "generated_at": _iso(status.generated_at),
        "components": [
            {
                "name": c.name,
                "group": g.name,
                "state": c.state,
                "uptime_90d": None if c.uptime_90d is None else round(c.uptime_90d, 4),
            }
            for g in status.groups
            for c in g.components
        ],
        "incidents": [_incident_json(i) for i in status.incidents],
        "maintenance": [_maintenance_json(m) for m in status.maintenance],
        "past_incidents": [_incident_json(i) for _, day in status.past for i in day],
    }


@router.get("/status.json")
def status_json_route(request: Request) -> JSONResponse:
    status = _status(request)
    return JSONResponse(
        status_json(status), headers={"Cache-Control": f"public, max-age={_CACHE_SECONDS}"}
    )


# -- Atom ----------------------------------------------------------------------------------

_ATOM = "http://www.w3.org/2005/Atom"


def atom_feed(status: PublicStatus, base_url: str) -> bytes:
    """Incidents (current and past) and scheduled maintenance, newest change first."""
    ElementTree.register_namespace("", _ATOM)

    def sub(parent: ElementTree.Element, tag: str, text: str | None = None) -> ElementTree.Element:
        element = ElementTree.SubElement(parent, f"{{{_ATOM}}}{tag}")
        if text is not None:
            element.text = text
        return element

    feed = ElementTree.Element(f"{{{_ATOM}}}feed")
    sub(feed, "title", status.title)
    sub(feed, "id", f"{base_url}/status")
    link = sub(feed, "link")
    link.set("href", f"{base_url}/status")
    self_link = sub(feed, "link")
    self_link.set("rel", "self")
    self_link.set("href", f"{base_url}/status/feed.atom")
    entries: list[tuple[datetime, str, str, str]] = []
    seen: set[int] = set()
    for incident in [*status.incidents, *(i for _, day in status.past for i in day)]:
        if incident.number in seen:
            continue
        seen.add(incident.number)
        lines = [
            f"{u.at:%Y-%m-%d %H:%M} UTC: {u.stage.value}: {u.message}" for u in incident.updates
        ]
        if incident.resolved_at is not None:
            lines.append(f"{incident.resolved_at:%Y-%m-%d %H:%M} UTC: resolved")
        summary = "\n".join(lines) or incident.stage.value
        title = f"[{incident.stage.value}] {incident.title}"
        entries.append((incident.changed_at, f"incident-{incident.number}", title, summary))
    for window in status.maintenance:
        title = f"[maintenance] {window.message}"
        summary = (
            f"{', '.join(window.services)}: {window.starts_at:%Y-%m-%d %H:%M} to "
            f"{window.ends_at:%Y-%m-%d %H:%M} UTC"
        )
        when = window.starts_at if window.active else status.generated_at
        entries.append(
            (when, f"maintenance-{window.id}-{window.starts_at:%Y%m%d%H%M}", title, summary)
        )
    entries.sort(key=lambda e: e[0], reverse=True)
    sub(feed, "updated", _iso(entries[0][0] if entries else status.generated_at))
    for when, key, title, summary in entries:
        entry = sub(feed, "entry")
        sub(entry, "id", f"{base_url}/status#{key}")
        sub(entry, "title", title)
        sub(entry, "updated", _iso(when))
        entry_link = sub(entry, "link")
        entry_link.set("href", f"{base_url}/status#{key}")
        content = sub(entry, "content", summary)
        content.set("type", "text")
    body: bytes = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


@router.get("/status/feed.atom")
def status_feed(request: Request) -> Response:
    status = _status(request)
    base = str(request.base_url).rstrip("/")
    return Response(
        atom_feed(status, base),
        media_type="application/atom+xml",
        headers={"Cache-Control": f"public, max-age={_CACHE_SECONDS}"},
    )


# -- badges --------------------------------------------------------------------------------


def _svg(body: str) -> Response:
    return Response(
        body,
        media_type="image/svg+xml",
        headers={"Cache-Control": f"public, max-age={_CACHE_SECONDS}"},
    )


@router.get("/status/badges/platform.svg")
def platform_badge(request: Request) -> Response:
    reader = _reader(request)
    state = reader.platform_state()
    return _svg(badge(reader.config.title, state, STATE_COLOURS.get(state, COLOURS["none"])))


@router.get("/status/badges/{service}/{kind}.svg")
def service_badge(request: Request, service: ServiceName, kind: str) -> Response:
    if kind not in BADGE_KINDS:
        raise NotFound(f"no badge {kind!r}: one of {', '.join(BADGE_KINDS)}")
    period = kind.removeprefix("uptime-")
    needs = (period,) if kind.startswith("uptime-") else ()
    figures = _reader(request).badge_figures(service, needs, latency=kind == "response-time")
    if kind == "health":
        return _svg(badge(service, figures.state, STATE_COLOURS.get(figures.state, "#757575")))
    if kind == "response-time":
        ms = figures.response_ms
        text = "no data" if ms is None else f"{ms:.0f} ms"
        colour = (
            COLOURS["none"]
            if ms is None
            else COLOURS["good"]
            if ms < 300
            else COLOURS["major"]
            if ms < 1000
            else COLOURS["outage"]
        )
        return _svg(badge(f"{service} response", text, colour))
    from passmuster.core.uptime import level

    value = figures.uptime[period]
    return _svg(badge(f"{service} uptime {period}", percent(value), COLOURS[level(value).value]))
