"""Path parameters the pages share, checked before a handler runs: an issue number fits the
database's integer, a channel name its column."""

from __future__ import annotations

from fastapi import Path

NumberPath = Path(ge=1, le=2**31 - 1)
ChannelPath = Path(min_length=1, max_length=100)
