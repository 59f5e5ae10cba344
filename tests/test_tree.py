"""The shipped tree itself: no half-resolved merge reaches users."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)
SHIPPED = ("src", "docs", "examples", "bench")
TEXT = {".py", ".css", ".js", ".html", ".md", ".toml", ".txt", ".yml", ".yaml", ".svg", ".mako"}


def test_no_file_holds_a_merge_conflict_marker() -> None:
    found = [
        str(path.relative_to(ROOT))
        for top in SHIPPED
        for path in (ROOT / top).rglob("*")
        if path.suffix in TEXT
        and path.is_file()
        and MARKER.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert found == []
