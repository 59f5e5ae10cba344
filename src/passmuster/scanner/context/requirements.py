"""requirements.txt files as pip reads them, parsed with `packaging` (pip's own grammar).

Includes (`-r file`, `-rfile`, `--requirement=file`, and `-c` constraints) are recorded with the
included path resolved against the including file; `resolve()` flattens a service's set.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from functools import lru_cache

from packaging.requirements import InvalidRequirement as PackagingInvalid
from packaging.requirements import Requirement as PackagingRequirement
from packaging.utils import canonicalize_name

from passmuster.scanner.context.model import (
    Include,
    InvalidRequirement,
    Requirement,
    RequirementsFile,
)

_INCLUDE = re.compile(
    r"^(?:(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s=-])))(?P<target>\S+)"
)
_OPTION_WITH_VALUE = (
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--trusted-host",
    "--no-binary",
    "--only-binary",
    "--prefer-binary",
    "--pre",
    "--require-hashes",
    "--use-feature",
    "--no-index",
)
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9_.\-]+)")
_HASH = re.compile(r"\s--hash[=\s]\S+")


def parse_requirements(
    text: str, path: str, *, exists: Callable[[str], bool], inside: Callable[[str], str | None]
) -> RequirementsFile:
    """Parse one file. `inside(p)` maps a root-relative path to itself if it lies inside the
    platform root (else None); `exists(p)` says whether that file is there."""
    result = RequirementsFile(path)
    folder = posixpath.dirname(path)
    for number, line in _logical_lines(text):
        stripped = _strip_comment(line).strip()
        if not stripped:
            continue
        include = _INCLUDE.match(stripped)
        if include:
            flag = include.group(1)
            target = include.group("target")
            kind = "constraint" if flag in ("-c", "--constraint") else "requirement"
            joined = posixpath.normpath(posixpath.join(folder, target))
            resolved = inside(joined)
            result.includes.append(
                Include(
                    kind,
                    target,
                    resolved,
                    path,
                    number,
                    exists(resolved) if resolved is not None else False,
                )
            )
            continue
        if stripped.startswith("-"):
            editable = stripped.startswith(("-e ", "--editable"))
            if editable:
                target = stripped.split(None, 1)[1] if " " in stripped else ""
                egg = _EGG.search(target)
                if egg:
                    result.requirements.append(_req(egg.group(1), "", stripped, path, number))
                continue
            if stripped.split("=", 1)[0].split()[0] in _OPTION_WITH_VALUE:
                result.options.append((number, stripped))
                continue
            result.invalid.append(
                InvalidRequirement(path, number, stripped, f"unknown option {stripped.split()[0]}")
            )
            continue
        text_req = _HASH.sub("", " " + stripped).strip()
        if "://" in text_req and "@" not in text_req.split("://", 1)[0]:
            egg = _EGG.search(text_req)
            if egg:
                result.requirements.append(_req(egg.group(1), "", stripped, path, number))
            else:
                result.options.append((number, stripped))
            continue
        if text_req.startswith((".", "/")):
            result.options.append((number, stripped))  # a local path: nothing to compare
            continue
        parsed = _parse_line(text_req)
        if isinstance(parsed, str):
            result.invalid.append(InvalidRequirement(path, number, stripped, parsed))
            continue
        name, specifier, extras, marker, url = parsed
        result.requirements.append(
            Requirement(name, specifier, stripped, path, number, extras, marker, url)
        )
    return result


@lru_cache(maxsize=4096)
def _parse_line(
    text: str,
) -> tuple[str, str, tuple[str, ...], str | None, str | None] | str:
    """(name, specifier, extras, marker, url), or the error message. Cached: a platform repeats
    the same lines across services and packaging's parser is the slow part of reading them."""
    try:
        parsed = PackagingRequirement(text)
    except PackagingInvalid as exc:
        return str(exc).splitlines()[0]
    marker = str(parsed.marker) if parsed.marker else None
    extras = tuple(sorted(parsed.extras))
    return canonicalize_name(parsed.name), str(parsed.specifier), extras, marker, parsed.url


def _req(name: str, spec: str, raw: str, path: str, line: int) -> Requirement:
    return Requirement(canonicalize_name(name), spec, raw, path, line)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations; each logical line keeps its first physical line number."""
    result: list[tuple[int, str]] = []
    buffer = ""
    start = 0
    for index, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = index
        if raw.endswith("\\") and not _strip_comment(raw).strip().startswith("#"):
            buffer += raw[:-1]
            continue
        result.append((start, buffer + raw))
        buffer = ""
    if buffer:
        result.append((start, buffer))
    return result


def _strip_comment(line: str) -> str:
    if line.lstrip().startswith("#"):
        return ""
    match = re.search(r"(^|\s)#", line)
    return line[: match.start()] if match else line


def resolve(
    roots: list[str], files: dict[str, RequirementsFile], load: Callable[[str], None]
) -> tuple[list[Requirement], list[Requirement]]:
    """Flatten root files through their includes: (requirements, constraints), each line tagged
    with `via`, the include chain. `load(path)` must put a file into `files` (or not, if absent).
    """
    requirements: list[Requirement] = []
    constraints: list[Requirement] = []

    def walk(path: str, chain: tuple[str, ...], constraint: bool) -> None:
        if path in chain:
            return  # an include cycle; pip would loop too, REQ rules report missing files
        load(path)
        parsed = files.get(path)
        if parsed is None:
            return
        target = constraints if constraint else requirements
        for req in parsed.requirements:
            target.append(_with_via(req, chain))
        for inc in parsed.includes:
            if inc.resolved is not None and inc.exists:
                walk(inc.resolved, (*chain, path), constraint or inc.kind == "constraint")

    for root in roots:
        walk(root, (), False)
    return requirements, constraints


def _with_via(req: Requirement, chain: tuple[str, ...]) -> Requirement:
    if not chain:
        return req
    return Requirement(
        req.name,
        req.specifier,
        req.raw,
        req.path,
        req.line,
        req.extras,
        req.marker,
        req.url,
        chain,
    )
