"""Compose files: grouped into projects (files that run together) and read into services.

A base file and its `*.override.yml` form one project; another file in the same folder that only
adjusts the base's services (no `image`/`build`) joins it; files named by a top-level `include:`
join the file that includes them; `[scan] compose` declares sets explicitly; any other file is
its own project. `${VAR}` is interpolated from the project folder's `.env` (or `.env.example`),
`extends` is applied underneath, and the files of a project are merged service by service.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any

from passmuster.errors import ParseError
from passmuster.scanner.context.compose_keys import KeyContext, read_service_keys
from passmuster.scanner.context.interpolate import (
    Interpolated,
    Interpolator,
    RequiredVariableMissing,
    TemplateError,
)
from passmuster.scanner.context.model import (
    ComposeFile,
    EnvFile,
    ParseProblem,
    Platform,
    Project,
    ServiceDef,
)
from passmuster.scanner.context.tree import RepositoryTree, inside
from passmuster.scanner.context.yamldoc import YamlDoc, load_yaml

_BASE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
_OVERRIDE_NAMES: tuple[str, ...] = (
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
)


def _needs_base_services(services: Mapping[str, Any], base_services: Mapping[str, Any]) -> bool:
    """A file whose services depend on services only the base defines cannot run alone: it is
    run on top of the base (`docker compose -f docker-compose.yml -f staging.yml`)."""
    for body in services.values():
        needs = body.get("depends_on") if isinstance(body, dict) else None
        names = list(needs) if isinstance(needs, dict | list) else []
        if any(isinstance(n, str) and n not in services and n in base_services for n in names):
            return True
    return False


def _nearest_base(folder: str, bases: Mapping[str, str]) -> str | None:
    """The base compose file of the nearest folder above `folder` that has one."""
    while folder:
        folder = posixpath.dirname(folder)
        if folder in bases:
            return bases[folder]
    return None


def _names_context(body: Mapping[str, Any]) -> bool:
    """Whether a service body says what to build: `build: ./api` or `build: {context: …}`."""
    build = body.get("build")
    return isinstance(build, str) or (isinstance(build, dict) and "context" in build)


def _project_order(files: list[str]) -> tuple[str, bool, list[str]]:
    """By first file; a base file's default project (alone or with its `*.override.yml`)
    before the projects of its other overlays."""
    overlay = len(files) > 1 and posixpath.basename(files[1]) not in _OVERRIDE_NAMES
    return files[0], overlay, files


class ComposeReader:
    """Reads the compose files of one repository into `platform.projects` and its services."""

    def __init__(
        self,
        tree: RepositoryTree,
        platform: Platform,
        declared: list[list[str]],
        env_file: Callable[[str], EnvFile],
    ) -> None:
        self.tree = tree
        self.platform = platform
        self.declared = declared  # `[scan] compose`: files that run together
        self.env_file = env_file
        self._raw_docs: dict[str, YamlDoc | None] = {}
        self._included: set[str] = set()  # compose files pulled in by `include:`

    def problem(self, path: str, line: int | None, message: str) -> None:
        self.platform.problems.append(ParseProblem(path, line, message))

    def read(self) -> None:
        for project in self.projects():
            self._load_project(project)

    # ------------------------------------------------------------------ projects

    def projects(self) -> list[Project]:
        grouped: list[list[str]] = []
        claimed: set[str] = set()
        for files in self.declared:
            present = [f for f in files if f in self.tree.all_files]
            missing = [f for f in files if f not in self.tree.all_files]
            for name in missing:
                self.problem("passmuster.toml", None, f"[scan] compose names missing file {name}")
            if present:
                grouped.append(present)
                claimed.update(present)
        by_dir: dict[str, list[str]] = {}
        for path in sorted(self.tree.compose):
            if path not in claimed:
                by_dir.setdefault(posixpath.dirname(path), []).append(path)
        bases: dict[str, str] = {}
        for folder, paths in by_dir.items():
            names = {posixpath.basename(p): p for p in paths}
            found = next((names[n] for n in _BASE_NAMES if n in names), None)
            if found is not None:
                bases[folder] = found
        for folder, paths in sorted(by_dir.items()):
            names = {posixpath.basename(p): p for p in paths}
            base = bases.get(folder)
            overrides = [names[n] for n in _OVERRIDE_NAMES if n in names]
            rest = [p for p in paths if p != base and p not in overrides]
            if base is not None:
                group = [base, *overrides]
                base_services = self._service_names(base) if rest else {}
                for other in rest:
                    if self._looks_like_override(other, base_services):
                        # `docker compose -f docker-compose.yml -f this.yml`: its own project
                        # with the base, beside the default one.
                        grouped.append([base, other])
                    else:
                        grouped.append([other])
                grouped.append(group)
            else:
                # `docker compose -f docker-compose.yml -f ci/docker-compose.ci.yml`: an
                # overlay kept in a subfolder runs with the base of a folder above it.
                above = _nearest_base(folder, bases)
                above_services = self._service_names(above) if above else {}
                for path in [*overrides, *rest]:
                    if above is not None and self._overlays(path, above_services):
                        grouped.append([above, path])
                    else:
                        grouped.append([path])
        grouped = self._with_includes(grouped)
        grouped.sort(key=_project_order)
        taken: set[str] = set()
        projects = []
        for files in grouped:
            # A base file runs in several projects (with each overlay): the first keeps its
            # name, the others are named after their overlay too.
            name = files[0] if files[0] not in taken else f"{files[0]}+{files[-1]}"
            taken.add(name)
            projects.append(Project(name, files))
        return projects

    def _with_includes(self, grouped: list[list[str]]) -> list[list[str]]:
        """Files named by a top-level `include:` run with the file that includes them."""
        includes: dict[str, list[str]] = {}
        for group in grouped:
            for path in group:
                text = self.tree.text(path) or ""
                if re.search(r"^include\s*:", text, re.MULTILINE):
                    includes[path] = self._include_targets(path)
        if not includes:
            return grouped
        pulled = {target for targets in includes.values() for target in targets}
        self._included |= pulled
        result = []
        for group in grouped:
            kept = [
                p for p in group if p not in pulled or any(p in includes.get(q, ()) for q in group)
            ]
            for path in list(kept):
                kept.extend(t for t in includes.get(path, ()) if t not in kept)
            if kept:
                result.append(kept)
        return result

    def _include_targets(self, path: str) -> list[str]:
        doc = self._raw_doc(path)
        items = doc.data.get("include") if doc and isinstance(doc.data, dict) else None
        targets: list[str] = []
        for item in items if isinstance(items, list) else []:
            names = item.get("path") if isinstance(item, dict) else item
            for name in names if isinstance(names, list) else [names]:
                if not isinstance(name, str):
                    continue
                resolved = inside(posixpath.join(posixpath.dirname(path), name))
                if resolved is not None and resolved in self.tree.all_files:
                    targets.append(resolved)
                else:
                    line = doc.line(doc.data, "include") if doc else None
                    self.problem(path, line, f"include names missing file {name!r}")
        return targets

    def _service_names(self, path: str) -> dict[str, Any]:
        doc = self._raw_doc(path)
        services = doc.data.get("services") if doc and isinstance(doc.data, dict) else None
        return dict(services) if isinstance(services, dict) else {}

    def _overlays(self, path: str, base_services: dict[str, Any]) -> bool:
        """A file in a subfolder that adjusts the services of a base above it: it looks like
        an override of that base, or most of the services it shares with the base name
        neither an image nor a build context (alone, compose refuses such a service)."""
        if self._looks_like_override(path, base_services):
            return True
        services = self._service_names(path)
        shared = [b for n, b in services.items() if n in base_services and isinstance(b, dict)]
        incomplete = [b for b in shared if "image" not in b and not _names_context(b)]
        return len(incomplete) * 2 > len(shared)

    def _looks_like_override(self, path: str, base_services: dict[str, Any]) -> bool:
        """A file meant to run on top of the base: named so (`docker-compose.override.prod.yml`),
        or adjusting only services the base defines, either without building or pulling
        anything, or saying much less about them than the base does (a build-only file)."""
        name = posixpath.basename(path).lower()
        if ".override." in name:
            return True
        doc = self._raw_doc(path)
        services = doc.data.get("services") if doc and isinstance(doc.data, dict) else None
        if not isinstance(services, dict) or not services:
            return False
        if _needs_base_services(services, base_services):
            return True
        if not all(n in base_services and isinstance(b, dict) for n, b in services.items()):
            return False
        if all("image" not in b and "build" not in b for b in services.values()):
            return True
        said = sum(len(body) for body in services.values())
        base_said = sum(
            len(base_services[n]) for n in services if isinstance(base_services[n], dict)
        )
        return said * 2 < base_said

    # ------------------------------------------------------------------ documents

    def _raw_doc(self, path: str) -> YamlDoc | None:
        """A compose file loaded without interpolation (cached), to group files into projects."""
        if path not in self._raw_docs:
            self._raw_docs[path] = self._compose_doc(path, None)[0]
        return self._raw_docs[path]

    def _compose_doc(
        self, path: str, interpolator: Interpolator | None
    ) -> tuple[YamlDoc | None, ComposeFile]:
        """Load a compose file, interpolating string values and recording each variable used."""
        compose_file = ComposeFile(path, "", None)
        text = self.tree.text(path)
        if text is None:
            return None, compose_file
        problems: list[ParseProblem] = []

        def transform(value: str, line: int) -> str:
            if interpolator is None or "$" not in value:
                return value
            before = len(interpolator.uses)
            try:
                result = interpolator(value)
            except RequiredVariableMissing:
                # Set where the file is run (a deploy's .env or CI); the scan keeps the
                # template, which rules treat as a value they cannot know.
                result = value
            except TemplateError as exc:
                problems.append(ParseProblem(path, line, str(exc)))
                result = value
            for use in interpolator.uses[before:]:
                compose_file.variables.append((use, line))
            return Interpolated(result, value)

        try:
            doc = load_yaml(text, path, transform=transform)
        except ParseError as exc:
            if interpolator is not None:
                self.problem(path, exc.line, exc.detail)
            return None, compose_file
        if interpolator is not None:
            self.platform.problems.extend(problems)
        compose_file.doc_data = doc.data
        return doc, compose_file

    # ------------------------------------------------------------------ services

    def _project_env(self, project: Project) -> tuple[str | None, dict[str, str]]:
        """The env file compose interpolates the project with, and its values."""
        folder = posixpath.dirname(project.files[0])
        for candidate in (".env", ".env.example"):
            path = posixpath.join(folder, candidate) if folder else candidate
            if path in self.tree.all_files:
                return path, self.env_file(path).resolved()
        return None, {}

    def _load_project(self, project: Project) -> None:
        env_path, values = self._project_env(project)
        self.platform.projects.append(project)
        merged: dict[str, ServiceDef] = {}
        for path in project.files:
            # Relative paths resolve against the project folder (the first file's), and an
            # included file keeps its own folder, as compose does. The project's name is not a
            # path: an overlay's project is named `base+overlay`.
            own_folder = posixpath.dirname(path if path in self._included else project.files[0])
            interpolator = Interpolator(values)
            doc, compose_file = self._compose_doc(path, interpolator)
            if doc is None:
                continue
            compose_file.project = project.name
            compose_file.env_file = env_path
            self.platform.compose_files[path] = compose_file
            data = doc.data
            if data is None:
                continue
            if not isinstance(data, dict):
                self.problem(path, 1, "a compose file must be a mapping")
                continue
            services = data.get("services")
            if services is None:
                continue
            if not isinstance(services, dict):
                self.problem(path, doc.line(data, "services"), "`services` must be a mapping")
                continue
            for name, body in services.items():
                line = doc.line(services, name)
                compose_file.service_lines[str(name)] = line or 0
                if not isinstance(body, dict):
                    if body is None:
                        body = {}
                    else:
                        self.problem(path, line, f"service {name!r} must be a mapping")
                        continue
                part = self._service_part(
                    str(name), body, doc, path, line, project.name, interpolator, (), own_folder
                )
                if name in merged:
                    merge_service(merged[name], part)
                else:
                    merged[name] = part
        for service in merged.values():
            self.platform.services.append(service)
            project.services.append(service.name)

    def _service_part(
        self,
        name: str,
        body: dict[str, Any],
        doc: YamlDoc,
        path: str,
        line: int | None,
        project: str,
        interpolator: Interpolator,
        chain: tuple[tuple[str, str], ...],
        folder: str | None = None,
    ) -> ServiceDef:
        """One compose file's view of one service, with `extends` applied underneath.

        Relative paths resolve against the project folder (the first file's), as compose does
        with several `-f` files; a service extended from another file uses that file's folder.
        """
        if folder is None:
            folder = posixpath.dirname(project)
        service = ServiceDef(name=name, project=project, path=path, line=line, files=[path])
        service.raw = dict(body)
        base_folder = folder

        def rel(value: str) -> str | None:
            return inside(posixpath.join(base_folder, value) if base_folder else value)

        context = KeyContext(
            doc=doc,
            body=body,
            path=path,
            rel=rel,
            is_dir=self.tree.is_dir,
            file_exists=lambda p: p in self.tree.all_files,
            env_file=self.env_file,
            problems=self.platform.problems,
        )
        read_service_keys(service, context)
        extends = body.get("extends")
        if extends is not None:
            base = self._extends(
                service, extends, doc, path, doc.line(body, "extends"), project, interpolator, chain
            )
            if base is not None:
                merge_service(base, service)
                base.name, base.path, base.line, base.files = name, path, line, [path]
                base.raw = service.raw
                return base
        return service

    def _extends(
        self,
        service: ServiceDef,
        extends: Any,
        doc: YamlDoc,
        path: str,
        line: int | None,
        project: str,
        interpolator: Interpolator,
        chain: tuple[tuple[str, str], ...],
    ) -> ServiceDef | None:
        if isinstance(extends, str):
            base_name, base_file = extends, path
        elif isinstance(extends, dict) and "service" in extends:
            base_name = str(extends["service"])
            file_value = extends.get("file")
            base_file = path
            if isinstance(file_value, str):
                folder = posixpath.dirname(path)
                resolved = inside(posixpath.join(folder, file_value))
                if resolved is None or resolved not in self.tree.all_files:
                    self.problem(path, line, f"extends names missing file {file_value!r}")
                    return None
                base_file = resolved
        else:
            self.problem(path, line, "extends needs a `service`")
            return None
        key = (base_file, base_name)
        if key in chain:
            self.problem(path, line, f"extends loops back to {base_name!r}")
            return None
        base_doc = (
            doc
            if base_file == path
            else self._compose_doc(base_file, Interpolator(interpolator.values))[0]
        )
        if base_doc is None or not isinstance(base_doc.data, dict):
            return None
        services = base_doc.data.get("services")
        body = services.get(base_name) if isinstance(services, dict) else None
        if not isinstance(body, dict):
            self.problem(path, line, f"extends names unknown service {base_name!r}")
            return None
        return self._service_part(
            base_name,
            body,
            base_doc,
            base_file,
            base_doc.line(services, base_name),
            project,
            interpolator,
            (*chain, (path, service.name)),
            None if base_file == path else posixpath.dirname(base_file),
        )


def merge_service(base: ServiceDef, over: ServiceDef) -> None:
    """Apply a later compose file's (or an extending service's) view over `base`."""
    for attr in ("image", "container_name", "hostname", "command", "entrypoint", "healthcheck"):
        value = getattr(over, attr)
        if value is not None:
            setattr(base, attr, value)
    over_build = over.raw.get("build")
    if (
        isinstance(over_build, dict)
        and "context" not in over_build
        and base.build_context is not None
    ):
        # A later file adjusting `build` (args, a dockerfile) keeps the base's context.
        if "dockerfile" in over_build:
            base.dockerfile_path = posixpath.normpath(
                posixpath.join(base.build_context, str(over_build["dockerfile"]))
            )
            base.dockerfile_where = over.dockerfile_where
    elif over.build_context is not None or over.build_where is not None:
        base.build_context = over.build_context
        base.build_context_exists = over.build_context_exists
        base.build_where = over.build_where
        base.dockerfile_path = over.dockerfile_path
        base.dockerfile_where = over.dockerfile_where
    if over.profiles:
        base.profiles = over.profiles
    base.env.update(over.env)
    base.env_files.extend(over.env_files)
    base.documented_env |= over.documented_env
    seen_ports = {(p.host_ip, p.host, p.container, p.protocol) for p in base.ports}
    base.ports.extend(
        p for p in over.ports if (p.host_ip, p.host, p.container, p.protocol) not in seen_ports
    )
    seen_expose = {(p.port, p.protocol) for p in base.expose}
    base.expose.extend(p for p in over.expose if (p.port, p.protocol) not in seen_expose)
    known = {d.name: i for i, d in enumerate(base.depends_on)}
    for dep in over.depends_on:
        if dep.name in known:
            base.depends_on[known[dep.name]] = dep
        else:
            base.depends_on.append(dep)
    targets = {v.target: i for i, v in enumerate(base.volumes)}
    for volume in over.volumes:
        if volume.target in targets:
            base.volumes[targets[volume.target]] = volume
        else:
            base.volumes.append(volume)
    base.networks.extend(n for n in over.networks if n not in base.networks)
    base.aliases.extend(a for a in over.aliases if a not in base.aliases)
    for path in over.files:
        if path not in base.files:
            base.files.append(path)
    base.raw = _deep_merge(base.raw, over.raw)


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result
