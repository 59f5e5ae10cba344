"""Process groups: start a command in a group of its own, tell whether it still runs, and stop
the whole group, children included.

A command starts in a new session (its own process group, with no terminal), so Ctrl-C in the
terminal reaches the deploy and not the services, and stopping the group stops whatever the
command started (uvicorn's reloader and workers, a shell's children). A process is named by
`host:pid:start` (its start time from /proc on Linux), so a pid the system has since given to
another program is never mistaken for it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = socket.gethostname()
_LOG_ROTATE_BYTES = 10 * 1024 * 1024


class ServiceProcess(subprocess.Popen[bytes]):
    """A Popen that may be left running on purpose: a service the deploy started keeps running
    after the deploy ends, which plain Popen reports as a leak when it is collected."""

    detached = False

    def __del__(self, *args: Any, **kwargs: Any) -> None:
        if self.detached:
            return
        super().__del__(*args, **kwargs)


@dataclass(slots=True)
class Started:
    process: ServiceProcess
    identity: str
    log: Path
    offset: int  # where this command's output starts in the log

    @property
    def pgid(self) -> int:
        return self.process.pid


def start(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path, header: str = ""
) -> Started:
    """Run `argv` in a new process group, its output appended to `log`. Raises OSError when
    the program cannot be started (not found, not executable)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        if log.stat().st_size > _LOG_ROTATE_BYTES:
            log.replace(log.with_name(log.name + ".1"))
    with log.open("ab") as out:
        if header:
            out.write(header.encode("utf-8", "replace") + b"\n")
            out.flush()
        offset = out.tell()
        process = ServiceProcess(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Started(process, identity(process.pid), log, offset)


def identity(pid: int) -> str:
    """`host:pid:start`, where start is the process's start time in clock ticks since boot."""
    return f"{HOST}:{pid}:{_start_ticks(pid) or ''}"


def _start_ticks(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; fields resume after the last ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def alive(owner: str | None) -> bool | None:
    """Whether the process `identity()` named still runs: True, False, or None when it ran on
    another machine (or the name cannot be read)."""
    if not owner:
        return None
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    host, pid_text, ticks = parts
    if host != HOST:
        return None
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    now = _start_ticks(pid)
    if ticks and now is not None and now != ticks:
        return False  # the pid was reused
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].startswith("Z")


def group_alive(pgid: int) -> bool:
    """True while any process of the group exists (zombies of our own children aside)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if sys.platform.startswith("linux"):
        return any(not _zombie(pid) for pid in _group_members(pgid))
    return True


def _group_members(pgid: int) -> list[int]:
    members: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid):
            members.append(int(entry.name))
    return members


def stop_group(pgid: int, *, grace: float = 5.0, leader: ServiceProcess | None = None) -> bool:
    """SIGTERM the whole group, SIGKILL what is left after `grace` seconds. True when the group
    is gone. `leader`, when it is our child, is reaped so it leaves no zombie."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return _reaped(leader)
    except PermissionError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(leader)
        if not group_alive(pgid):
            return _reaped(leader)
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        _reap(leader)
        if not group_alive(pgid):
            return _reaped(leader)
        time.sleep(0.02)
    return False


def _reaped(leader: ServiceProcess | None) -> bool:
    """Collect the leader's exit status (it may have died a moment ago): no zombie is left."""
    if leader is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            leader.wait(timeout=2)
    return True


def stop_named(pgid: int, owner: str, *, grace: float = 5.0) -> bool:
    """Stop a group started by an earlier process, only while its leader is still the process
    `owner` names (a recycled pid is left alone)."""
    if alive(owner) is False:
        # The leader is gone; children it left in the group may still run.
        return stop_group(pgid, grace=grace) if group_alive(pgid) else True
    if alive(owner) is None:
        return False
    return stop_group(pgid, grace=grace)


def _reap(process: ServiceProcess | None) -> None:
    if process is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            process.poll()


def read_output(log: Path, offset: int, *, max_bytes: int = 256 * 1024) -> str:
    """The text written to `log` since `offset` (its last `max_bytes` when it is longer)."""
    try:
        with log.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            end = handle.tell()
            start = max(offset, end - max_bytes) if end >= offset else 0
            handle.seek(start)
            data = handle.read(end - start)
    except OSError:
        return ""
    text = data.decode("utf-8", "replace")
    if start > offset:  # cut mid-line: drop the partial first line
        text = text.split("\n", 1)[1] if "\n" in text else text
    return text


def run_briefly(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float
) -> tuple[int | None, str]:
    """Run a short command (a `stop` or `logs` template) in a session of its own: its exit
    code and output, or None and the reason when it could not run or outlived `timeout`."""
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        return None, f"{argv[0]} did not finish within {timeout:g}s"
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"cannot run {argv[0]}: {exc}"
    return done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace")


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts connections on host:port, or the port cannot be bound."""
    with socket.socket() as probe:
        probe.settimeout(0.2)
        if probe.connect_ex((host, port)) == 0:
            return True
    with socket.socket() as bind:
        # As servers do: a port whose old connections linger in TIME_WAIT is free to them.
        bind.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            bind.bind((host, port))
        except OSError:
            return True
    return False
