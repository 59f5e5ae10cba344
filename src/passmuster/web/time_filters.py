"""How the pages show a moment: `local` (a UTC time the page's script shows in the reader's
time zone) and `ago`, the templates' filters for times."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup

from passmuster.core.durations import duration_text


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
