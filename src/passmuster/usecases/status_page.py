"""The public status: gathered from the desk and the monitor's history, filtered for outsiders.

`StatusReader.status()` is what the status page, its JSON and its Atom feed all show;
`StatusReader.badge_figures()` what a badge shows. Both read only incidents (never other
issues), their public updates (never comments or events), the services the configuration does
not hide, and probe history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from passmuster.core.epoch_ms import ms_of
from passmuster.core.maintenance import MaintenanceWindow, covering
from passmuster.core.status_page import (
    Component,
    PublicIncident,
    PublicMaintenance,
    PublicStatus,
    PublicUpdate,
    StatusConfig,
    group,
    public_stage,
    visible_services,
    worst,
)
from passmuster.core.uptime import (
    BAR_DAYS,
    DAY_MS,
    HOUR_MS,
    day_of,
    incident_days,
    uptime_of,
)
from passmuster.errors import NotFound
from passmuster.settings import ProjectConfig
from passmuster.storage.incident_update_store import IncidentUpdateStore
from passmuster.storage.maintenance_store import MaintenanceStore
from passmuster.storage.public_incident_store import recent_incidents
from passmuster.storage.uptime_store import (
    TargetHealth,
    UptimeStore,
    catalog_names,
    in_catalog,
    service_target_health,
    target_health,
)

PERIODS = {"24h": 24 * HOUR_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS}


def status_config(project: ProjectConfig) -> StatusConfig:
    """`[status]` of the project configuration (errors name the file and field)."""
    return project.section("status", StatusConfig)


@dataclass(frozen=True, slots=True)
class BadgeFigures:
    """What one service's badges show."""

    name: str
    state: str
    uptime: dict[str, float | None]  # by period: 24h, 7d, 30d
    response_ms: float | None  # mean over the last 24 hours


class StatusReader:
    """Reads the public status from a desk (anything with `.engine`, `.services()`, `.issues()`)."""

    def __init__(
        self,
        desk: Any,
        config: StatusConfig,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.desk = desk
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        engine = desk.engine
        self.engine = engine
        self.uptime = UptimeStore(engine)
        self.windows = MaintenanceStore(engine)
        self.updates = IncidentUpdateStore(engine)

    # -- what is shown -------------------------------------------------------------------------

    def _targets(self) -> dict[str, list[TargetHealth]]:
        by_service: dict[str, list[TargetHealth]] = defaultdict(list)
        for row in target_health(self.engine):
            by_service[row.service or row.name].append(row)
        return by_service

    def services(self, targets: dict[str, list[TargetHealth]] | None = None) -> list[str]:
        """The services the page shows, in page order."""
        targets = self._targets() if targets is None else targets
        catalog = catalog_names(self.engine)
        return visible_services(self.config, [*catalog, *targets])

    def status(self) -> PublicStatus:
        now = self.clock()
        now_ms = ms_of(now)
        targets = self._targets()
        shown = self.services(targets)
        shown_set = set(shown)
        windows = self.windows.active()
        incidents = self._incidents(shown_set, now)
        since_ms = day_of(now_ms) - (BAR_DAYS - 1) * DAY_MS
        history = self.uptime.bar_days(
            since_ms, [r.name for name in shown for r in targets.get(name, [])]
        )
        spans: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        for incident in incidents:
            opened = ms_of(incident.opened_at)
            closed = None if incident.resolved_at is None else ms_of(incident.resolved_at)
            for service in incident.services:
                spans[service].append((opened, closed))
        components: dict[str, Component] = {}
        empty: dict[int, tuple[int, int]] = {}
        for name in shown:
            rows = targets.get(name, [])
            days = history.get(rows[0].name, empty) if len(rows) == 1 else {}
            for row in rows if len(rows) > 1 else ():
                for start, (count, ok) in history.get(row.name, empty).items():
                    had = days.get(start, (0, 0))
                    days[start] = (had[0] + count, had[1] + ok)
            state = worst(r.health for r in rows) if rows else "unknown"
            if state != "up" and covering(windows, [name], now) is not None:
                state = "maintenance"
            components[name] = Component(
                name=name,
                state=state,
                today_ms=now_ms,
                counts=days,
                incidents=incident_days(spans.get(name, []), now_ms=now_ms, since_ms=since_ms),
                uptime_90d=uptime_of(days.values()),
            )
        current = [i for i in incidents if i.current]
        cutoff = now - timedelta(days=self.config.history_days)
        past_by_day: dict[datetime, list[PublicIncident]] = defaultdict(list)
        for incident in incidents:
            if not incident.current and incident.opened_at >= cutoff:
                day = incident.opened_at.replace(hour=0, minute=0, second=0, microsecond=0)
                past_by_day[day].append(incident)
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        past = [
            (today - timedelta(days=n), past_by_day.get(today - timedelta(days=n), []))
            for n in range(self.config.history_days)
        ]
        maintenance = self._maintenance(windows, shown_set, now)
        state = worst(c.state for c in components.values()) if components else "unknown"
        return PublicStatus(
            title=self.config.title,
            description=self.config.description,
            generated_at=now,
            refresh=self.config.refresh,
            state=state,
            groups=group(self.config, components),
            incidents=current,
            maintenance=maintenance,
            past=past,
        )

    def _incidents(self, shown: set[str], now: datetime) -> list[PublicIncident]:
        """Incidents readers may see, newest first: those touching a shown service, and those a
        coordinator posted a public update to. Other issue types never appear."""
        recent = recent_incidents(self.engine, now - timedelta(days=BAR_DAYS))
        updates = self.updates.for_incidents(i.number for i in recent)
        out: list[PublicIncident] = []
        for issue in recent:
            posted = updates.get(issue.number, [])
            services = tuple(s for s in issue.services if s in shown)
            if not services and not posted:
                continue
            public = [PublicUpdate(u.stage, u.message, u.at) for u in posted]
            out.append(
                PublicIncident(
                    number=issue.number,
                    title=issue.title,
                    services=services,
                    severity=issue.severity,
                    opened_at=issue.opened_at,
                    resolved_at=None if issue.active else issue.resolved_at,
                    stage=public_stage(issue.active, public),
                    updates=public,
                )
            )
        out.sort(key=lambda i: i.opened_at, reverse=True)
        return out

    def _maintenance(
        self, windows: list[MaintenanceWindow], shown: set[str], now: datetime
    ) -> list[PublicMaintenance]:
        ahead = now + timedelta(days=self.config.upcoming_days)
        out: list[PublicMaintenance] = []
        for window in windows:
            services = tuple(s for s in window.services if s in shown)
            if not services:
                continue
            upcoming = window.next_after(now)
            if upcoming is None or upcoming[0] > ahead:
                continue
            out.append(
                PublicMaintenance(
                    id=window.id,
                    message=window.message,
                    services=services,
                    starts_at=upcoming[0],
                    ends_at=upcoming[1],
                    recurring=window.recurrence is not None,
                    active=upcoming[0] <= now,
                )
            )
        out.sort(key=lambda m: m.starts_at)
        return out

    # -- badges --------------------------------------------------------------------------------

    def badge_figures(
        self, service: str, periods: Iterable[str] = tuple(PERIODS), *, latency: bool = True
    ) -> BadgeFigures:
        """One shown service's figures: uptime over `periods` only, the mean response time over
        24 hours if `latency`; NotFound for a service the page does not show. Reads that
        service's targets alone: a badge is fetched often, by many READMEs."""
        rows = service_target_health(self.engine, service)
        shown = service not in self.config.hidden and (
            bool(rows) or in_catalog(self.engine, service)
        )
        if not shown:
            raise NotFound(f"no service {service!r} on the status page")
        names = [r.name for r in rows]
        now = self.clock()
        now_ms = ms_of(now)
        uptime: dict[str, float | None] = {}
        for period in periods:
            count, ok = (
                self.uptime.uptime_since(now_ms - PERIODS[period], names) if names else (0, 0)
            )
            uptime[period] = None if count == 0 else 100.0 * ok / count
        # The mean response time needs latencies, which only the tiers keep.
        day = (
            self.uptime.periods({"24h": now_ms - PERIODS["24h"]}, names)["24h"]
            if latency and names
            else None
        )
        state = worst(r.health for r in rows) if rows else "unknown"
        if state != "up" and covering(self.windows.active(), [service], now):
            state = "maintenance"
        return BadgeFigures(service, state, uptime, None if day is None else day.mean_latency_ms)

    def platform_state(self) -> str:
        targets = self._targets()
        shown = self.services(targets)
        windows = self.windows.active()
        now = self.clock()
        states = []
        for name in shown:
            rows = targets.get(name, [])
            state = worst(r.health for r in rows) if rows else "unknown"
            if state != "up" and covering(windows, [name], now) is not None:
                state = "maintenance"
            states.append(state)
        return worst(states) if states else "unknown"
