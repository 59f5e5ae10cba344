"""SLA badges beside issues on the board and the list, and the SLA page's states: one cache per
open desk, refreshed when the desk changes, in the background on a big desk."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from passmuster.core.durations import duration_text
from passmuster.core.sla import worst_clocks

if TYPE_CHECKING:
    from passmuster.core.sla import SlaStatus
    from passmuster.usecases.desk import Desk

log = logging.getLogger("passmuster.web")

SLA_CACHE_SECONDS = 10.0
SLA_SYNC_SECONDS = 0.1


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
