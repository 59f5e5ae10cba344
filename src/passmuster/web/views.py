"""What each page shows, gathered from the desk: plain data for the templates.

The pages read through the Desk; the two tallies the Desk has no call for (open issues and
incidents per service) are one grouped query each over the tracker's tables, so the services
page costs the same with 10 services or 1,000.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import Path
from markupsafe import Markup

from passmuster.core.durations import duration_text
from passmuster.core.issues import (
    ALLOWED_TRANSITIONS,
    IssueQuery,
    IssueType,
    Severity,
    Status,
)
from passmuster.core.leases import claims_table
from passmuster.core.limits import check_storable
from passmuster.core.sla import worst_clocks
from passmuster.core.stats import month_axis
from passmuster.web.graph import dependency_svg, sparkline_svg

if TYPE_CHECKING:
    from passmuster.core.sla import SlaStatus
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.health import HealthView

log = logging.getLogger("passmuster.web")

NumberPath = Path(ge=1, le=2**31 - 1)
ChannelPath = Path(min_length=1, max_length=100)
BOARD_LIMIT = 40
PAGE_SIZE = 50
# The graph stays readable (and the page light) up to this many services; the table shows
# this many unless asked for all.
GRAPH_LIMIT = 150
TABLE_LIMIT = 200
SLA_CACHE_SECONDS = 10.0
SLA_SYNC_SECONDS = 0.1


# --- formatting -------------------------------------------------------------------------


def when(moment: datetime | None) -> Markup:
    """A UTC time; the page's script rewrites it into the reader's local time."""
    if moment is None:
        return Markup("")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    shown = moment.strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{}">{}</time>').format(moment.isoformat(), shown)


def ago(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return duration_text(datetime.now(UTC) - moment) + " ago"


# --- filters ----------------------------------------------------------------------------


@dataclass(slots=True)
class Filters:
    statuses: list[Status] = field(default_factory=list)
    severities: list[Severity] = field(default_factory=list)
    types: list[IssueType] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    text: str = ""
    page: int = 1

    @classmethod
    def parse(
        cls,
        status: Sequence[str],
        severity: Sequence[str],
        type_: Sequence[str],
        service: Sequence[str],
        q: str | None,
        page: int,
    ) -> Filters:
        return cls(
            statuses=[Status.parse(s, field_name="status") for s in status if s],
            severities=[Severity.parse(s, field_name="severity") for s in severity if s],
            types=[IssueType.parse(s, field_name="type") for s in type_ if s],
            services=[check_storable("service", s) for s in service if s],
            text=check_storable("q", q or "").strip(),
            page=page,
        )

    def query(self) -> IssueQuery:
        return IssueQuery(
            statuses=self.statuses,
            severities=self.severities,
            types=self.types,
            services=self.services,
            text=self.text or None,
            sort="urgency",
            limit=PAGE_SIZE,
            offset=(self.page - 1) * PAGE_SIZE,
        )

    def pairs(self, *, page: int | None = None) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        out += [("status", s.value) for s in self.statuses]
        out += [("severity", s.value) for s in self.severities]
        out += [("type", t.value) for t in self.types]
        out += [("service", s) for s in self.services]
        if self.text:
            out.append(("q", self.text))
        if page is not None and page > 1:
            out.append(("page", str(page)))
        return out

    def query_string(self, *, page: int | None = None) -> str:
        return urlencode(self.pairs(page=self.page if page is None else page))


# --- SLA badges -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Badge:
    state: str  # at_risk, breached
    clock: str
    remaining: timedelta

    @property
    def text(self) -> str:
        verb = "overdue" if self.remaining < timedelta(0) else "left"
        return f"{self.clock} {duration_text(abs(self.remaining))} {verb}"


class _SlaCache:
    """SLA states of every active issue, shared by the board, the list and the SLA page.

    Working them out reads every active issue's timeline. The answer is reused until the desk
    changes (a new event) or SLA_CACHE_SECONDS pass. When it is stale, a desk where it is quick
    to work out (under SLA_SYNC_SECONDS) gets a fresh answer at once; a big desk gets the last
    answer while a background thread works out the next, so no page waits seconds for it; on
    such a desk the answer is refreshed at most every four times as long as it takes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._compute = threading.Lock()
        self._at = 0.0
        self._cursor = -1
        self._took = 0.0
        self._refreshing = False
        self._statuses: list[SlaStatus] = []

    def statuses(self, desk: Desk) -> list[SlaStatus]:
        cursor = desk.latest_event_id()
        with self._lock:
            known = self._cursor >= 0
            stale = cursor != self._cursor or time.monotonic() - self._at > SLA_CACHE_SECONDS
            if known and not stale:
                return self._statuses
            if known and self._took > SLA_SYNC_SECONDS:
                # At most a fifth of the time goes to working them out, however busy the desk.
                rested = time.monotonic() - self._at >= max(SLA_CACHE_SECONDS, 4 * self._took)
                if rested and not self._refreshing:
                    self._refreshing = True
                    threading.Thread(
                        target=self._refresh, args=(desk,), name="sla-cache", daemon=True
                    ).start()
                return self._statuses
        self.refresh(desk)
        return self._statuses

    def refresh(self, desk: Desk, *, timed: bool = True) -> None:
        """Work the states out now. `timed=False` for a cold first answer (imports, empty
        caches): its time says nothing about the desk's size, so it must not make a small desk
        look big and serve stale states."""
        with self._compute:
            cursor = desk.latest_event_id()
            started = time.monotonic()
            statuses = desk.sla()
            with self._lock:
                self._statuses = statuses
                self._cursor = cursor
                self._at = time.monotonic()
                if timed:
                    self._took = self._at - started

    def _refresh(self, desk: Desk) -> None:
        try:
            self.refresh(desk)
        except Exception:  # the pages go on with the last answer; the log says why
            log.exception("working out SLA states failed")
        finally:
            with self._lock:
                self._refreshing = False

    def badges(self, desk: Desk) -> dict[int, Badge]:
        return {
            number: Badge(s.state, s.clock, s.remaining)
            for number, s in worst_clocks(self.statuses(desk)).items()
        }


_caches: weakref.WeakKeyDictionary[Desk, _SlaCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def sla_cache(desk: Desk) -> _SlaCache:
    """The SLA cache of this open desk (it goes when the desk does)."""
    with _caches_lock:
        cache = _caches.get(desk)
        if cache is None:
            cache = _caches[desk] = _SlaCache()
        return cache


# --- pages ------------------------------------------------------------------------------


def board(desk: Desk) -> dict[str, Any]:
    columns = []
    for status in Status:
        query = IssueQuery(statuses=[status], sort="urgency", limit=BOARD_LIMIT)
        issues = desk.issues(query)
        total = (
            len(issues) if len(issues) < BOARD_LIMIT else desk.count(IssueQuery(statuses=[status]))
        )
        columns.append({"status": status, "issues": issues, "total": total})
    return {
        "columns": columns,
        "badges": sla_cache(desk).badges(desk),
        "claims": claims_table(desk.held(), desk.clock()),
    }


def issue_list(desk: Desk, filters: Filters) -> dict[str, Any]:
    query = filters.query()
    issues = desk.issues(query)
    total = desk.count(
        IssueQuery(
            statuses=query.statuses,
            severities=query.severities,
            types=query.types,
            services=query.services,
            text=query.text,
        )
    )
    pages = max(1, -(-total // PAGE_SIZE))
    return {
        "issues": issues,
        "total": total,
        "filters": filters,
        "pages": pages,
        "badges": sla_cache(desk).badges(desk),
        "partial_url": "/partials/issues?" + filters.query_string(),
        "prev_url": "/issues?" + filters.query_string(page=filters.page - 1)
        if filters.page > 1
        else None,
        "next_url": "/issues?" + filters.query_string(page=filters.page + 1)
        if filters.page < pages
        else None,
    }


def service_names(desk: Desk) -> list[str]:
    return [s.name for s in desk.services()]


def issue_detail(desk: Desk, number: int) -> dict[str, Any]:
    issue = desk.get(number)
    events = desk.events(issue=number, limit=1000)
    comments = desk.comments(number)
    targets = [s for s in Status if s in ALLOWED_TRANSITIONS[issue.status]]
    clocks = [s for s in sla_cache(desk).statuses(desk) if s.number == number]
    # While an issue is open, resolved look-alikes may already hold its fix.
    known = (
        [k for k in desk.known_fixes(issue, limit=3) if k.number != number]
        if issue.status.is_active
        else []
    )
    return {
        "known": known,
        "issue": issue,
        "events": events,
        "comments": comments,
        "targets": targets,
        "clocks": clocks,
        "occurrences": desk.occurrences([number]).get(number),
    }


def services(desk: Desk, health: HealthView, *, show_all: bool = False) -> dict[str, Any]:
    """The catalog with health, latency and open issues, most urgent first.

    A big catalog shows its TABLE_LIMIT most urgent services (all with `show_all`) and
    pictures the GRAPH_LIMIT most urgent in the dependency graph.
    """
    from passmuster.core.catalog import Service
    from passmuster.usecases.health import ServiceHealth

    current = health.current()
    catalog = desk.services()
    # Targets the monitor probes that the desk's catalog does not list yet still show.
    known = {s.name for s in catalog}
    catalog += [Service(name=n, source="monitor") for n in sorted(set(current) - known)]
    open_counts, incident_counts = desk.open_counts_by_service()
    rows: list[dict[str, Any]] = []
    for service in catalog:
        h = current.get(service.name, ServiceHealth(service.name))
        rows.append(
            {
                "service": service,
                "health": h,
                "spark": Markup(sparkline_svg(h.recent)),
                "open": open_counts.get(service.name, 0),
                "incidents": incident_counts.get(service.name, 0),
            }
        )
    # Most urgent first: down, then degraded, unknown, up; then by open issues.
    rows.sort(key=lambda r: (-_URGENCY.get(r["health"].state, 1), -r["open"], r["service"].name))
    counts = Counter(r["health"].state for r in rows)
    states = {name: h.state for name, h in current.items()}
    pictured = [r["service"] for r in rows[:GRAPH_LIMIT]]
    graph = dependency_svg({s.name: s.depends_on for s in pictured}, states)
    shown = rows if show_all else rows[:TABLE_LIMIT]
    from passmuster.monitor.status import channels

    return {
        "channels": channels(desk),
        "rows": shown,
        "total": len(rows),
        "graph": Markup(graph),
        "graph_truncated": len(rows) > GRAPH_LIMIT,
        "graph_limit": GRAPH_LIMIT,
        "counts": counts,
    }


_URGENCY = {"down": 3, "degraded": 2, "unknown": 1, "up": 0}


RESOLUTION_BUCKETS: list[tuple[str, float]] = [
    ("< 1h", 1),
    ("1–4h", 4),
    ("4–24h", 24),
    ("1–3d", 72),
    ("3–7d", 168),
    ("1–4w", 672),
    ("> 4w", float("inf")),
]
SEVERITY_COLOURS = {
    "critical": "#a40e26",
    "high": "#cf222e",
    "medium": "#bf8700",
    "low": "#1a7f37",
    "info": "#8c959f",
}


def resolution_histogram(hours_taken: Iterable[float]) -> list[int]:
    """How many issues took how long to resolve, in RESOLUTION_BUCKETS."""
    counts = [0] * len(RESOLUTION_BUCKETS)
    for hours in hours_taken:
        for i, (_, upper) in enumerate(RESOLUTION_BUCKETS):
            if hours < upper:
                counts[i] += 1
                break
    return counts


def statistics(desk: Desk) -> dict[str, Any]:
    stats = desk.stats()
    months = month_axis(stats.months)  # months without issues show as zero, not skipped
    charts = {
        "months": {
            "labels": [m.label for m in months],
            "datasets": [
                {
                    "label": s.value,
                    "data": [m.by_severity.get(s.value, 0) for m in months],
                    "backgroundColor": SEVERITY_COLOURS[s.value],
                }
                for s in Severity
            ],
        },
        "resolution": {
            "labels": [label for label, _ in RESOLUTION_BUCKETS],
            "datasets": [
                {
                    "label": "resolved issues",
                    "data": resolution_histogram(desk.resolution_hours()),
                    "backgroundColor": "#0969da",
                }
            ],
        },
        "sla": {
            "labels": [a.clock for a in stats.sla],
            "datasets": [
                {"label": "met", "data": [a.met for a in stats.sla], "backgroundColor": "#1a7f37"},
                {
                    "label": "missed",
                    "data": [a.missed for a in stats.sla],
                    "backgroundColor": "#cf222e",
                },
                {
                    "label": "running",
                    "data": [a.pending for a in stats.sla],
                    "backgroundColor": "#8c959f",
                },
            ],
        },
    }
    return {"stats": stats, "charts": json.dumps(charts)}


def sla(desk: Desk) -> dict[str, Any]:
    statuses = sla_cache(desk).statuses(desk)
    return {
        "breached": [s for s in statuses if s.state == "breached"],
        "at_risk": [s for s in statuses if s.state == "at_risk"],
    }


def disabled_channels(desk: Desk) -> list[Any]:
    """Notification channels a permanent error disabled: their notifications are waiting."""
    from passmuster.monitor.status import channels

    return [c for c in channels(desk) if c.state == "disabled"]
