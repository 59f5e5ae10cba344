"""When a new occurrence of a resolved runtime error reopens its issue.

Resolved plainly, an issue reopens on any new event: the fix did not hold. Resolved "in the next
release", it reopens only on an event from a release later than the one current when it was
resolved (older releases still running somewhere are expected to keep failing). A closed issue
(won't fix, duplicate, invalid) claims no fix and never reopens.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ResolveMode(enum.StrEnum):
    ANY = "any"  # resolved without a release: any new event is a regression
    NEXT_RELEASE = "next_release"  # fixed in the release after `release`


@dataclass(frozen=True, slots=True)
class ResolvedIn:
    mode: ResolveMode
    release: str | None = None  # the latest release seen when it was resolved (next_release)

    def describe(self) -> str:
        if self.mode is ResolveMode.NEXT_RELEASE:
            after = self.release or "no release seen yet"
            return f"the next release (after {after})"
        return "no particular release"


def is_newer_release(
    candidate: str | None, than: str | None, first_seen: Mapping[str, Any]
) -> bool:
    """Is `candidate` a later release than `than`?

    Versions compare as versions (`billing@1.10.0` after `billing@1.9.2`); anything else (a git
    commit) by when the desk first saw it, a release never seen before being the newest.
    `first_seen` maps releases to a comparable first-seen value.
    """
    if candidate is None or candidate == than:
        return False
    if than is None:
        return True
    versions = _version(candidate), _version(than)
    if versions[0] is not None and versions[1] is not None:
        return bool(versions[0] > versions[1])
    seen, before = first_seen.get(candidate), first_seen.get(than)
    if seen is None:
        return True
    if before is None:
        return False
    return bool(seen > before)


def _version(release: str) -> Any:
    from packaging.version import InvalidVersion, Version

    text = release.rsplit("@", 1)[-1].strip().removeprefix("v")
    try:
        return Version(text)
    except InvalidVersion:
        return None


def regresses(resolved: ResolvedIn, release: str | None, first_seen: Mapping[str, Any]) -> bool:
    """Does an event from `release` reopen an issue resolved as `resolved`?"""
    if resolved.mode is ResolveMode.ANY:
        return True
    return is_newer_release(release, resolved.release, first_seen)


def latest_release(first_seen: Mapping[str, Any]) -> str | None:
    """The newest of the releases in `first_seen` (release -> when first seen), by the order of
    `is_newer_release`."""
    latest: str | None = None
    for release in sorted(first_seen, key=lambda r: (first_seen[r], r)):
        if latest is None or is_newer_release(release, latest, first_seen):
            latest = release
    return latest
