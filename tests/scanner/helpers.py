"""What the scanner tests share: the type of the `write_tree` fixture (conftest.py), and a
git index for trees whose committed files matter."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

WriteTree = Callable[[dict[str, str]], Path]


def track(root: Path, *paths: str) -> None:
    """A git index under `root` listing `paths`, as `git add -f` writes it: the scanner reads
    only the index to learn which files are committed."""
    from dulwich.index import IndexEntry, write_index_dict

    entry = IndexEntry(
        ctime=(0, 0),
        mtime=(0, 0),
        dev=0,
        ino=0,
        mode=0o100644,
        uid=0,
        gid=0,
        size=0,
        sha=b"0" * 40,
        flags=0,
        extended_flags=0,
    )
    buffer = io.BytesIO()
    write_index_dict(buffer, {path.encode(): entry for path in paths})
    (root / ".git").mkdir(exist_ok=True)
    (root / ".git" / "index").write_bytes(buffer.getvalue())
