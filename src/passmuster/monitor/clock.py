"""The monitor's clock: its stores keep times as milliseconds since the epoch (UTC)."""

from __future__ import annotations

import time
from collections.abc import Iterable


def now_ms() -> int:
    return int(time.time() * 1000)


def lease_ms_beyond(timeouts: Iterable[float], default: float) -> int:
    """A claim's lease in milliseconds: two seconds past the longest of `timeouts` (seconds;
    `default` when there are none), so a worker still at work never loses what it claimed."""
    return int((max(timeouts, default=default) + 2.0) * 1000)
