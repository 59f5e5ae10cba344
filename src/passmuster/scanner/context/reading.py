"""The one way the scanner reads a file of the repository it scans.

A repository is input from anyone who can push to it, so reading it must not leak or hang:

- a symbolic link is followed only while its target stays inside the repository (a link to
  `/etc/shadow` would otherwise put that file's lines into issues any reader can search);
- only regular files are read: a FIFO would block the scan forever, `/dev/zero` never ends;
- at most `max_bytes` are read per file: a larger file is not read at all (a truncated compose
  file or module would give wrong findings), and says so;
- the scan's `Deadline` is checked before each file, so a huge repository stops with a clear
  message instead of running on.

Every caller gets `bytes` or an `Unreadable` naming the reason, which discovery turns into a
PM001 finding for that file.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from dataclasses import dataclass

from passmuster.errors import PassmusterError

# Compose files, Dockerfiles and requirements are kilobytes (a 2,000-service compose file is
# under 1 MiB). Parsing multiplies size: a dense 1 MiB Python module becomes a few hundred MB of
# syntax tree, a 4 MiB YAML file takes ten seconds. Larger files are skipped with a finding.
MAX_FILE_BYTES = 1024 * 1024
# Seconds a scan may take before it stops (the CLI's default; `[scan] timeout` changes it).
SCAN_TIMEOUT = 600.0

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_OPEN_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_CHUNK = 256 * 1024


class Unreadable(Exception):
    """A repository file the scanner refuses or fails to read; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FileMissing(Unreadable):
    """The path names nothing (or passes through something that is not a folder)."""


class ScanTimeout(PassmusterError):
    """The scan ran past its time limit."""

    exit_code = 2
    status_code = 422


@dataclass(slots=True)
class Deadline:
    """When a scan must stop (monotonic seconds); `check()` raises ScanTimeout past it."""

    seconds: float
    ends: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(seconds, time.monotonic() + seconds)

    def check(self, doing: str = "") -> None:
        if time.monotonic() > self.ends:
            where = f" while {doing}" if doing else ""
            raise ScanTimeout(
                f"the scan took longer than {self.seconds:g} s and stopped{where}; "
                "raise [scan] timeout (or --timeout) for a repository this large"
            )


def inside(root: str, path: str) -> bool:
    """Whether `path` (already resolved) is `root` or below it (`root` resolved too)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class RepoReader:
    """Reads files under one resolved folder `root`; one per scan (it caches folders' real
    paths, so a file costs one `lstat` beyond its read)."""

    def __init__(
        self, root: str, *, max_bytes: int = MAX_FILE_BYTES, deadline: Deadline | None = None
    ) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.deadline = deadline
        self._real_dirs: dict[str, str] = {}

    def read(self, rel: str) -> bytes:
        """The bytes of `rel`, or Unreadable saying why not.

        `rel` may pass through symbolic links as long as every one of them stays inside `root`.
        """
        if self.deadline is not None:
            self.deadline.check(f"reading {rel}")
        real = self._real_path(rel)
        if not inside(self.root, real):
            raise Unreadable("a symbolic link out of the repository; not followed")
        try:
            before = os.lstat(real)
        except OSError as exc:
            raise _failed(exc) from None
        if not stat.S_ISREG(before.st_mode):
            raise Unreadable(f"not a regular file ({_kind(before.st_mode)}); not read")
        if before.st_size > self.max_bytes:
            raise Unreadable(_too_large(self.max_bytes))
        try:
            # O_NOFOLLOW and O_NONBLOCK: if the file was swapped for a link or a FIFO since the
            # check above, opening fails or returns at once instead of following or blocking.
            fd = os.open(real, _OPEN_FLAGS)
        except OSError as exc:
            raise _failed(exc) from None
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode) or opened.st_ino != before.st_ino:
                raise Unreadable("the file changed while it was read; not read")
            return _read_at_most(fd, self.max_bytes)
        except OSError as exc:
            raise _failed(exc) from None
        finally:
            os.close(fd)

    def _real_path(self, rel: str) -> str:
        folder, name = os.path.split(os.path.normpath(os.path.join(self.root, rel)))
        return self._resolve(self._real_dir(folder), name)

    def _real_dir(self, folder: str) -> str:
        """The real path of `folder`, one `lstat` per folder not seen before."""
        found = self._real_dirs.get(folder)
        if found is None:
            parent, name = os.path.split(folder)
            if folder == self.root or not name or not inside(self.root, folder):
                found = os.path.realpath(folder)
            else:
                found = self._resolve(self._real_dir(parent), name)
            self._real_dirs[folder] = found
        return found

    @staticmethod
    def _resolve(real_folder: str, name: str) -> str:
        path = os.path.join(real_folder, name)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return os.path.realpath(path)
        except OSError:
            pass  # reported by the caller's own lstat
        return path


def _read_at_most(fd: int, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise Unreadable(_too_large(max_bytes))


def read_bytes(
    root: str,
    rel: str,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    deadline: Deadline | None = None,
) -> bytes:
    """The bytes of `rel` under the resolved folder `root` (see RepoReader.read)."""
    return RepoReader(root, max_bytes=max_bytes, deadline=deadline).read(rel)


def read_text(
    root: str,
    rel: str,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    deadline: Deadline | None = None,
) -> str:
    """`read_bytes` decoded as UTF-8 (a leading BOM dropped); Unreadable when it is not UTF-8."""
    data = read_bytes(root, rel, max_bytes=max_bytes, deadline=deadline)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    return text[1:] if text.startswith("\ufeff") else text


def _too_large(max_bytes: int) -> str:
    return f"larger than {_size(max_bytes)}; not read (raise [scan] max-file-bytes to read it)"


def _size(count: int) -> str:
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MiB"
    if count >= 1024 and count % 1024 == 0:
        return f"{count // 1024} KiB"
    return f"{count} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a file"


def _failed(exc: OSError) -> Unreadable:
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return FileMissing(f"cannot read: {exc.strerror}")
    if exc.errno == errno.ELOOP:
        return Unreadable("a symbolic link loop; not followed")
    return Unreadable(f"cannot read: {exc.strerror or exc}")
