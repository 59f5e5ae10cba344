"""Moments kept as whole milliseconds since the epoch: the monitor's stores and the status
page's bars count time this way; people and the desk read datetimes (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def moment_or_none(ms: int | None) -> datetime | None:
    return None if ms is None else moment(ms)


def ms_of(at: datetime) -> int:
    return int(at.timestamp() * 1000)
