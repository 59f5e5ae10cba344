from __future__ import annotations

import posixpath
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.commands import parse_exec_form
from passmuster.scanner.context.model import Dockerfile, Instruction, Platform, ServiceDef
from passmuster.scanner.rule import Rule, reported_once

_REMOTE = ("http://", "https://", "git@", "git://")


class CopySourceMissing(Rule):
    """## What it does
    Flags a `COPY` or `ADD` source that does not exist in the build context a compose
    service builds with: `COPY poetry.lock ./` in a folder that has no `poetry.lock`,
    `COPY Requirements.txt .` beside a `requirements.txt`, `COPY app/ /app` after the code
    moved to `src/`.

    Only what the build really reads is checked: the stages the built image depends on (its
    own, its `FROM` stages and the stages it copies `--from`), sources written literally (no
    wildcard, no `${VARIABLE}`), from the build context (not `--from` another stage or image,
    not a URL). A source that a `.gitignore` lists is left alone (a `dist/` or `.env` made
    before the build on purpose), and so is a source inside a git submodule this clone does
    not hold.

    ## Why is this bad?
    `docker compose build` stops at that line with `failed to compute cache key: "/poetry.lock"
    not found`, so the service never starts; with several services in one `up`, none of the
    later images are built either.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    WORKDIR /app
    COPY pyproject.toml poetry.lock ./    # the service has only requirements.txt
    RUN pip install -r requirements.txt
    ```

    ## How to fix
    Copy the files the folder really has (mind the letter case), commit the missing file, or
    point the service's `build.context` at the folder that holds it.
    """

    code = "REF005"
    name = "copy-source-missing"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for service in platform.services:
            dockerfile, context = service.dockerfile, service.build_context
            # Only a compose `build:` says what the context is; a Dockerfile built by a
            # script may well be built from the repository root.
            if dockerfile is None or context is None or service.build_where is None:
                continue
            if not service.build_context_exists:
                continue  # REF002 reports the missing context itself
            broken: list[tuple[Instruction, list[str]]] = []
            for instruction in _read_copies(dockerfile):
                missing = [
                    source
                    for source in _literal_sources(instruction)
                    if _missing(platform, context, source)
                ]
                if missing:
                    broken.append((instruction, missing))
            if not broken:
                continue
            every = [source for _, missing in broken for source in missing]
            if context != "." and all(platform.abspath(s.lstrip("/")).exists() for s in every):
                # One cause: the Dockerfile is written for the repository root as context.
                first, *rest = broken
                yield self._finding(
                    service, dockerfile, first[0], every, context, at_root=True, also=rest
                )
                continue
            for instruction, missing in broken:
                yield self._finding(
                    service, dockerfile, instruction, missing, context, at_root=False, also=[]
                )

    def _finding(
        self,
        service: ServiceDef,
        dockerfile: Dockerfile,
        instruction: Instruction,
        missing: list[str],
        context: str,
        *,
        at_root: bool,
        also: list[tuple[Instruction, list[str]]],
    ) -> Finding:
        where = "the repository root" if context == "." else context
        related = []
        if service.build_where is not None:
            related.append(
                Location(
                    service.build_where.path,
                    service.build_where.line,
                    message=f"build context {where}",
                    service=service.name,
                )
            )
        related.extend(
            Location(dockerfile.path, other.line, message=", ".join(sources), service=service.name)
            for other, sources in also
        )
        what = "no such file" if len(missing) == 1 else "no such files"
        hint = (
            "; the paths are the repository root's: the Dockerfile is written for `context: .`"
            if at_root
            else ""
        )
        return self.finding(
            f"{instruction.keyword} {', '.join(missing)}: {what} in the build context "
            f"({where}); the image build stops here{hint}",
            dockerfile.path,
            instruction.line,
            service=service.name,
            related=related,
            key=f"{context}:{','.join(missing)}",
        )


def _missing(platform: Platform, context: str, source: str) -> bool:
    path = posixpath.normpath(posixpath.join(context, source.lstrip("/")))
    if path == ".." or path.startswith("../"):
        return False  # outside the context: a different failure, not this one
    return not (
        platform.abspath(path).exists()
        or platform.gitignored(path)
        or platform.in_absent_submodule(path)
    )


def _read_copies(dockerfile: Dockerfile) -> Iterator[Instruction]:
    """The COPY/ADD lines of the stages the built image depends on."""
    needed = _needed_stages(dockerfile)
    for stage in dockerfile.stages:
        if stage.index not in needed:
            continue
        for instruction in stage.instructions:
            if instruction.keyword in ("COPY", "ADD"):
                yield instruction


def _needed_stages(dockerfile: Dockerfile) -> set[int]:
    """The final stage and, transitively, the stages it is built `FROM` or copies `--from`
    (BuildKit builds nothing else)."""
    if not dockerfile.stages:
        return set()
    by_name = {s.name.lower(): s.index for s in dockerfile.stages if s.name}

    def stage_of(ref: str, before: int) -> int | None:
        ref = ref.strip().lower()
        if ref.isdigit():
            index = int(ref)
            return index if index < before else None
        found = by_name.get(ref)
        return found if found is not None and found < before else None

    needed: set[int] = set()
    pending = [dockerfile.stages[-1].index]
    while pending:
        index = pending.pop()
        if index in needed:
            continue
        needed.add(index)
        stage = dockerfile.stages[index]
        refs = [stage.base]
        for instruction in stage.instructions:
            refs.extend(
                flag.split("=", 1)[1] for flag in instruction.flags if flag.startswith("--from=")
            )
        for ref in refs:
            found = stage_of(ref, index)
            if found is not None:
                pending.append(found)
    return needed


def _literal_sources(instruction: Instruction) -> list[str]:
    """The sources of a COPY/ADD from the build context written as plain paths."""
    if any(flag.startswith("--from") for flag in instruction.flags):
        return []
    words = parse_exec_form(instruction.value) or instruction.value.split()
    if len(words) < 2 or any(word.startswith("<<") for word in words):
        return []  # nothing to copy, or a heredoc
    sources = words[:-1]
    if any(_is_pattern(source) for source in sources):
        # `COPY requirements.txt poetry.lock* ./`: a wildcard makes the whole line tolerate
        # missing files as long as one source matches, the idiom for optional files.
        return []
    return [s for s in sources if not s.startswith(_REMOTE) and s not in (".", "./")]


def _is_pattern(source: str) -> bool:
    return any(mark in source for mark in ("*", "?", "[", "$"))
