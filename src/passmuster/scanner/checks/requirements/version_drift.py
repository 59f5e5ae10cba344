from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from packaging.version import InvalidVersion, Version

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, Requirement, ServiceDef
from passmuster.scanner.facts.versions import is_developer_tool
from passmuster.scanner.rule import Rule, reported_once

_DEPTHS = {"major": 1, "minor": 2, "patch": 3}


def _release(version: str, depth: int) -> tuple[int | str, ...]:
    """The first `depth` parts of a release: (2,) for 2.11.7 at major level."""
    try:
        return Version(version).release[:depth]
    except InvalidVersion:
        return (version,)


def _order(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


class VersionDrift(Rule):
    """## What it does
    Flags a package pinned (`==`) to different major versions in different services of one
    compose project, after resolving `-r` includes: one finding per package, on a pin that
    differs from the version most services use, listing the other pins. Minor and patch
    differences are left alone by default (they keep the API); nested compose projects of
    one repository are separate platforms and need not agree. Test runners, linters,
    formatters and type checkers (pytest and its plug-ins, ruff, mypy …) are left alone too:
    they run on the code, never inside a service.

    ## Why is this bad?
    Services that share a library (pydantic models, an auth client, the Docker SDK) start to
    disagree about its behaviour: a model serialised by one version fails to validate in
    another, and fixes applied to one service silently miss the others.

    ## Example
    ```text
    # services/billing/requirements.txt
    pydantic==1.10.13
    # services/identity/requirements.txt
    pydantic==2.11.7
    ```

    ## How to fix
    Move the pin into the shared requirements file and include it, or align the versions.
    When a service really needs another version, suppress the finding on that line with a
    reason: `pydantic==1.10.13  # passmuster: ignore[REQ002] legacy billing models`.

    ## Configuration
    ```toml
    [scan.options.REQ002]
    level = "minor"   # "major" (default), "minor" or "patch": the difference that counts
    ```
    """

    code = "REQ002"
    name = "version-drift"
    severity = Severity.MEDIUM
    fix = Fix.NONE
    default_options: ClassVar[Mapping[str, Any]] = {"level": "major"}

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        # Drift is judged within one compose project: nested projects of one repository are
        # separate platforms that need not agree.
        for project in platform.projects:
            yield from self._drift(platform.project_services(project.name))

    def _drift(self, members: list[ServiceDef]) -> Iterator[Finding]:
        pins: dict[str, dict[str, list[tuple[ServiceDef, Requirement]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for service in members:
            own: dict[str, list[Requirement]] = defaultdict(list)
            for req in service.requirements:
                # A test runner or linter runs on the code, not in the service: pinning it
                # differently breaks nothing between services.
                if (
                    req.pinned_version is not None
                    and not req.marker
                    and not is_developer_tool(req.name)
                ):
                    own[req.name].append(req)
            for name, reqs in own.items():
                if len({r.pinned_version for r in reqs}) > 1:
                    continue  # pinned twice within the service: REQ003 reports that
                version = reqs[0].pinned_version
                assert version is not None
                pins[name][version].append((service, reqs[0]))
        depth = _DEPTHS[str(self.options["level"])]
        for package, versions in sorted(pins.items()):
            if len({_release(v, depth) for v in versions}) < 2:
                continue  # only patch (or minor) differences: nothing breaks between them
            majority = max(versions, key=lambda v: (len(versions[v]), _order(v)))
            model_service, model_req = versions[majority][0]
            # One finding per package: the drift is one cause, whatever the number of pins.
            places: dict[tuple[str, int], tuple[str, list[ServiceDef]]] = {}
            for version, users in sorted(versions.items(), key=lambda item: _order(item[0])):
                if _release(version, depth) == _release(majority, depth):
                    continue
                for service, req in users:
                    places.setdefault((req.path, req.line), (version, []))[1].append(service)
            ((path, line), (version, owners)), *rest = places.items()
            names = ", ".join(dict.fromkeys(s.name for s in owners))
            others = ", ".join(dict.fromkeys(s.name for s, _ in versions[majority][:3]))
            related = [
                Location(
                    model_req.path,
                    model_req.line,
                    message=f"{package}=={majority}",
                    service=model_service.name,
                ),
                *(
                    Location(p, n, message=f"{package}=={v}", service=o[0].name)
                    for (p, n), (v, o) in rest
                ),
            ]
            also = {v for _, (v, _) in rest} - {version}
            extra = f" (and {', '.join(sorted(also, key=_order))} elsewhere)" if also else ""
            yield self.finding(
                f"{package} is pinned to {version} here ({names}) but to {majority} "
                f"in {others}{extra}",
                path,
                line,
                service=owners[0].name,
                related=related,
                key=package,
            )
