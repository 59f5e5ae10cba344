from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Spec
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, Requirement, ServiceDef
from passmuster.scanner.facts.tables import table
from passmuster.scanner.facts.versions import LATEST, likely_version
from passmuster.scanner.rule import Rule, reported_once


class IncompatiblePackages(Rule):
    """## What it does
    Flags a service whose packages form a combination known to break, from the table shipped
    with passmuster (`passmuster/scanner/data/incompatible.toml`): for example `docker` < 7.1
    with `requests` >= 2.32, or `aioredis` on Python 3.11 and later.

    Each package is judged at the version pip would most likely install: the pinned version,
    else the newest its specifier allows. A package the service does not list but gets as a
    dependency of another (such as `requests` for `docker`) counts at its newest version.

    ## Why is this bad?
    The image builds, then the service fails at run time: the Docker SDK raises
    `Not supported URL scheme http+docker`; `import aioredis` raises
    `TypeError: duplicate base class TimeoutError`.

    ## Example
    ```text
    # services/instances/requirements.txt
    docker==4.4.4
    celery==5.3.6
    ```
    (requests comes in unpinned through docker and resolves to 2.32.x.)

    ## How to fix
    Follow the fix the finding names (here: pin `docker>=7.1.0`). Add combinations your
    platform has met to the table, or pin the transitive package.
    """

    code = "REQ006"
    name = "incompatible-packages"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        combinations: list[dict[str, Any]] = table("incompatible")["combination"]
        for service in platform.every_service():
            installs = [*service.requirements, *service.pyproject_dependencies]
            if not installs:
                continue
            listed = {r.name: r for r in installs}
            python = service.python_version
            for combo in combinations:
                if not _imports_any(platform, service, combo.get("needs-import", [])):
                    continue
                hit = self._matches(combo, listed, python)
                if hit is None:
                    continue
                anchor, others = hit
                message = combo["message"]
                if combo.get("fix"):
                    message += f"; {combo['fix']}"
                yield self.finding(
                    message,
                    anchor.path,
                    anchor.line,
                    service=service.name,
                    related=[Location(r.path, r.line, message=r.raw) for r in others],
                    key=str(combo.get("id", combo["message"])),
                )

    @staticmethod
    def _matches(
        combo: dict[str, Any], listed: dict[str, Requirement], python: str | None
    ) -> tuple[Requirement, list[Requirement]] | None:
        if "python" in combo and (
            python is None or Version(python) not in SpecifierSet(combo["python"])
        ):
            return None
        unlisted_latest = {name.lower() for name in combo.get("unlisted-means-latest", [])}
        for package, via in combo.get("installed-by-extra", {}).items():
            carrier = listed.get(str(via).lower())
            if carrier is not None and package in carrier.extras:
                unlisted_latest.add(package.lower())
        matched: list[Requirement] = []
        for text in combo["when"]:
            try:
                condition = Spec(text)
            except InvalidRequirement:
                return None
            name = condition.name.lower().replace("_", "-")
            req = listed.get(name)
            if req is None:
                if name not in unlisted_latest or LATEST not in condition.specifier:
                    return None
                continue
            try:
                version = likely_version(SpecifierSet(req.specifier))
            except InvalidSpecifier:
                return None
            newest = combo.get("newest", {}).get(name)
            if version is not None and newest is not None and version > Version(newest):
                version = Version(newest)  # no later release exists
            if version is None or not condition.specifier.contains(version, prereleases=True):
                return None
            matched.append(req)
        if not matched:
            return None
        pinned = [r for r in matched if r.pinned_version]
        anchor = (pinned or matched)[0]
        return anchor, [r for r in matched if r is not anchor]


def _imports_any(platform: Platform, service: ServiceDef, modules: list[str]) -> bool:
    """Whether the service's code imports one of `modules` (True when there is no code to
    tell, or no modules are named)."""
    if not modules or not service.python_files:
        return True
    wanted = set(modules)
    for source in platform.python_files(service):
        facts = source.facts
        if facts is not None and any(i.module.split(".")[0] in wanted for i in facts.imports):
            return True
    return False
