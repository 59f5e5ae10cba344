"""The Python code services run, grouped so that code several services share is read once."""

from __future__ import annotations

from collections.abc import Iterator

from passmuster.scanner.context.model import Platform, PythonFile, ServiceDef


def code_groups(platform: Platform) -> list[tuple[tuple[str, ...], list[ServiceDef]]]:
    """Services grouped by the exact set of Python files they run (siblings built from one
    context share it), so per-file work is done once per group rather than once per service."""
    return platform.derived("code-groups", lambda: _code_groups(platform))


def _code_groups(platform: Platform) -> list[tuple[tuple[str, ...], list[ServiceDef]]]:
    groups: dict[tuple[str, ...], list[ServiceDef]] = {}
    for service in platform.services:
        if service.python_files:
            groups.setdefault(tuple(service.python_files), []).append(service)
    return list(groups.items())


def owned_python_files(platform: Platform) -> Iterator[tuple[ServiceDef, PythonFile]]:
    """Each Python file once, with the first service that runs it: a problem in shared code
    is reported once."""
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
