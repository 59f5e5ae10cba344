"""Values several rules derive from one platform, computed once per scan.

The platform model has slots and no weak references, so the value for the most recent platform
is kept per name. Each caller works on the object it got back: a concurrent scan of another
platform replaces the entry but never shares its values with this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from passmuster.scanner.context.model import Platform

T = TypeVar("T")

_HELD: dict[str, tuple[Platform, Any]] = {}


def per_scan(platform: Platform, name: str, build: Callable[[], T]) -> T:
    """The value `build()` made for this platform under `name`, built on first use."""
    held = _HELD.get(name)
    if held is not None and held[0] is platform:
        return cast(T, held[1])
    value = build()
    _HELD[name] = (platform, value)
    return value
