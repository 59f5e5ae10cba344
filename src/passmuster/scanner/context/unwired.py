"""Python services built from a Dockerfile that no compose file (nor passmuster.toml) uses.

A folder like `services/billing/` with its own `Dockerfile` and Python code is a service even
when no compose file wires it (it is deployed some other way, or compose was never updated).
Such a folder becomes a service named after it, so that the rules judging a service's code,
image and requirements read it. It has no compose project, no published ports, no
environment from compose, no dependencies and no networks: rules about those never see it
(`Platform.unwired`, apart from `Platform.services`).

Left out: folders whose Dockerfile compose builds, or whose folder it builds with another
Dockerfile (`Dockerfile.dev` beside `Dockerfile`); folders named like a compose service or its
image, or named by a compose build argument (a shared Dockerfile building `SERVICE_DIR`): most
likely that service, built another way; Dockerfiles of tests, examples, samples,
documentation and vendored code; images that do not run Python; folders without Python code.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

from passmuster.scanner.context.copies import copies_before
from passmuster.scanner.context.dockerfile import parse_dockerfile
from passmuster.scanner.context.images import parse_image
from passmuster.scanner.context.model import Dockerfile, ServiceDef, Where
from passmuster.scanner.context.services import runs_python
from passmuster.scanner.context.tree import SAMPLE_FOLDERS, RepositoryTree

# Folders whose Dockerfiles are not the platform's services: tests, examples and samples,
# documentation, demos and templates, vendored code.
_NOT_SERVICES = SAMPLE_FOLDERS | {
    "tests",
    "test",
    "e2e",
    "smoke",
    "smoke_tests",
    "integration_tests",
    "demo",
    "demos",
    "templates",
    "template",
    "vendor",
    "vendored",
    "third_party",
    "third-party",
    "external",
}


def unwired_services(
    tree: RepositoryTree, wired: Iterable[ServiceDef], root_name: str
) -> list[ServiceDef]:
    """A service (not yet completed) for each folder whose Python image nothing wires."""
    wired = list(wired)
    used_folders = {posixpath.dirname(s.dockerfile_path) or "." for s in wired if s.dockerfile_path}
    names = {host for s in wired for host in s.hostnames}
    names |= {_image_name(s.image) for s in wired if s.image}
    arguments = {value for s in wired for value in _build_arguments(s)}
    found: list[ServiceDef] = []
    for path in sorted(tree.dockerfiles):
        if PurePosixPath(path).name.lower() != "dockerfile":
            continue  # a variant (Dockerfile.dev, api.Dockerfile) says nothing of its folder
        folder = posixpath.dirname(path) or "."
        if folder in used_folders or _not_a_service(folder):
            continue
        name = PurePosixPath(folder).name if folder != "." else root_name
        if name in names or folder in arguments or name in arguments:
            # Compose runs a service of that name (a pulled image, or one built by a shared
            # Dockerfile given the folder as a build argument): most likely this one.
            continue
        dockerfile = parse_dockerfile(tree.text(path, remember=False) or "", path)
        if dockerfile.final is None:
            continue
        context = _context(dockerfile, folder, tree.exists)
        probe = ServiceDef(name=name, project="", path=path, line=None, dockerfile=dockerfile)
        if not runs_python(probe) or not _has_python(tree, folder):
            continue
        if any(s.name == name for s in found):
            name = folder  # another such folder has that name: the path tells them apart
        found.append(
            ServiceDef(
                name=name,
                project="",
                path=path,
                line=None,
                build_context=context,
                build_where=Where(path, None),
                dockerfile_path=path,
                dockerfile_where=Where(path, None),
                dockerfile_only=True,
            )
        )
    return found


def _not_a_service(folder: str) -> bool:
    return any(part.lower() in _NOT_SERVICES for part in PurePosixPath(folder).parts)


def _image_name(image: str) -> str:
    return parse_image(image).name.rsplit("/", 1)[-1]


def _build_arguments(service: ServiceDef) -> list[str]:
    """The values of the service's compose `build.args` (`SERVICE_DIR: billing`), trimmed of
    `./` and a trailing `/`."""
    build = service.raw.get("build")
    args = build.get("args") if isinstance(build, dict) else None
    if isinstance(args, dict):
        values = [str(v) for v in args.values() if v is not None]
    elif isinstance(args, list):
        values = [str(a).partition("=")[2] for a in args]
    else:
        values = []
    return [posixpath.normpath(v).strip("/") for v in values if v]


def _has_python(tree: RepositoryTree, folder: str) -> bool:
    return any(
        files and (folder == "." or rel_dir == folder or rel_dir.startswith(folder + "/"))
        for rel_dir, files in tree.python_by_dir.items()
    )


def _context(dockerfile: Dockerfile, folder: str, exists: Callable[[str], bool]) -> str:
    """The build context the Dockerfile is meant for: the nearest folder, from its own up to
    the root, that holds every file its COPY and ADD lines take (`docker build
    services/api` or `docker build -f services/api/Dockerfile .`); its own folder when none
    does (a generated file, or a context outside the repository)."""
    sources = {
        source
        for stage in dockerfile.stages
        for copy in copies_before(stage, 1 << 30)
        for source in copy.sources
        if source != "." and "$" not in source and "://" not in source
    }
    if not sources:
        return folder
    candidate = folder
    while True:
        if all(_present(candidate, source, exists) for source in sources):
            return candidate
        if candidate == ".":
            return folder
        candidate = posixpath.dirname(candidate) or "."


def _present(context: str, source: str, exists: Callable[[str], bool]) -> bool:
    path = posixpath.normpath(posixpath.join(context, source))
    if path.startswith("../"):
        return False
    if any(c in source for c in "*?["):
        return exists(posixpath.dirname(path) or ".")  # a pattern: its folder, at least
    return exists(path)
