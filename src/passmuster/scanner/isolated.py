"""A scan in a child process with memory and time limits, for scans a server starts.

Whatever a repository holds — a file that makes a parser recurse or allocate without end, one
that hangs a read — the worst it can do is end this child: the server that asked gets an error
and goes on serving. The child applies its own limits before it reads anything
(`RLIMIT_AS` for memory, `RLIMIT_CPU`, no core dumps), the parent kills it at the wall-clock
limit, and the result comes back as JSON on stdout (never pickle: the child's output is treated
as untrusted as the repository it read).

    outcome = await scan_isolated(root, ScanLimits(seconds=300, memory_bytes=2 << 30))
    outcome.result.findings, outcome.commit

Run by hand: `python -m passmuster.scanner.isolated ROOT SECONDS MEMORY_BYTES`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from passmuster.core.findings import Finding, Location
from passmuster.core.issues import Severity
from passmuster.errors import ConfigError, PassmusterError
from passmuster.scanner.context.model import Platform
from passmuster.scanner.context.reading import ScanTimeout
from passmuster.scanner.engine import ScanResult
from passmuster.scanner.registry import Registry

# Enough for the result of a 10,000-service scan; a child writing more is not believed.
_MAX_OUTPUT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ScanLimits:
    seconds: float = 300.0
    memory_bytes: int = 2 * 1024 * 1024 * 1024
    # The parent waits this much beyond `seconds` (the child stops itself at `seconds`, with
    # a clear message) before it kills the child.
    grace_seconds: float = 5.0


class ScanAborted(PassmusterError):
    """The scan's process died or was killed: the repository asked for more than its limits."""

    exit_code = 5
    status_code = 503


@dataclass(frozen=True, slots=True)
class IsolatedScan:
    """What a scan in a child process found: enough to reconcile it into the desk."""

    rules: tuple[str, ...]
    findings: tuple[Finding, ...]
    quiet: tuple[Finding, ...]  # suppressed or baselined: neither open nor resolve issues
    commit: str | None

    def result(self, root: Path, registry: Registry) -> ScanResult:
        """As `scan()` would have returned it (without the parsed platform, which stayed in
        the child); rule codes this build does not know are left out."""
        known = {rule.code: rule for rule in registry.rules()}
        return ScanResult(
            platform=Platform(root=root),
            findings=list(self.findings),
            rules=[known[code] for code in self.rules if code in known],
            suppressed=list(self.quiet),
        )


async def scan_isolated(root: Path, limits: ScanLimits) -> IsolatedScan:
    """Scan `root` in a child process under `limits`; ScanTimeout, ScanAborted or
    ConfigError (the platform's own configuration is wrong) when it does not finish."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "passmuster.scanner.isolated",
        str(root),
        repr(limits.seconds),
        str(limits.memory_bytes),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group: a kill reaches anything it started
        limit=_MAX_OUTPUT_BYTES,
    )
    try:
        out, err = await asyncio.wait_for(
            process.communicate(), timeout=limits.seconds + limits.grace_seconds
        )
    except TimeoutError:
        _kill(process)
        await process.wait()
        raise ScanTimeout(
            f"the scan took longer than {limits.seconds:g} s and was stopped "
            "(PASSMUSTER_SCAN_TIMEOUT)"
        ) from None
    except BaseException:
        _kill(process)
        raise
    return _outcome(process.returncode, out, err, limits)


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _outcome(code: int | None, out: bytes, err: bytes, limits: ScanLimits) -> IsolatedScan:
    if code == 0:
        try:
            return _decode(json.loads(out))
        except (ValueError, KeyError, TypeError) as exc:
            raise ScanAborted(f"the scan process answered something unreadable: {exc}") from None
    reason = err.decode("utf-8", errors="replace").strip().splitlines()
    last = reason[-1] if reason else ""
    if code == _EXIT_ERROR and last.startswith("error: "):
        kind, _, message = last[len("error: ") :].partition(": ")
        raise {"timeout": ScanTimeout, "config": ConfigError}.get(kind, ScanAborted)(message)
    if code == _EXIT_MEMORY or (code is not None and code < 0 and "MemoryError" in last):
        raise ScanAborted(
            f"the scan needed more than its {limits.memory_bytes // (1024 * 1024)} MiB of "
            "memory and was stopped (PASSMUSTER_SCAN_MEMORY)"
        )
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else code
        raise ScanAborted(f"the scan process was ended by {name} (a limit was reached)")
    raise ScanAborted(f"the scan process failed (exit {code}); see the server log")


# ------------------------------------------------------------------ the wire format


def _encode(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "message": finding.message,
        "path": finding.path,
        "line": finding.line,
        "severity": finding.severity.value,
        "service": finding.service,
        "column": finding.column,
        "key": finding.key,
        "related": [[r.path, r.line, r.column, r.message, r.service] for r in finding.related],
    }


def _finding(data: dict[str, Any]) -> Finding:
    return Finding(
        code=str(data["code"]),
        message=str(data["message"]),
        path=str(data["path"]),
        line=_int(data["line"]),
        severity=Severity(data["severity"]),
        service=_str(data["service"]),
        related=tuple(
            Location(str(p), _int(line), _int(col), str(msg), _str(svc))
            for p, line, col, msg, svc in data["related"]
        ),
        column=_int(data["column"]),
        key=_str(data["key"]),
    )


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _decode(data: dict[str, Any]) -> IsolatedScan:
    return IsolatedScan(
        rules=tuple(str(code) for code in data["rules"]),
        findings=tuple(_finding(f) for f in data["findings"]),
        quiet=tuple(_finding(f) for f in data["quiet"]),
        commit=_str(data["commit"]),
    )


# ------------------------------------------------------------------ the child

_EXIT_ERROR = 2
_EXIT_MEMORY = 3


def _limit_self(seconds: float, memory_bytes: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # CPU time can only run out after the wall-clock limit: a backstop should the parent die.
    cpu = int(seconds) + 60
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child(argv: list[str]) -> int:
    root, seconds, memory_bytes = Path(argv[0]), float(argv[1]), int(argv[2])
    _limit_self(seconds, memory_bytes)
    from passmuster.core.gc_pause import gc_paused

    try:
        # The result holds every parsed file until it is printed: see gc_paused.
        with gc_paused():
            return _scan_and_print(root, seconds)
    except MemoryError:
        return _EXIT_MEMORY


def _scan_and_print(root: Path, seconds: float) -> int:
    from passmuster.scanner.config import ScanConfig
    from passmuster.scanner.engine import scan
    from passmuster.scanner.git import git_commit
    from passmuster.settings import find_config

    try:
        config = ScanConfig.from_project(find_config(root))
        # The repository's own configuration may ask for less time, never for more.
        config.timeout = min(config.timeout, seconds)
        result = scan(root, config)
        commit = git_commit(root)
    except ScanTimeout as exc:
        print(f"error: timeout: {exc}", file=sys.stderr)
        return _EXIT_ERROR
    except ConfigError as exc:
        print(f"error: config: {exc}", file=sys.stderr)
        return _EXIT_ERROR
    except PassmusterError as exc:
        print(f"error: other: {exc}", file=sys.stderr)
        return _EXIT_ERROR
    payload = {
        "rules": [rule.code for rule in result.rules],
        "findings": [_encode(f) for f in result.findings],
        "quiet": [_encode(f) for f in (*result.suppressed, *result.baselined)],
        "commit": commit,
    }
    sys.stdout.write(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
