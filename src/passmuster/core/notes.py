"""Log notes: what a hand-written log says besides its issues.

Format templates, legends, escalation workflows, contact protocols, statistics: an import keeps
each such section of a log as a note (per log, in the log's order), so that they stay visible
on the desk (`passmuster notes`) and in an exported log (`passmuster export --notes`) after a
team stops keeping the Markdown file by hand.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LogNote:
    """A document-level section of a log: kept, not an issue. `path` is the log as the desk
    names it (relative to the desk's folder when inside it)."""

    path: str
    line: int
    title: str
    body: str
