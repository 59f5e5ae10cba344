from __future__ import annotations

import re

from passmuster.core.deploy.classify import Classifier, Evidence, Match, around, last_match

_HINT = re.compile(
    r"OOMKilled|[Oo]ut of memory|Cannot allocate memory|\bMemoryError\b|heap out of memory|"
    # 137 = 128 + SIGKILL, however the tool words its status: `exit code: 137`, `exited with
    # code 137`, the classic builder's `returned a non-zero code: 137`, `return code: 137`,
    # supervisord's `exit status 137`.
    r"Perhaps out of memory|"
    r"(?:[Ee]xit code|[Ee]xited with code|non-zero code|[Rr]eturn code|exit status):? 137\b|"
    # The kernel's log: `python invoked oom-killer`, `oom-kill:constraint=…`.
    r"invoked oom-killer|\boom-kill:|"
    r"^Killed$",
    re.MULTILINE,
)
_NEEDLES = (
    "OOMKilled",
    "ut of memory",
    "Cannot allocate memory",
    "MemoryError",
    " 137",  # with its space: a port or a count that merely contains 137 wakes nothing
    "Killed",
    "oom-kill",
)


class OomKilled(Classifier):
    """## What it catches
    A service (or its build) killed for using too much memory: exit status 137 (SIGKILL) that
    the deploy did not send (or
    a status 137 as a tool words it: `exited with code 137`, `returned a non-zero code: 137`),
    `OOMKilled`, `Out of memory: Killed process`, the kernel's `invoked oom-killer`, Python's
    `MemoryError`, gunicorn's `Perhaps out of memory?`, a bare `Killed` line from the shell.

    ## Why it happens
    The container's memory limit (`deploy.resources.limits.memory`, `mem_limit`) is below what
    the service needs at start-up: loading a model, warming a cache, too many workers
    (`--workers`, `WEB_CONCURRENCY`) each holding a copy, or a build step (a wheel compiled
    from source) on a small builder.

    ## How to fix it
    Raise the limit or lower what start-up holds: fewer workers, lazy loading, a smaller
    batch. For builds, install prebuilt wheels or give the builder more memory. `docker stats`
    and `docker inspect --format '{{.State.OOMKilled}}'` confirm it.
    """

    name = "oom-killed"
    title = "Services killed for memory at start-up"
    order = 5

    def match(self, evidence: Evidence) -> Match | None:
        text = evidence.text
        hint = last_match(_HINT, text, _NEEDLES)
        sigkill = evidence.exit_code in (137, -9) and not evidence.killed_by_deploy
        if hint is None and not sigkill:
            return None
        if hint is not None:
            excerpt = around(text, hint.start(), hint.end())
        else:
            excerpt = "\n".join(text.splitlines()[-8:])
        if evidence.exit_code is not None or hint is None:
            how = f"exit {evidence.exit_code}"
        else:
            how = hint.group(0)
        return Match(f"killed, most likely out of memory ({how})", excerpt)
