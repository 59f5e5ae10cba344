"""What each page shows, gathered from the desk: plain data for the templates (the board, the
issue list and an issue, the services, statistics and SLA pages). The pages read through the
Desk and the use cases; the list's filters are web/issue_filters.py, the SLA badges
web/sla_badges.py.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from passmuster.core.issues import (
    ALLOWED_TRANSITIONS,
    IssueQuery,
    Severity,
    Status,
)
from passmuster.core.leases import claims_table
from passmuster.core.stats import month_axis
from passmuster.web.graph import dependency_svg, sparkline_svg
from passmuster.web.issue_filters import PAGE_SIZE, Filters
from passmuster.web.sla_badges import sla_cache

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.health import HealthView

BOARD_LIMIT = 40
# The graph stays readable (and the page light) up to this many services; the table shows
# this many unless asked for all.
GRAPH_LIMIT = 150
TABLE_LIMIT = 200


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
    from passmuster.core.health import urgency
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
    rows.sort(key=lambda r: (-urgency(r["health"].state), -r["open"], r["service"].name))
    counts = Counter(r["health"].state for r in rows)
    states = {name: h.state for name, h in current.items()}
    pictured = [r["service"] for r in rows[:GRAPH_LIMIT]]
    graph = dependency_svg({s.name: s.depends_on for s in pictured}, states)
    shown = rows if show_all else rows[:TABLE_LIMIT]
    from passmuster.monitor.channel_status import channels

    return {
        "channels": channels(desk),
        "rows": shown,
        "total": len(rows),
        "graph": Markup(graph),
        "graph_truncated": len(rows) > GRAPH_LIMIT,
        "graph_limit": GRAPH_LIMIT,
        "counts": counts,
    }


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
    # The page shows no priority matrix: its tens of thousands of active issues go unread.
    stats, resolution_hours = desk.stats_and_resolution_hours(priority_matrix=False)
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
                    "data": resolution_histogram(resolution_hours),
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


# The SLA page lists this many clocks of each state, most overdue first, and counts them all: a
# desk far behind has tens of thousands, and the page is laid out again at every change.
SLA_PAGE_ROWS = 100


def sla(desk: Desk) -> dict[str, Any]:
    statuses = sla_cache(desk).statuses(desk)
    breached = [s for s in statuses if s.state == "breached"]
    at_risk = [s for s in statuses if s.state == "at_risk"]
    return {
        "breached": breached[:SLA_PAGE_ROWS],
        "at_risk": at_risk[:SLA_PAGE_ROWS],
        "breached_count": len(breached),
        "at_risk_count": len(at_risk),
    }


def disabled_channels(desk: Desk) -> list[Any]:
    """Notification channels a permanent error disabled: their notifications are waiting."""
    from passmuster.monitor.channel_status import channels

    return [c for c in channels(desk) if c.state == "disabled"]
