"""One writer at a time per process on a SQLite desk.

SQLite lets one transaction write at a time; the others wait in its busy handler, which sleeps
in growing steps (up to 100 ms) between tries. Under a burst of writes from many server threads
that sleeping, not the writing, is what costs. Queueing the writers on a lock in the process
instead hands the write lock straight on: each write waits only for the ones before it.
Writes from other processes still meet the busy handler, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk

WRITES = frozenset(
    {
        "file",
        "file_many",
        "update",
        "transition",
        "acknowledge",
        "comment",
        "link",
        "record_event",
        "claim",
        "renew",
        "release",
        "sweep_leases",
        "escalate",
        "ensure_service",
        "write",
    }
)


class SerialDesk:
    """The desk, with its write calls (and whole transactions) taken one at a time."""

    def __init__(self, desk: Desk) -> None:
        self._desk = desk
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._desk, name)
        if name not in WRITES or not callable(value):
            return value
        return self._serialised(value)

    def _serialised(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return call(*args, **kwargs)

        return run

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock, self._desk.transaction():
            yield


def serialised(desk: Desk) -> Desk:
    """`desk` itself on PostgreSQL (row locks let writers overlap); serialised on SQLite."""
    if desk.engine.dialect.name != "sqlite":
        return desk
    return cast("Desk", SerialDesk(desk))
