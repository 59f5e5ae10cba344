from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath

from packaging.utils import canonicalize_name

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.facts import installed_modules as modules
from passmuster.scanner.facts.code import import_roots, owned_python_files, reachable_files
from passmuster.scanner.facts.local_modules import local_modules
from passmuster.scanner.facts.paths import is_test_file
from passmuster.scanner.facts.tables import table
from passmuster.scanner.rule import Rule, reported_once


@dataclass(frozen=True, slots=True)
class _Use:
    service: ServiceDef
    path: str
    line: int
    module: str
    order: int  # how early the service's entry module reaches the file (0: the entry itself)


def _repo_modules(platform: Platform) -> dict[str, set[str]]:
    """Top-level module name -> where the repository has code by that name (a package folder
    holding Python files, or a module file), read from the files the scan found."""

    def build() -> dict[str, set[str]]:
        index: dict[str, set[str]] = {}
        for path in platform.python_paths:
            index.setdefault(PurePosixPath(path).stem, set()).add(path)
            folder = posixpath.dirname(path)
            while folder:
                index.setdefault(posixpath.basename(folder), set()).add(folder)
                folder = posixpath.dirname(folder)
        return index

    return platform.derived("repo-modules", build)


def _inside(path: str, folder: str) -> bool:
    return folder in ("", ".") or path == folder or path.startswith(folder + "/")


def _own_names(service: ServiceDef) -> set[str]:
    """Folder and module names of the service's own files: code it may import from a folder
    this scan cannot place on its path."""
    names: set[str] = set()
    for path in service.python_files:
        parts = PurePosixPath(path).parts
        names.update(parts[:-1])
        names.add(PurePosixPath(path).stem)
    return names


def _mounted(service: ServiceDef, location: str) -> bool:
    """Whether compose bind-mounts the code (or a folder holding it) into the container."""
    return any(
        volume.resolved is not None
        and (location == volume.resolved or _inside(location, volume.resolved))
        for volume in service.volumes
        if volume.type == "bind"
    )


class ModuleNotInImage(Rule):
    """## What it does
    Flags a module a service imports at start that its image does not contain:

    - code the repository has (`shared/`, `common/utils.py`) but outside the service's
      build context, so `COPY . .` never brings it in (unless compose bind-mounts it, or the
      build has `additional_contexts`);
    - a client library (`grpc`, `kafka`, `aiokafka`, `confluent_kafka`, `pika`,
      `aio_pika`, the metrics and logging libraries `prometheus_client`,
      `pythonjsonlogger`, `structlog`, and `jose`, `sqlalchemy`) that none of the packages
      the image installs provides, neither the library nor a package depending on it (the
      table ships as `passmuster/scanner/data/import_providers.toml`). Judged only when
      the Dockerfile installs requirements files the scan read and no other installer
      (poetry, pipenv, conda, `pip install .`).

    Only imports in the module body of files the service's entry module reaches are judged;
    imports under `try`, `if` or in functions, and test files are left alone, and so are
    packages the requirements name. One finding per module and build context lists every
    place that imports it.

    ## Why is this bad?
    The service works from a checkout, where the repository root is on the path, and the
    container exits at start with `ModuleNotFoundError: No module named 'shared'`. A build
    cannot reach outside its context (`COPY ../shared` fails), so the code has to be moved,
    packaged or the context widened.

    ## Example
    ```yaml
    services:
      orders:
        build: ./services/orders     # imports shared.logging; shared/ is at the root
    ```

    ## How to fix
    Add the missing library to the requirements the Dockerfile installs. For code outside
    the context: build from the repository root (`context: .`,
    `dockerfile: services/orders/Dockerfile`) and `COPY shared ./shared`; or make `shared`
    an installable package the requirements name; or give the build a second context
    (`additional_contexts: {shared: ./shared}`, `COPY --from=shared . ./shared`).
    """

    code = "CODE006"
    name = "module-not-in-image"
    severity = Severity.CRITICAL
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        repo = _repo_modules(platform)
        found: dict[tuple[str, str], list[_Use]] = {}
        reasons: dict[tuple[str, str], str] = {}
        names: dict[int, set[str]] = {}
        for service, source in owned_python_files(platform):
            context = service.build_context
            facts = source.facts
            if context in (None, "", ".") or facts is None or is_test_file(source.path):
                continue
            assert context is not None
            own = names.setdefault(id(service), _own_names(service))
            roots = import_roots(service)
            reached = reachable_files(platform, service) or []
            order = reached.index(source.path) if source.path in reached else len(reached)
            for imported in facts.module_imports:
                top = imported.module.split(".", 1)[0]
                if top in own or modules.is_stdlib(top) or service.has_package(top):
                    continue
                why = _outside_context(platform, service, context, roots, top, repo)
                if why is None:
                    why = _not_installed(service, top)
                if why is None:
                    continue
                key = (context, top)
                found.setdefault(key, []).append(
                    _Use(service, source.path, imported.line, imported.module, order)
                )
                reasons[key] = why
        for (context, top), uses in found.items():
            uses.sort(key=lambda u: (u.order, u.path, u.line))
            first, *rest = uses
            services = ", ".join(dict.fromkeys(u.service.name for u in uses))
            verb = "imports" if len({u.service.name for u in uses}) == 1 else "import"
            yield self.finding(
                f"{services} {verb} {first.module} at start, but {reasons[(context, top)]}: "
                f"the service fails with ModuleNotFoundError: No module named {top!r}",
                first.path,
                first.line,
                service=first.service.name,
                related=[
                    Location(u.path, u.line, message=u.module, service=u.service.name) for u in rest
                ],
                key=f"{context}:{top}",
            )


def _outside_context(
    platform: Platform,
    service: ServiceDef,
    context: str,
    roots: tuple[str, ...],
    top: str,
    repo: dict[str, set[str]],
) -> str | None:
    """Why the image lacks repository code named `top`, else None."""
    locations = repo.get(top)
    if not locations or any(_inside(loc, context) for loc in locations):
        return None
    if local_modules(platform).find(top, roots) is not None:
        return None
    if modules.installed_module(top) is not None:
        return None  # a real package of that name; perhaps installed by another one
    if _extra_contexts(service) or any(_mounted(service, loc) for loc in locations):
        return None
    places = ", ".join(loc if loc.endswith(".py") else loc + "/" for loc in sorted(locations)[:3])
    return f"{top} lives at {places}, outside the build context {context}"


@cache
def _providers() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Import name -> (distributions installing it, the library's own first; name prefixes)."""
    return {
        entry["import"]: (
            tuple(canonicalize_name(p) for p in entry["packages"]),
            tuple(entry.get("prefixes", ())),
        )
        for entry in table("import_providers")["module"]
    }


# Installers whose package lists this scan does not read.
_OTHER_INSTALLERS = ("poetry", "pipenv", "conda", "mamba", "uv sync", "pdm", "pip install .")


def _not_installed(service: ServiceDef, top: str) -> str | None:
    """Why the image's requirements lack the client library `top`, else None. Judged only
    when every package the image installs is known: pip installs of requirements files the
    scan read, and packages named on the pip line."""
    provider = _providers().get(top)
    dockerfile = service.dockerfile
    if provider is None or dockerfile is None or not dockerfile.pip_installs:
        return None
    if not service.requirement_files or any(
        not install.requirement_files and not install.packages
        for install in dockerfile.pip_installs
    ):
        return None
    if any(
        word in instruction.value
        for instruction in dockerfile.all_instructions()
        if instruction.keyword == "RUN"
        for word in _OTHER_INSTALLERS
    ):
        return None
    named = [r.name for r in (*service.requirements, *service.pyproject_dependencies)]
    if any(r.url for r in service.requirements):
        return None  # a package from a URL or folder may depend on anything
    for install in dockerfile.pip_installs:
        for package in install.packages:
            if "/" in package or package.startswith("."):
                return None
            named.append(canonicalize_name(re.split(r"[\[<>=!~;@ ]", package, maxsplit=1)[0]))
    packages, prefixes = provider
    if any(name in packages or name.startswith(prefixes) for name in named):
        return None
    files = ", ".join(service.requirement_files)
    return f"{files} installs neither {packages[0]} nor a package that depends on it"


def _extra_contexts(service: ServiceDef) -> bool:
    """Whether the build has other contexts (`additional_contexts`) code may come from."""
    build = service.raw.get("build")
    return isinstance(build, dict) and bool(build.get("additional_contexts"))
