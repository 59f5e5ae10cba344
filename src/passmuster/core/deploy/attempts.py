"""What a deployment records: runs (one rollout) and attempts (one service in one run)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from passmuster.errors import InvalidValue

# What an attempt keeps of the command's output and of the service's logs.
TAIL_LINES = 200
TAIL_CHARS = 64_000


class Result(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"  # a dependency failed, so it was not started
    INTERRUPTED = "interrupted"  # Ctrl-C, or the deploy itself died

    @classmethod
    def parse(cls, value: object) -> Result:
        if isinstance(value, Result):
            return value
        text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(text)
        except ValueError:
            raise InvalidValue("result", value, [r.value for r in cls]) from None

    @property
    def is_failure(self) -> bool:
        """Failed or timed out: the deploy was tried and did not work."""
        return self in (Result.FAILED, Result.TIMED_OUT)

    @property
    def is_finished(self) -> bool:
        return self is not Result.RUNNING


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class Version:
    """What was deployed: the repository's commit and the last commit touching the service."""

    commit: str | None = None
    service_commit: str | None = None
    service_commit_at: datetime | None = None  # when that change was committed (lead time)


@dataclass(slots=True)
class Attempt:
    id: int
    run: int | None
    service: str
    result: Result
    started_at: datetime
    finished_at: datetime | None = None
    duration: float | None = None  # seconds
    wave: int | None = None
    exit_code: int | None = None
    commit: str | None = None
    service_commit: str | None = None
    service_commit_at: datetime | None = None
    failure: str | None = None  # the failure class (a classifier's name)
    reason: str = ""  # one line: why it failed, or what the runner did
    excerpt: str = ""  # the lines that show the failure
    output: str = ""  # the last lines of the command's output
    logs: str = ""  # the last lines of the service's own logs
    issue: int | None = None  # the deployment issue the failure went into
    source: str = "cli"  # cli, ci
    environment: str = ""
    external_id: str | None = None  # the CI system's deployment id
    url: str | None = None  # the CI log, or where the deployed service answers
    actor: str = ""

    @property
    def version(self) -> Version:
        return Version(self.commit, self.service_commit, self.service_commit_at)


@dataclass(slots=True)
class Run:
    id: int
    started_at: datetime
    status: RunStatus
    actor: str
    source: str = "cli"
    finished_at: datetime | None = None
    commit: str | None = None
    services: tuple[str, ...] = ()
    options: str = ""  # how it was asked for: `--parallel 4 --keep-going`
    owner: str | None = None  # the process running it, to tell a live run from a dead one


def tail(text: str, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    """The last `lines` lines of `text`, at most `chars` characters (cut at a line start)."""
    kept = text.splitlines()[-lines:]
    out = "\n".join(kept)
    if len(out) > chars:
        out = out[-chars:]
        newline = out.find("\n")
        if 0 <= newline < len(out) - 1:
            out = out[newline + 1 :]
    return out


def short(commit: str | None) -> str:
    return commit[:12] if commit else ""
