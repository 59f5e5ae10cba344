"""The commit a scan saw, read from the repository's `.git` as plain files (no git is run).

The repository is untrusted: only small regular files are read, through the scanner's reader; a
ref must be a plain `refs/...` name inside the git folder (a HEAD saying `ref: ../../etc/passwd`
is not followed); and only a hexadecimal object id ever comes back, so no other file's content
can reach an issue.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from passmuster.scanner.context.reading import Unreadable, read_text

# A commit id: SHA-1 (40 hex digits) or SHA-256 (64).
_OBJECT_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_REF = re.compile(r"refs/[A-Za-z0-9._/+-]+")
_GIT_FILE_BYTES = 4096
_PACKED_REFS_BYTES = 64 * 1024 * 1024


def git_commit(root: Path) -> str | None:
    """HEAD's commit id read from the .git folder (or `gitdir:` file), walking up from `root`."""
    for folder in (root.resolve(), *root.resolve().parents):
        dot_git = folder / ".git"
        if dot_git.is_dir() and not dot_git.is_symlink():
            return _head(str(dot_git))
        if dot_git.is_file() or dot_git.is_symlink():
            text = _small_text(str(folder), ".git")
            if text is not None and text.startswith("gitdir:"):
                gitdir = os.path.realpath(folder / text.split(":", 1)[1].strip())
                return _head(gitdir) if os.path.isdir(gitdir) else None
            return None
    return None


def _head(gitdir: str) -> str | None:
    head = _small_text(gitdir, "HEAD")
    if head is None:
        return None
    if not head.startswith("ref:"):
        return _object_id(head)
    ref = head.split(":", 1)[1].strip()
    if not _REF.fullmatch(ref) or ".." in ref.split("/"):
        return None
    common = gitdir
    commondir = _small_text(gitdir, "commondir")
    if commondir is not None:  # a linked worktree keeps refs in the main .git folder
        common = os.path.realpath(os.path.join(gitdir, commondir))
    for base in (gitdir, common):
        found = _small_text(base, ref)
        if found is not None:
            return _object_id(found)
    packed = _small_text(common, "packed-refs", max_bytes=_PACKED_REFS_BYTES)
    for line in (packed or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == ref:
            return _object_id(parts[0])
    return None


def _small_text(folder: str, name: str, *, max_bytes: int = _GIT_FILE_BYTES) -> str | None:
    try:
        return read_text(folder, name, max_bytes=max_bytes).strip()
    except Unreadable:
        return None


def _object_id(text: str) -> str | None:
    return text if _OBJECT_ID.fullmatch(text) else None
