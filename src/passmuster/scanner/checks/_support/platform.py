"""Questions several rules ask of the parsed platform, answered once per scan where it matters."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from passmuster.core.findings import Finding, Location
from passmuster.scanner.checks._support.cache import per_scan
from passmuster.scanner.context.model import (
    EnvVar,
    Platform,
    PythonFile,
    RequirementsFile,
    ServiceDef,
    Stage,
)

_SHARED_NAME = re.compile(r"(shared|common|base)", re.IGNORECASE)
_PY_TAG = re.compile(r"^(\d+)\.(\d+)")
DATABASE_IMAGES = frozenset(
    {"postgres", "postgis", "timescaledb", "mysql", "mariadb", "mongo", "mongodb", "percona"}
)


def services(platform: Platform) -> list[ServiceDef]:
    """Each service once: a name defined by several compose projects counts once (the first)."""
    return list(platform.by_name().values())


def where(service: ServiceDef) -> Location:
    """The service's definition in its compose file."""
    return Location(service.path, service.line, service=service.name)


def env_location(var: EnvVar, service: ServiceDef | None = None) -> Location:
    return Location(var.path, var.line, service=service.name if service else None)


def is_under(path: str, folder: str | None) -> bool:
    """Whether root-relative `path` lies inside root-relative `folder` ("." is the root)."""
    if folder is None:
        return False
    if folder in ("", "."):
        return not path.startswith("../")
    return PurePosixPath(path).is_relative_to(PurePosixPath(folder))


def relative(from_dir: str, to_path: str) -> str:
    """A relative path from a root-relative folder to a root-relative file, with `..`."""
    src = [p for p in PurePosixPath(from_dir).parts if p not in ("", ".")]
    dst = [p for p in PurePosixPath(to_path).parts if p not in ("", ".")]
    common = 0
    while common < min(len(src), len(dst) - 1) and src[common] == dst[common]:
        common += 1
    return "/".join([".."] * (len(src) - common) + dst[common:]) or "."


def parent(path: str) -> str:
    folder = str(PurePosixPath(path).parent)
    return "." if folder in ("", ".") else folder


# ---------------------------------------------------------------- requirements


@dataclass(slots=True)
class RequirementsIndex:
    """Which requirement files services use, and which of them are shared."""

    users: dict[str, list[ServiceDef]] = field(default_factory=dict)  # file -> services
    shared: list[RequirementsFile] = field(default_factory=list)


def requirements_index(platform: Platform) -> RequirementsIndex:
    """Shared files are those another requirements file includes with `-r`, and those named
    like `requirements.shared.txt`/`common`/`base` that are no service's own file."""
    return per_scan(platform, "requirements-index", lambda: _requirements_index(platform))


def _requirements_index(platform: Platform) -> RequirementsIndex:
    users: dict[str, list[ServiceDef]] = defaultdict(list)
    roots: set[str] = set()
    for service in services(platform):
        roots.update(service.requirement_files)
        seen: set[str] = set()
        for req in (*service.requirements, *service.constraints):
            if req.path not in seen:
                seen.add(req.path)
                users[req.path].append(service)
        for path in service.requirement_files:
            if path not in seen:
                seen.add(path)
                users[path].append(service)
    included: set[str] = set()
    for file in platform.requirements_files.values():
        for include in file.includes:
            if include.kind == "requirement" and include.resolved is not None:
                included.add(include.resolved)
    shared = [
        file
        for path, file in sorted(platform.requirements_files.items())
        if path in included
        or (path not in roots and _SHARED_NAME.search(PurePosixPath(path).name) is not None)
    ]
    return RequirementsIndex(users=dict(users), shared=shared)


def included_files(platform: Platform, service: ServiceDef) -> set[str]:
    """Every requirements file a service installs: its own and all it includes."""
    files = set(service.requirement_files)
    files.update(r.path for r in service.requirements)
    files.update(r.path for r in service.constraints)
    pending = list(files)
    while pending:
        file = platform.requirements_files.get(pending.pop())
        for include in file.includes if file is not None else ():
            target = include.resolved
            if target is not None and include.exists and target not in files:
                files.add(target)
                pending.append(target)
    return files


# ---------------------------------------------------------------- images


def stage_chain(service: ServiceDef, stage: Stage) -> list[Stage]:
    """The stage and the earlier stages it is built FROM (`FROM builder AS final`)."""
    if service.dockerfile is None:
        return [stage]
    by_name = {s.name: s for s in service.dockerfile.stages if s.name}
    chain = [stage]
    current = stage
    while current.base in by_name and by_name[current.base] not in chain:
        current = by_name[current.base]
        chain.append(current)
    return chain


def root_base(service: ServiceDef, stage: Stage) -> str:
    """The registry image a stage finally rests on (following stage names)."""
    return stage_chain(service, stage)[-1].base


def image_flavour(image: str | None) -> str | None:
    """`slim`, `alpine` or `full` for the image families whose tooling is known, else None.

    Official `python:<version>` images are built on buildpack-deps (gcc, curl, wget present);
    their `-slim` variants and plain `debian`/`ubuntu` have none of them; Alpine has BusyBox
    wget but no curl and no compiler.
    """
    if not image:
        return None
    name = image.split("@", 1)[0]
    repo, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    base = repo.rsplit("/", 1)[-1]
    if base == "alpine" or "alpine" in tag:
        return "alpine"
    if base in {"debian", "ubuntu"}:
        return "slim"
    if base in {"python", "pypy"}:
        return "slim" if "slim" in tag else "full"
    return None


def python_version(image: str | None) -> str | None:
    """`3.11` for `python:3.11-slim`, else None (unknown)."""
    if not image:
        return None
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    repo, _, tag = name.partition(":")
    if repo not in {"python", "pypy"} or not tag:
        return None
    match = _PY_TAG.match(tag)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def service_python(service: ServiceDef) -> str | None:
    if service.dockerfile is not None and service.dockerfile.final is not None:
        return python_version(root_base(service, service.dockerfile.final))
    return python_version(service.image)


def is_database(service: ServiceDef) -> bool:
    if service.kind == "database":
        return True
    image = service.base_image or ""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return name in DATABASE_IMAGES


# ---------------------------------------------------------------- environment


def env_values(service: ServiceDef) -> Iterator[tuple[str, str, EnvVar]]:
    """(name, value, var) for every variable with a known value set by compose or env files."""
    for name, var in service.env.items():
        if var.value is not None and var.origin != "dockerfile":
            yield name, var.value, var


def service_prefixes(service: ServiceDef) -> set[str]:
    """Env-name prefixes that mean this service: `IDENTITY_` and `IDENTITY_SERVICE_` for
    `identity-service`."""
    base = re.sub(r"[^A-Z0-9]+", "_", service.name.upper()).strip("_")
    short = re.sub(r"_(SERVICE|SVC|API|APP)$", "", base)
    return {f"{base}_", f"{short}_"}


def is_dev_file(path: str) -> bool:
    """Compose or Dockerfiles meant for development: `*.dev.yml`, `*override*`, `local`, …"""
    name = PurePosixPath(path).name.lower()
    return bool(
        re.search(r"(^|[._-])(dev|develop|development|local|override|debug|test)([._-]|$)", name)
    )


def unique(findings: Iterable[Finding]) -> Iterator[Finding]:
    """Each problem once: siblings built from one context share files (code, Dockerfile,
    requirements), and a problem in a shared file is reported for the first service only."""
    seen: set[tuple[str, int | None, int | None, str]] = set()
    for finding in findings:
        mark = (finding.path, finding.line, finding.column, finding.key or finding.message)
        if mark not in seen:
            seen.add(mark)
            yield finding


# ---------------------------------------------------------------- code shared between services


def code_groups(platform: Platform) -> list[tuple[tuple[str, ...], list[ServiceDef]]]:
    """Services grouped by the exact set of Python files they run (siblings built from one
    context share it), so per-file work is done once per group rather than once per service."""
    return per_scan(platform, "code-groups", lambda: _code_groups(platform))


def _code_groups(platform: Platform) -> list[tuple[tuple[str, ...], list[ServiceDef]]]:
    groups: dict[tuple[str, ...], list[ServiceDef]] = {}
    for service in services(platform):
        if service.python_files:
            groups.setdefault(tuple(service.python_files), []).append(service)
    return list(groups.items())


def owned_python_files(platform: Platform) -> Iterator[tuple[ServiceDef, PythonFile]]:
    """Each Python file once, with the first service that runs it: a problem in shared code
    is reported once (see `unique`)."""
    seen: set[str] = set()
    for files, members in code_groups(platform):
        owner = members[0]
        for path in files:
            if path in seen:
                continue
            seen.add(path)
            source = platform.python.get(path)
            if source is not None:
                yield owner, source
