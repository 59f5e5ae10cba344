"""Running without the cyclic garbage collector: one switch for the scanner, the log reader, and
importing and exporting logs."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic GC passes inside; the collector is as it was after. Reading a platform or an
    issue log builds a large graph of long-lived objects and frees almost nothing: the collector
    would walk it again and again (40% of a 1,000-service scan). A command that reports a result
    keeps it paused until it has written the report, for the same graph lives in the result
    until then."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
