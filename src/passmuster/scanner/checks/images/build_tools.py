from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.images import image_flavour
from passmuster.scanner.context.model import Platform, ServiceDef, Stage
from passmuster.scanner.facts.tables import table
from passmuster.scanner.facts.versions import LATEST, likely_version
from passmuster.scanner.rule import Rule, reported_once


class MissingBuildTools(Rule):
    """## What it does
    Flags a package that compiles C code when installed (`psycopg2`, `psutil`, `mysqlclient`,
    …) on a base image that has no compiler or lacks the package's system libraries, such as
    `python:3.11-slim` or Alpine without `gcc`/`build-essential`/`build-base` installed in the
    stage that runs `pip install`.

    The packages, what they need and the releases that ship a wheel for an image (psutil from
    5.9.4 on Debian-based images) are listed in the shipped table
    `passmuster/scanner/data/build_deps.toml`.

    ## Why is this bad?
    The image build fails in `pip install` with `error: command 'gcc' failed` or
    `pg_config executable not found`, usually first on a clean CI runner.

    ## Example
    ```dockerfile
    FROM python:3.11-slim
    COPY requirements.txt .
    RUN pip install -r requirements.txt   # psutil==5.9.0, psycopg2==2.9.9
    ```

    ## How to fix
    Install the build tools in the stage that installs the packages (and drop them after, or
    build wheels in a builder stage):
    ```dockerfile
    RUN apt-get update && apt-get install -y --no-install-recommends gcc python3-dev libpq-dev \\
        && rm -rf /var/lib/apt/lists/*
    ```
    or use the binary alternative the finding names (`psycopg2-binary`).
    """

    code = "IMG001"
    name = "missing-build-tools"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        data = table("build_deps")
        packages: dict[str, dict[str, Any]] = {p["name"]: p for p in data["package"]}
        compilers: dict[str, list[str]] = data["compilers"]
        for service in platform.every_service():
            dockerfile = service.dockerfile
            installs = [*service.requirements, *service.pyproject_dependencies]
            if dockerfile is None or not dockerfile.stages or not installs:
                continue
            stage = self._install_stage(service)
            flavour = image_flavour(stage.base)
            if flavour not in {"slim", "alpine"}:
                continue
            family = "alpine" if flavour == "alpine" else "debian"
            installed = stage.system_packages
            has_compiler = bool(installed & set(compilers[family]))
            for req in installs:
                entry = packages.get(req.name)
                if entry is None or flavour not in entry["images"]:
                    continue
                if _gets_a_wheel(req.specifier, entry.get("wheels", {}).get(flavour)):
                    continue
                needs: list[str] = entry.get("needs", {}).get(family, [])
                if entry.get("any-of-needs"):
                    libs_ok = not needs or bool(installed & set(needs))
                else:
                    libs_ok = set(needs) <= installed
                if has_compiler and libs_ok:
                    continue
                missing = [] if has_compiler else [compilers[family][0]]
                if not libs_ok:
                    missing.append(needs[0])
                hint = f"; or use {entry['alternative']}" if entry.get("alternative") else ""
                yield self.finding(
                    f"{req.name} compiles on install but {stage.base} has no "
                    f"{' or '.join(missing)}: {entry['why']}{hint}",
                    dockerfile.path,
                    stage.line,
                    service=service.name,
                    related=[Location(req.path, req.line, message=req.raw)],
                    key=req.name,
                )

    @staticmethod
    def _install_stage(service: ServiceDef) -> Stage:
        dockerfile = service.dockerfile
        assert dockerfile is not None
        installs = [i for i in dockerfile.pip_installs if i.requirement_files or i.packages]
        if installs:
            return dockerfile.stages[installs[0].stage]
        return dockerfile.stages[-1]


def _gets_a_wheel(specifier: str, wheels: str | None) -> bool:
    """Whether the release pip resolves the requirement to ships a wheel for the image."""
    if wheels is None:
        return False
    try:
        wanted = likely_version(SpecifierSet(specifier)) if specifier else LATEST
    except InvalidSpecifier:
        return False
    return wanted is not None and SpecifierSet(wheels).contains(wanted, prereleases=True)
