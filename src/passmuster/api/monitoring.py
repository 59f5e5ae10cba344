"""The health monitor inside `serve --monitor`, and the health view the pages read from it."""

from __future__ import annotations

import asyncio
from typing import Any

from passmuster.api.health import HealthView, NoHealth
from passmuster.errors import ConfigError


class InProcessMonitor:
    """Runs the monitor's loop next to the server and exposes what it has seen."""

    def __init__(self, monitor: Any, health: HealthView) -> None:
        self._monitor = monitor
        self.health = health

    @classmethod
    def create(cls, desk: Any) -> InProcessMonitor:
        try:
            from passmuster.monitor import Monitor  # type: ignore[attr-defined]
        except ImportError:
            raise ConfigError("--monitor: this passmuster has no health monitor yet") from None
        monitor = Monitor(desk)
        return cls(monitor, NoHealth())

    async def run(self, stop: asyncio.Event) -> None:
        await self._monitor.run(stop)
