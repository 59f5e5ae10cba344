"""Where build-context files land inside an image, from a stage's `WORKDIR` and `COPY` lines.

The one reader of COPY/ADD mappings: `copies_before` reads them (exec or shell form, `--from`
copies from other stages left out), `landings` answers "where does this context file end up",
and `source_in_context` the reverse, "which context file is this path in the image".
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from passmuster.scanner.context.commands import parse_exec_form
from passmuster.scanner.context.model import Stage


@dataclass(frozen=True, slots=True)
class Copy:
    sources: tuple[str, ...]  # relative to the build context, normalised ("." for all of it)
    dest: str  # absolute path in the image
    into_folder: bool  # dest is a folder the sources go into
    line: int


def _clean(value: str) -> str:
    return value.strip().strip('"').strip("'")


def workdir_at(stage: Stage, line: int) -> str:
    """The working directory in effect at `line` of a stage."""
    workdir = "/"
    for instruction in stage.instructions:
        if instruction.line >= line:
            break
        if instruction.keyword == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, _clean(instruction.value)))
    return workdir


def copies_before(stage: Stage, line: int) -> list[Copy]:
    """COPY/ADD lines from the build context (not `--from` another stage) before `line`."""
    workdir = "/"
    folders = {"/"}
    found: list[Copy] = []
    for instruction in stage.instructions:
        if instruction.line >= line:
            break
        if instruction.keyword == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, _clean(instruction.value)))
            folders.add(workdir)
        if instruction.keyword not in ("COPY", "ADD"):
            continue
        if any(flag.startswith("--from") for flag in instruction.flags):
            continue
        words = parse_exec_form(instruction.value) or instruction.value.split()
        if len(words) < 2:
            continue
        *sources, dest = words
        sources = [s for s in sources if not s.startswith("<<")]  # heredoc content
        if not sources:
            continue
        dest_abs = posixpath.normpath(posixpath.join(workdir, dest))
        into = (
            dest.endswith("/")
            or dest in (".", "./")
            or len(sources) > 1
            or any("*" in s or "?" in s for s in sources)
            or dest_abs in folders
        )
        found.append(
            Copy(tuple(posixpath.normpath(s) for s in sources), dest_abs, into, instruction.line)
        )
    return found


_IN_PLACE_EDIT = re.compile(r"\b(?:sed|perl)\b[^;&|]*\s-(?:[a-zA-Z]*i)")


def edited_before(stage: Stage, line: int, in_image: str) -> bool:
    """Whether a RUN before `line` edits the image file `in_image` in place (`sed -i`,
    `perl -pi`): its contents at `line` are then no longer the committed file's."""
    for instruction in stage.instructions:
        if instruction.line >= line:
            break
        if instruction.keyword != "RUN" or not _IN_PLACE_EDIT.search(instruction.value):
            continue
        workdir = workdir_at(stage, instruction.line)
        for word in instruction.value.split():
            word = _clean(word).rstrip(";")
            if word and posixpath.normpath(posixpath.join(workdir, word)) == in_image:
                return True
    return False


def landings(copies: list[Copy], context_relative: str) -> set[str]:
    """Every path in the image where the context file `context_relative` is copied."""
    spots: set[str] = set()
    for copy in copies:
        for source in copy.sources:
            if source == ".":
                spots.add(posixpath.join(copy.dest, context_relative))
            elif context_relative == source:
                name = posixpath.basename(source)
                spots.add(posixpath.join(copy.dest, name) if copy.into_folder else copy.dest)
            elif context_relative.startswith(source + "/"):
                spots.add(posixpath.join(copy.dest, context_relative[len(source) + 1 :]))
            elif ("*" in source or "?" in source) and fnmatchcase(context_relative, source):
                spots.add(posixpath.join(copy.dest, posixpath.basename(context_relative)))
    return {posixpath.normpath(s) for s in spots}


def source_in_context(
    stage: Stage,
    line: int,
    container_path: str,
    context: str,
    exists: Callable[[str], bool],
) -> str | None:
    """The repository file (root-relative) that `container_path`, as used at `line` of the
    stage, was copied from; else the path read as relative to the build context, when that
    file exists there."""
    copied = copied_from(stage, line, container_path, context, exists)
    if copied is not None:
        return copied
    for fallback in (container_path, posixpath.basename(container_path)):
        path = posixpath.normpath(posixpath.join(context, fallback))
        if not path.startswith("..") and exists(path):
            return path
    return None


def copied_from(
    stage: Stage,
    line: int,
    container_path: str,
    context: str,
    exists: Callable[[str], bool],
) -> str | None:
    """The repository file (root-relative) a COPY/ADD before `line` put at `container_path`."""
    target = posixpath.normpath(posixpath.join(workdir_at(stage, line), container_path))
    for copy in copies_before(stage, line):
        for source in copy.sources:
            candidates = []
            if target == copy.dest and len(copy.sources) == 1:
                candidates.append(source)
            if target == posixpath.join(copy.dest, posixpath.basename(source)):
                candidates.append(source)
            if target.startswith(copy.dest.rstrip("/") + "/"):
                candidates.append(posixpath.join(source, target[len(copy.dest) :].lstrip("/")))
            for candidate in candidates:
                path = posixpath.normpath(posixpath.join(context, candidate))
                if exists(path):
                    return path
    return None
