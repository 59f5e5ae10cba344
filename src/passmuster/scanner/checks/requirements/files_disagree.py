from __future__ import annotations

import posixpath
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, Requirement, ServiceDef
from passmuster.scanner.rule import Rule, reported_once


class RequirementsFilesDisagree(Rule):
    """## What it does
    Flags two requirements files of one service that pin a package to different versions:
    `services/api/requirements.txt` says `fastapi==0.110.0`, the
    `services/api/requirements-standalone.txt` its Dockerfile installs (or the
    `requirements-dev.txt` developers install) says `fastapi==0.116.1`. A file belongs to the
    service whose image installs it, else to the service whose build context (or code folder)
    holds it (services sharing one context each own the file they install); files outside
    every service are
    compared with the files of their own folder (`tests/requirements.txt` and
    `tests/requirements-test.txt`). Files that include one another are REQ003's. One finding
    per pair of files lists every package they pin differently.

    ## Why is this bad?
    The service is developed and tested against one version and shipped with the other: a
    bug fixed on a laptop comes back in the image, and the two files drift further with
    every upgrade that touches only one of them.

    ## Example
    ```text
    # services/api/requirements.txt
    fastapi==0.110.0
    # services/api/requirements-standalone.txt
    fastapi==0.116.1
    ```

    ## How to fix
    Keep the shared pins in one file and include it from the other
    (`-r requirements.txt` in `requirements-dev.txt`).
    """

    code = "REQ010"
    name = "requirements-files-disagree"
    severity = Severity.MEDIUM
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        # Every requirements file listed under each folder above it: one pass.
        under: dict[str, list[str]] = {}
        for path in sorted(platform.requirements_files):
            folder = posixpath.dirname(path)
            while folder:
                under.setdefault(folder, []).append(path)
                folder = posixpath.dirname(folder)
        owner: dict[str, tuple[str, ServiceDef]] = {}  # file -> (deepest service folder, …)
        folders: dict[str, ServiceDef] = {}
        for service in platform.every_service():
            home = _folder(service)
            if home is not None:
                folders.setdefault(home, service)
        for folder, service in folders.items():
            for path in under.get(folder, ()):
                held = owner.get(path)
                if held is None or len(folder) > len(held[0]):
                    owner[path] = (folder, service)
        # A file a service's image installs is that service's, whoever's build context holds
        # it: services sharing one context (`context: .`, `dockerfile: services/x/Dockerfile`)
        # each install their own file, and two of them pinning differently is REQ002's.
        # A file no image installs goes with the one its image installs beside it
        # (`requirements-dev.txt` next to a service's `requirements.txt`).
        installers: dict[str, ServiceDef] = {}
        beside: dict[str, ServiceDef] = {}
        for service in platform.every_service():
            for path in service.requirement_files:
                installers.setdefault(path, service)
                beside.setdefault(posixpath.dirname(path), service)
        grouped: dict[int, tuple[ServiceDef, list[str]]] = {}
        for path, (_, service) in owner.items():
            holder = installers.get(path) or beside.get(posixpath.dirname(path), service)
            grouped.setdefault(id(holder), (holder, []))[1].append(path)
        for holder, files in sorted(grouped.values(), key=lambda group: sorted(group[1])):
            yield from self._disagreements(platform, holder.name, sorted(files))
        # Files side by side outside any service (a tests/ folder's requirements.txt and
        # requirements-test.txt) are installed together too.
        by_folder: dict[str, list[str]] = {}
        for path in sorted(platform.requirements_files):
            if path not in owner:
                by_folder.setdefault(posixpath.dirname(path), []).append(path)
        for files in by_folder.values():
            yield from self._disagreements(platform, None, files)

    def _disagreements(
        self, platform: Platform, service: str | None, files: list[str]
    ) -> Iterator[Finding]:
        if len(files) < 2:
            return
        linked = _linked(platform, files)
        pins: dict[str, list[Requirement]] = {}
        for path in files:
            for req in platform.requirements_files[path].requirements:
                if req.pinned_version is not None and not req.marker:
                    pins.setdefault(req.name, []).append(req)
        # One finding per pair of files: the files drifted apart once, whatever the number
        # of packages (a test stack pinned in both gives pytest, pytest-asyncio, …).
        pairs: dict[tuple[str, str], list[tuple[str, Requirement, Requirement]]] = {}
        for package, reqs in sorted(pins.items()):
            first = reqs[0]
            for other in reqs[1:]:
                if other.path == first.path or other.pinned_version == first.pinned_version:
                    continue
                if frozenset((first.path, other.path)) in linked:
                    continue  # one includes the other: REQ003 reports the conflict
                pairs.setdefault((other.path, first.path), []).append((package, other, first))
                break
        whose = f"of {service}" if service else "beside it"
        for (here, there), drifts in pairs.items():
            drifts.sort(key=lambda d: d[1].line)
            package, other, first = drifts[0]
            if len(drifts) == 1:
                message = (
                    f"{package} is pinned to {other.pinned_version} here but to "
                    f"{first.pinned_version} in {there}, another requirements file {whose}"
                )
            else:
                listed = ", ".join(
                    f"{p} {o.pinned_version} (there {f.pinned_version})" for p, o, f in drifts
                )
                message = (
                    f"{len(drifts)} packages are pinned here otherwise than in {there}, "
                    f"another requirements file {whose}: {listed}"
                )
            yield self.finding(
                message,
                here,
                other.line,
                service=service,
                related=[
                    *(Location(f.path, f.line, message=f.raw) for _, _, f in drifts),
                    *(Location(o.path, o.line, message=o.raw) for _, o, _ in drifts[1:]),
                ],
                key=f"{here}:{there}",
            )


def _folder(service: ServiceDef) -> str | None:
    """The folder holding the service's own files: its build context, or its Dockerfile's
    folder when the context is the repository root."""
    context = service.build_context
    if context is None:
        return None
    if context in (".", "") and service.dockerfile_path and "/" in service.dockerfile_path:
        return posixpath.dirname(service.dockerfile_path)
    return None if context in (".", "") else context


def _linked(platform: Platform, files: list[str]) -> set[frozenset[str]]:
    """Pairs of files where one includes the other (directly or not)."""
    pairs: set[frozenset[str]] = set()
    for path in files:
        pending = [path]
        seen: set[str] = set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            parsed = platform.requirements_files.get(current)
            for include in parsed.includes if parsed is not None else ():
                if include.resolved is not None:
                    pairs.add(frozenset((path, include.resolved)))
                    pending.append(include.resolved)
    return pairs
