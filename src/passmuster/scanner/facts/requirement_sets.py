"""Which requirement files services install, and which of them are shared."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from passmuster.scanner.context.model import Platform, RequirementsFile, ServiceDef
from passmuster.scanner.facts.paths import is_under

_SHARED_NAME = re.compile(r"(shared|common|base)", re.IGNORECASE)


@dataclass(slots=True)
class RequirementsIndex:
    """Which requirement files services use, and which of them are shared."""

    users: dict[str, list[ServiceDef]] = field(default_factory=dict)  # file -> services
    shared: list[RequirementsFile] = field(default_factory=list)


def requirements_index(platform: Platform) -> RequirementsIndex:
    """Shared files are those another requirements file includes with `-r`, and those named
    like `requirements.shared.txt`/`common`/`base` that are no service's own file."""
    return platform.derived("requirements-index", lambda: _requirements_index(platform))


def _requirements_index(platform: Platform) -> RequirementsIndex:
    users: dict[str, list[ServiceDef]] = defaultdict(list)
    roots: set[str] = set()
    listed: set[tuple[str, str]] = set()
    for service in platform.every_service():
        roots.update(service.requirement_files)
        paths = {r.path for r in (*service.requirements, *service.constraints)}
        for path in sorted(paths | set(service.requirement_files)):
            # One entry per service name: compose projects may define a service twice.
            if (path, service.name) not in listed:
                listed.add((path, service.name))
                users[path].append(service)
    # Included from another folder: `requirements-dev.txt` including its neighbour
    # `requirements.txt` makes that file no more shared than it was.
    included: set[str] = set()
    for path, file in platform.requirements_files.items():
        for include in file.includes:
            target = include.resolved
            if (
                include.kind == "requirement"
                and target is not None
                and PurePosixPath(target).parent != PurePosixPath(path).parent
            ):
                included.add(target)
    # A file named like `requirements.shared.txt` is shared only where several services'
    # files sit below its folder: `services/api/requirements-base.txt` is api's own.
    homes = {str(PurePosixPath(root).parent) for root in roots}
    shared = [
        file
        for path, file in sorted(platform.requirements_files.items())
        if path in included
        or (
            path not in roots
            and _SHARED_NAME.search(PurePosixPath(path).name) is not None
            and sum(1 for home in homes if is_under(home, str(PurePosixPath(path).parent))) > 1
        )
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
