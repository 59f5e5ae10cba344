"""The health monitor inside `serve --monitor`; the pages read its results from the desk."""

from __future__ import annotations

import asyncio
from typing import Any

from passmuster.errors import ConfigError


class InProcessMonitor:
    """Runs the monitor's loop next to the server and exposes what it has seen."""

    def __init__(self, monitor: Any) -> None:
        self._monitor = monitor

    @classmethod
    def create(cls, desk: Any) -> InProcessMonitor:
        try:
            from passmuster.monitor import Monitor  # type: ignore[attr-defined]
        except ImportError:
            raise ConfigError("--monitor: this passmuster has no health monitor yet") from None
        monitor = Monitor(desk)
        return cls(monitor)

    async def run(self, stop: asyncio.Event) -> None:
        await self._monitor.run(stop)
