"""How long something took or has left, as people read it: the one formatter the CLI and the
pages share.

It takes a `timedelta` only: a bare number is seconds in one place and hours in another, so the
caller says which (`timedelta(hours=stats.mttr_hours)`). Durations written into configuration
(`4h`, `1w 2d`, read back by `core.sla.parse_duration`) are `core.sla.format_duration`'s.
"""

from __future__ import annotations

from datetime import timedelta


def duration_text(value: timedelta | None) -> str:
    """`45s`, `12m`, `2h 05m`, `3d 4h`; negative values keep their sign; "-" for None."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{sign}{seconds:.0f}s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{sign}{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{sign}{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{sign}{days}d {hours}h"


def hours_text(hours: float | None) -> str:
    """A figure kept in hours (statistics, DORA keys) as `duration_text` shows it."""
    return "-" if hours is None else duration_text(timedelta(hours=hours))


def seconds_text(seconds: float | None) -> str:
    """A figure kept in seconds (a deployment attempt) as `duration_text` shows it."""
    return "-" if seconds is None else duration_text(timedelta(seconds=seconds))
