"""What the pages show of runtime errors: an issue's counts, histogram, releases and latest
stack trace (in-app frames first), and each service's errors per hour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from passmuster.core.error_events import frames_for_display
from passmuster.usecases.runtime_errors import error_summary, errors_per_hour
from passmuster.web.graph import bars_svg

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk

HISTOGRAM_DAYS = 14
SERVICE_HOURS = 24


def issue_errors(desk: Desk, number: int) -> dict[str, Any]:
    """`{"errors": …}` for an issue opened by runtime errors, else `{"errors": None}`."""
    summary = error_summary(desk, number, days=HISTOGRAM_DAYS)
    if summary is None:
        return {"errors": None}
    exceptions = []
    if summary.latest is not None:
        # The exception raised last first: it is what the user saw.
        for exc in reversed(summary.latest.event.exceptions):
            in_app, library = frames_for_display(exc)
            exceptions.append({"exc": exc, "in_app": in_app, "library": library})
    counts = [n for _, n in summary.hours]
    return {
        "errors": {
            "summary": summary,
            "histogram": Markup(
                bars_svg(
                    counts, width=560, height=60, label=f"events per hour, {HISTOGRAM_DAYS} days"
                )
            ),
            "exceptions": exceptions,
            "latest": summary.latest,
        }
    }


def service_errors(desk: Desk) -> dict[str, Any]:
    """`{"errors_per_hour": {service: svg}, "errors_today": {service: count}}`."""
    hours = errors_per_hour(desk, hours=SERVICE_HOURS)
    return {
        "errors_per_hour": {
            name: Markup(
                bars_svg(
                    counts, width=72, height=16, label=f"errors per hour, {SERVICE_HOURS} hours"
                )
            )
            for name, counts in hours.items()
        },
        "errors_today": {name: sum(counts) for name, counts in hours.items()},
    }
