from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Dockerfile, Instruction, Platform, Stage
from passmuster.scanner.context.services import env_pairs
from passmuster.scanner.rule import Rule, reported_once

_ROOT_USERS = frozenset({"root", "0"})


@dataclass(frozen=True, slots=True)
class _UserSite:
    """A `pip install --user` tree in the image: where it is, and the line that put it there."""

    base: str  # the user base, e.g. /root/.local
    line: int
    how: str  # what put it there, for the message


@dataclass(slots=True)
class _StageState:
    """What a stage's instructions have set so far, in build order."""

    user: str = "root"
    vars: dict[str, str] = field(default_factory=dict)

    def home(self) -> str | None:
        """The home Python's `site` reads the user base from; None when it cannot be told."""
        if "HOME" in self.vars:
            return self.vars["HOME"]
        name = self.user.split(":", 1)[0]
        if name in _ROOT_USERS:
            return "/root"
        if name.isdigit() or "$" in name:
            return None  # a bare uid or a build argument: its passwd entry is unknown here
        return f"/home/{name}"

    def user_base(self) -> str | None:
        base = self.vars.get("PYTHONUSERBASE")
        if base:
            return base.rstrip("/")
        home = self.home()
        return None if home is None else posixpath.join(home, ".local")


def _run_through(dockerfile: Dockerfile, stage: Stage) -> tuple[_StageState, list[_UserSite]]:
    """Build state and user-site trees at the end of `stage`, its base stages included."""
    state = _StageState()
    sites: list[_UserSite] = []
    for part in reversed(dockerfile.stage_chain(stage)):
        for instruction in part.instructions:
            if instruction.keyword == "USER":
                state.user = instruction.value.strip() or "root"
            elif instruction.keyword == "ENV":
                for key, value in env_pairs(instruction.value):
                    state.vars[key] = value
            elif instruction.keyword == "RUN" and _user_install(dockerfile, instruction):
                base = state.user_base()
                if base is not None:
                    sites.append(_UserSite(base, instruction.line, "pip install --user"))
            elif instruction.keyword in ("COPY", "ADD"):
                sites.extend(_copied_sites(dockerfile, instruction))
    return state, sites


def _user_install(dockerfile: Dockerfile, instruction: Instruction) -> bool:
    return any(p.user and p.line == instruction.line for p in dockerfile.pip_installs)


def _copied_sites(dockerfile: Dockerfile, instruction: Instruction) -> list[_UserSite]:
    """User-site trees a `COPY --from=<stage>` brings over, at their new place."""
    source_stage = next(
        (f.split("=", 1)[1] for f in instruction.flags if f.startswith("--from=")), None
    )
    if source_stage is None:
        return []
    stage = _stage_named(dockerfile, source_stage)
    if stage is None:
        return []
    words = instruction.value.split()
    if len(words) != 2:
        return []  # several sources or the JSON form: rare for these copies; not judged
    source, target = (w.rstrip("/") or "/" for w in words)
    _, sites = _run_through(dockerfile, stage)
    moved = []
    for site in sites:
        if site.base == source:
            moved.append(_UserSite(target, instruction.line, f"copied from stage {source_stage}"))
        elif site.base.startswith(source + "/"):
            rest = site.base[len(source) + 1 :]
            moved.append(
                _UserSite(
                    posixpath.join(target, rest),
                    instruction.line,
                    f"copied from stage {source_stage}",
                )
            )
    return moved


def _stage_named(dockerfile: Dockerfile, name: str) -> Stage | None:
    for stage in dockerfile.stages:
        if (stage.name or "").lower() == name.lower() or str(stage.index) == name:
            return stage
    return None


class UserSiteUnreachable(Rule):
    """## What it does
    Flags packages installed with `pip install --user` that the image's Python cannot import:
    pip puts them under the installing user's home (`/root/.local` when run as root), and
    Python looks only under the home of the user the container runs as. Flagged when the
    tree is copied (`COPY --from=builder /root/.local /root/.local`) or installed, and the
    final stage then switches to another user (`USER app`) without `PYTHONUSERBASE` or
    `PYTHONPATH` pointing at it, or copies it to a home that is not the running user's;
    also when that user cannot read it because it stays under `/root`.

    ## Why is this bad?
    The image builds, and the container dies at start with `ModuleNotFoundError: No module
    named 'uvicorn'`: the packages are there, but in a folder the interpreter never searches
    (and `/root` is not readable by other users).

    ## Example
    ```dockerfile
    FROM python:3.11-slim AS builder
    RUN pip install --user -r requirements.txt
    FROM python:3.11-slim
    COPY --from=builder /root/.local /root/.local
    RUN useradd --create-home app
    USER app
    CMD ["python", "-m", "uvicorn", "app.main:app"]
    ```

    ## How to fix
    Copy the tree to the running user's home and own it
    (`COPY --from=builder --chown=app:app /root/.local /home/app/.local`), or install into a
    virtual environment in the builder and copy that (`/opt/venv`, with its `bin` on `PATH`).
    """

    code = "IMG006"
    name = "user-site-unreachable"
    severity = Severity.CRITICAL
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for service in platform.every_service():
            dockerfile = service.dockerfile
            if dockerfile is None or dockerfile.final is None:
                continue
            state, sites = _run_through(dockerfile, dockerfile.final)
            for site in sites:
                problem = _problem(state, site, dockerfile)
                if problem is not None:
                    yield self.finding(
                        problem, dockerfile.path, site.line, service=service.name, key=site.base
                    )


# Where the official python images' interpreter (/usr/local) or a distribution's (/usr) lives.
_INTERPRETER_PREFIXES = frozenset({"/usr/local", "/usr"})


def _problem(state: _StageState, site: _UserSite, dockerfile: Dockerfile) -> str | None:
    """Why the running user's Python cannot import from `site`, else None."""
    user = state.user.split(":", 1)[0]
    expected = state.user_base()
    if expected is None:
        return None
    if site.base in _INTERPRETER_PREFIXES:
        # `COPY --from=builder /root/.local /usr/local`: lib/pythonX.Y/site-packages lands in
        # the interpreter's own site directory, which Python searches for every user.
        return None
    python_path = [p.rstrip("/") for p in state.vars.get("PYTHONPATH", "").split(":") if p]
    searched = site.base == expected or any(p.startswith(site.base + "/") for p in python_path)
    if not searched:
        return (
            f"packages installed with pip --user are in {site.base}/ ({site.how}), but the "
            f"image runs as user {user}, whose Python looks in {expected}/ and not there: "
            f"imports fail at start"
        )
    readable_root = any(
        "/root" in i.value and ("chmod" in i.value or "chown" in i.value)
        for i in dockerfile.all_instructions()
        if i.keyword == "RUN"
    )
    if user not in _ROOT_USERS and site.base.startswith("/root/") and not readable_root:
        return (
            f"packages installed with pip --user are in {site.base}/ ({site.how}), which user "
            f"{user} cannot read: imports fail at start"
        )
    return None
