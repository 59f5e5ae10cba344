"""Read a platform repository once into a `Platform`.

Finds every compose file (root and subfolders such as infrastructure/compose/), groups a base
file with its overrides into projects, interpolates `${VAR}` from the project's `.env`, resolves
`extends`, and for each service reads its Dockerfile, requirements (through `-r`/`-c`),
pyproject dependencies, env files, command and app code. Committed virtualenvs, node_modules and
site-packages are never read. Problems with a file become `ParseProblem`s; discovery goes on.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec
from packaging.requirements import InvalidRequirement as PackagingInvalid
from packaging.requirements import Requirement as PackagingRequirement
from packaging.utils import canonicalize_name

from passmuster.errors import ParseError
from passmuster.scanner.config import ScanConfig, ServiceOverride
from passmuster.scanner.context.dockerfile import parse_dockerfile
from passmuster.scanner.context.entry import code_port, entry_point, split_command
from passmuster.scanner.context.envfile import parse_env_file
from passmuster.scanner.context.interpolate import Interpolator, TemplateError
from passmuster.scanner.context.model import (
    Command,
    ComposeFile,
    Dependency,
    Dockerfile,
    EntryPoint,
    EnvFile,
    EnvVar,
    HealthCheck,
    ParseProblem,
    Platform,
    PortRef,
    Project,
    PublishedPort,
    PythonFile,
    Requirement,
    ServiceDef,
    Volume,
    Where,
)
from passmuster.scanner.context.requirements import parse_requirements, resolve
from passmuster.scanner.context.yamldoc import YamlDoc, load_yaml

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "site-packages",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".passmuster",
        ".idea",
        ".vscode",
        "dist-packages",
        ".eggs",
    }
)
_COMPOSE = re.compile(r"^(docker-)?compose(\.[\w.-]+)?\.ya?ml$")
_BASE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
_OVERRIDE_NAMES = (
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
)
_REQUIREMENTS = re.compile(r"^(.*requirements.*|constraints.*)\.(txt|in)$", re.IGNORECASE)
_KIND_BY_IMAGE = (
    ("postgres", "database"),
    ("mysql", "database"),
    ("mariadb", "database"),
    ("mongo", "database"),
    ("redis", "cache"),
    ("memcached", "cache"),
    ("valkey", "cache"),
    ("rabbitmq", "broker"),
    ("kafka", "broker"),
    ("nats", "broker"),
    ("traefik", "gateway"),
    ("nginx", "gateway"),
    ("envoy", "gateway"),
    ("caddy", "gateway"),
    ("minio", "storage"),
)
_MAX_RANGE = 1024


@dataclass
class _Tree:
    """The repository's files by kind, found in one walk."""

    compose: list[str] = field(default_factory=list)
    dockerfiles: set[str] = field(default_factory=set)
    requirements: set[str] = field(default_factory=set)
    env_files: set[str] = field(default_factory=set)
    python_by_dir: dict[str, list[str]] = field(default_factory=dict)
    all_files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)


def discover(root: Path, config: ScanConfig | None = None) -> Platform:
    """Parse the platform under `root`. Never raises for a bad scanned file; see `problems`.

    Without `config`, the platform's own passmuster.toml (or [tool.passmuster]) is read.
    """
    root = root.resolve()
    if not root.is_dir():
        raise ParseError(root, None, "not a folder")
    if config is None:
        from passmuster.settings import find_config

        config = ScanConfig.from_project(find_config(root))
    return _Discovery(root, config).run()


class _Discovery:
    def __init__(self, root: Path, config: ScanConfig) -> None:
        self.root = root
        self.config = config
        self.platform = Platform(root=root, options=dict(config.options))
        self.tree = _Tree()
        self._raw_docs: dict[str, YamlDoc | None] = {}
        self._included: set[str] = set()  # compose files pulled in by `include:`
        self._root_text = str(root)
        self._python_index: dict[str, list[str]] | None = None

    # ------------------------------------------------------------------ files

    def run(self) -> Platform:
        self._walk()
        for project in self._projects():
            self._load_project(project)
        self._apply_overrides()
        for service in self.platform.services:
            self._complete(service)
        for path in sorted(self.tree.env_files):
            self._env_file(path)
        for path in sorted(self.tree.requirements):
            self._requirements(path)
        return self.platform

    def _walk(self) -> None:
        excludes = self.config.exclude
        root = str(self.root)
        ignores: list[tuple[str, pathspec.GitIgnoreSpec]] = []
        for folder, dirnames, filenames in os.walk(root):
            rel_dir = os.path.relpath(folder, root).replace(os.sep, "/")
            rel_dir = "" if rel_dir == "." else rel_dir
            if self.config.respect_gitignore and ".gitignore" in filenames:
                spec = self._gitignore(f"{rel_dir}/.gitignore" if rel_dir else ".gitignore")
                if spec is not None:
                    ignores.append((rel_dir, spec))
            kept = []
            for d in sorted(dirnames):
                rel = f"{rel_dir}/{d}" if rel_dir else d
                if d in SKIP_DIRS or d.endswith(".egg-info"):
                    continue
                if os.path.exists(os.path.join(folder, d, "pyvenv.cfg")):
                    continue  # a committed virtualenv under any name
                if _excluded(rel, excludes) or _ignored(rel + "/", ignores):
                    continue
                kept.append(d)
            dirnames[:] = kept
            self.tree.dirs.add(rel_dir or ".")
            for name in sorted(filenames):
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if _excluded(rel, excludes) or _ignored(rel, ignores):
                    continue
                self.tree.all_files.add(rel)
                lower = name.lower()
                if _COMPOSE.match(lower):
                    self.tree.compose.append(rel)
                elif (
                    lower == "dockerfile"
                    or lower.startswith("dockerfile.")
                    or lower.endswith(".dockerfile")
                ):
                    self.tree.dockerfiles.add(rel)
                elif _REQUIREMENTS.match(name):
                    self.tree.requirements.add(rel)
                elif lower == ".env" or lower.startswith(".env.") or lower.endswith(".env"):
                    self.tree.env_files.add(rel)
                elif lower.endswith(".py"):
                    self.tree.python_by_dir.setdefault(rel_dir, []).append(rel)

    def _gitignore(self, path: str) -> pathspec.GitIgnoreSpec | None:
        try:
            lines = (self.root / path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return None
        return pathspec.GitIgnoreSpec.from_lines(lines)

    def text(self, path: str) -> str | None:
        cached = self.platform.texts.get(path)
        if cached is not None:
            return cached
        try:
            with open(os.path.join(self._root_text, path), "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problem(path, None, f"not UTF-8 text: {exc.reason} at byte {exc.start}")
            text = data.decode("utf-8", errors="replace")
        if text.startswith("\ufeff"):
            text = text[1:]
        self.platform.texts[path] = text
        return text

    def exists(self, path: str | None) -> bool:
        if path is None:
            return False
        return path in self.tree.all_files or (self.root / path).exists()

    def is_dir(self, path: str) -> bool:
        return path in self.tree.dirs or (self.root / path).is_dir()

    def inside(self, path: str) -> str | None:
        """`path` normalised and relative to the root, or None when it leaves the root."""
        if path.startswith("/") or path.startswith("~"):
            return None
        norm = posixpath.normpath(path)
        if norm == ".." or norm.startswith("../"):
            return None
        return norm

    def problem(self, path: str, line: int | None, message: str) -> None:
        self.platform.problems.append(ParseProblem(path, line, message))

    # ------------------------------------------------------------------ compose

    def _projects(self) -> list[Project]:
        grouped: list[list[str]] = []
        claimed: set[str] = set()
        for files in self.config.compose:
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
        for _folder, paths in sorted(by_dir.items()):
            names = {posixpath.basename(p): p for p in paths}
            base = next((names[n] for n in _BASE_NAMES if n in names), None)
            overrides = [names[n] for n in _OVERRIDE_NAMES if n in names]
            rest = [p for p in paths if p != base and p not in overrides]
            if base is not None:
                group = [base, *overrides]
                base_services = self._service_names(base) if rest else set()
                for other in rest:
                    if self._looks_like_override(other, base_services):
                        group.append(other)
                    else:
                        grouped.append([other])
                grouped.append(group)
            else:
                grouped.extend([p] for p in [*overrides, *rest])
        grouped = self._with_includes(grouped)
        grouped.sort(key=lambda g: g[0])
        return [Project(files[0], files) for files in grouped]

    def _with_includes(self, grouped: list[list[str]]) -> list[list[str]]:
        """Files named by a top-level `include:` run with the file that includes them."""
        includes: dict[str, list[str]] = {}
        for group in grouped:
            for path in group:
                text = self.text(path) or ""
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
                resolved = self.inside(posixpath.join(posixpath.dirname(path), name))
                if resolved is not None and resolved in self.tree.all_files:
                    targets.append(resolved)
                else:
                    line = doc.line(doc.data, "include") if doc else None
                    self.problem(path, line, f"include names missing file {name!r}")
        return targets

    def _service_names(self, path: str) -> set[str]:
        doc = self._raw_doc(path)
        services = doc.data.get("services") if doc and isinstance(doc.data, dict) else None
        return set(services) if isinstance(services, dict) else set()

    def _looks_like_override(self, path: str, base_services: set[str]) -> bool:
        """A partial file whose services all exist in the base and none builds or pulls."""
        doc = self._raw_doc(path)
        services = doc.data.get("services") if doc and isinstance(doc.data, dict) else None
        if not isinstance(services, dict) or not services:
            return False
        return all(
            name in base_services
            and isinstance(body, dict)
            and "image" not in body
            and "build" not in body
            for name, body in services.items()
        )

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
        text = self.text(path)
        if text is None:
            return None, compose_file
        problems: list[ParseProblem] = []

        def transform(value: str, line: int) -> str:
            if interpolator is None or "$" not in value:
                return value
            before = len(interpolator.uses)
            try:
                result = interpolator(value)
            except TemplateError as exc:
                problems.append(ParseProblem(path, line, str(exc)))
                result = value
            for use in interpolator.uses[before:]:
                compose_file.variables.append((use, line))
            return result

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

    def _load_project(self, project: Project) -> None:
        folder = posixpath.dirname(project.files[0])
        env_path = None
        for candidate in (".env", ".env.example"):
            path = posixpath.join(folder, candidate) if folder else candidate
            if path in self.tree.all_files:
                env_path = path
                break
        values: dict[str, str] = {}
        if env_path is not None:
            values = self._env_file(env_path).resolved()
        self.platform.projects.append(project)
        merged: dict[str, ServiceDef] = {}
        for path in project.files:
            # An included file keeps its own folder for relative paths, as compose does.
            own_folder = posixpath.dirname(path) if path in self._included else None
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
                    _merge(merged[name], part)
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

        def at(key: str, container: Any = body) -> int | None:
            return doc.line(container, key)

        def rel(value: str) -> str | None:
            return self.inside(posixpath.join(folder, value) if folder else value)

        if isinstance(body.get("image"), str):
            service.image = body["image"]
        build = body.get("build")
        if build is not None:
            context = "."
            dockerfile = "Dockerfile"
            dockerfile_line = at("build")
            if isinstance(build, str):
                context = build
            elif isinstance(build, dict):
                context = str(build.get("context", "."))
                if "dockerfile" in build:
                    dockerfile = str(build["dockerfile"])
                    dockerfile_line = doc.line(build, "dockerfile")
            if "://" in context or context.startswith("git@"):
                service.build_context = None  # a remote build: nothing to read here
            else:
                resolved = rel(context)
                service.build_context = resolved
                service.build_where = Where(path, at("build"))
                service.build_context_exists = resolved is not None and self.is_dir(resolved)
                if resolved is not None:
                    service.dockerfile_path = posixpath.normpath(
                        posixpath.join(resolved, dockerfile)
                    )
                    service.dockerfile_where = Where(path, dockerfile_line)
        for key in ("container_name", "hostname"):
            if isinstance(body.get(key), str):
                setattr(service, key, body[key])
        profiles = body.get("profiles")
        if isinstance(profiles, list):
            service.profiles = tuple(str(p) for p in profiles)
        for key, origin in (("command", "compose-command"), ("entrypoint", "compose-entrypoint")):
            value = body.get(key)
            if value is not None:
                argv, shell = split_command(value)
                raw = value if isinstance(value, str) else " ".join(argv)
                setattr(service, key, Command(argv, raw, path, at(key), origin, shell))
        self._read_env_files(service, body, doc, path, rel)
        environment = body.get("environment")
        if isinstance(environment, dict):
            for key, value in environment.items():
                service.env[str(key)] = EnvVar(
                    str(key),
                    None if value is None else _text(value),
                    path,
                    doc.line(environment, key),
                    "environment",
                )
        elif isinstance(environment, list):
            for index, item in enumerate(environment):
                key, eq, value = str(item).partition("=")
                service.env[key] = EnvVar(
                    key, value if eq else None, path, doc.line(environment, index), "environment"
                )
        ports = body.get("ports")
        if isinstance(ports, list):
            for index, item in enumerate(ports):
                self._ports(service, item, path, doc.line(ports, index) or at("ports"))
        expose = body.get("expose")
        if isinstance(expose, list):
            for index, item in enumerate(expose):
                for port, proto in _port_range(str(item)):
                    service.expose.append(
                        PortRef(port, proto, path, doc.line(expose, index), "compose-expose")
                    )
        depends = body.get("depends_on")
        if isinstance(depends, list):
            for index, item in enumerate(depends):
                service.depends_on.append(Dependency(str(item), path, doc.line(depends, index)))
        elif isinstance(depends, dict):
            for dep, spec in depends.items():
                condition = spec.get("condition") if isinstance(spec, dict) else None
                service.depends_on.append(
                    Dependency(str(dep), path, doc.line(depends, dep), "depends_on", condition)
                )
        links = body.get("links")
        if isinstance(links, list):
            for index, item in enumerate(links):
                target = str(item).split(":", 1)[0]
                service.depends_on.append(Dependency(target, path, doc.line(links, index), "links"))
        health = body.get("healthcheck")
        if isinstance(health, dict):
            if health.get("disable") is True:
                service.healthcheck = HealthCheck(("NONE",), path, at("healthcheck"), "compose")
            elif "test" in health:
                test = health["test"]
                argv = (
                    tuple(str(t) for t in test)
                    if isinstance(test, list)
                    else ("CMD-SHELL", str(test))
                )
                service.healthcheck = HealthCheck(
                    argv, path, doc.line(health, "test") or at("healthcheck"), "compose"
                )
        volumes = body.get("volumes")
        if isinstance(volumes, list):
            for index, item in enumerate(volumes):
                volume = self._volume(item, path, doc.line(volumes, index), rel)
                if volume is not None:
                    service.volumes.append(volume)
        networks = body.get("networks")
        if isinstance(networks, list):
            service.networks = [str(n) for n in networks]
        elif isinstance(networks, dict):
            service.networks = [str(n) for n in networks]
            for spec in networks.values():
                if isinstance(spec, dict) and isinstance(spec.get("aliases"), list):
                    service.aliases.extend(str(a) for a in spec["aliases"])
        extends = body.get("extends")
        if extends is not None:
            base = self._extends(
                service, extends, doc, path, at("extends"), project, interpolator, chain
            )
            if base is not None:
                _merge(base, service)
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
                resolved = self.inside(posixpath.join(folder, file_value))
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

    def _read_env_files(
        self,
        service: ServiceDef,
        body: dict[str, Any],
        doc: YamlDoc,
        path: str,
        rel: Callable[[str], str | None],
    ) -> None:
        value = body.get("env_file")
        if value is None:
            return
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            required = True
            if isinstance(item, dict):
                required = bool(item.get("required", True))
                item = item.get("path")
            if not isinstance(item, str):
                continue
            line = doc.line(items, index) if isinstance(value, list) else doc.line(body, "env_file")
            resolved = rel(item)
            exists = resolved is not None and resolved in self.tree.all_files
            service.env_files.append((resolved or item, Where(path, line), exists or not required))
            if exists and resolved is not None:
                env_file = self._env_file(resolved)
                values = env_file.resolved()
                for entry in env_file.entries:
                    service.env[entry.key] = EnvVar(
                        entry.key, values[entry.key], resolved, entry.line, "env_file"
                    )

    def _ports(self, service: ServiceDef, item: Any, path: str, line: int | None) -> None:
        if isinstance(item, dict):
            target = item.get("target")
            published = item.get("published")
            protocol = str(item.get("protocol", "tcp")).lower()
            host_ip = item.get("host_ip")
            containers = _port_range(str(target)) if target is not None else []
            hosts = _port_range(str(published)) if published not in (None, "") else []
            raw = f"{published or ''}:{target}/{protocol}"
        else:
            raw = str(item)
            spec, _, protocol = raw.partition("/")
            protocol = (protocol or "tcp").lower()
            host_ip = None
            if spec.startswith("["):  # [::1]:8080:80
                close = spec.find("]")
                host_ip, spec = spec[1:close], spec[close + 2 :]
            parts = spec.split(":")
            if len(parts) == 3:
                host_ip, host_part, container_part = parts
            elif len(parts) == 2:
                host_part, container_part = parts
            else:
                host_part, container_part = "", parts[0]
            containers = _port_range(container_part)
            hosts = _port_range(host_part) if host_part else []
        if not containers:
            self.problem(path, line, f"cannot read port mapping {raw!r}")
            return
        for index, (container, _) in enumerate(containers):
            host: int | None = None
            if hosts:
                host = hosts[index][0] if len(hosts) == len(containers) else hosts[0][0]
            service.ports.append(
                PublishedPort(
                    container, host, str(host_ip) if host_ip else None, protocol, path, line, raw
                )
            )

    def _volume(
        self, item: Any, path: str, line: int | None, rel: Callable[[str], str | None]
    ) -> Volume | None:
        if isinstance(item, dict):
            kind = str(item.get("type", "volume"))
            source = item.get("source")
            target = str(item.get("target", ""))
            read_only = bool(item.get("read_only", False))
            raw = f"{source or ''}:{target}"
        else:
            raw = str(item)
            parts = raw.split(":")
            if len(parts) == 1:
                return Volume(parts[0], None, "volume", False, path, line, raw)
            source, target = parts[0], parts[1]
            read_only = len(parts) > 2 and "ro" in parts[2].split(",")
            kind = "bind" if source.startswith((".", "/", "~", "$")) else "volume"
        resolved = None
        if kind == "bind" and isinstance(source, str) and not source.startswith(("/", "~")):
            resolved = rel(source)
        return Volume(
            target,
            None if source is None else str(source),
            kind,
            read_only,
            path,
            line,
            raw,
            resolved,
        )

    # ------------------------------------------------------------------ service details

    def _apply_overrides(self) -> None:
        for name, override in self.config.services.items():
            service = self.platform.service(name)
            if service is None:
                service = ServiceDef(
                    name=name,
                    project="passmuster.toml",
                    path="passmuster.toml",
                    line=None,
                    files=["passmuster.toml"],
                )
                self.platform.services.append(service)
            _override(service, override)

    def _complete(self, service: ServiceDef) -> None:
        dockerfile = None
        if service.dockerfile_path and service.dockerfile_path in self.tree.all_files:
            dockerfile = self._dockerfile(service.dockerfile_path)
            service.dockerfile = dockerfile
        if dockerfile is not None and dockerfile.final is not None:
            self._from_dockerfile(service, dockerfile)
        service.entry = entry_point(
            service.command, service.entrypoint, {k: v.value for k, v in service.env.items()}
        )
        code_root = self._code_root(service)
        if code_root is not None:
            service.python_files = self._python_under(code_root)
        self._requirement_roots(service, dockerfile)
        self._pyproject(service)
        self._listens(service, code_root)
        if service.kind == "service":
            service.kind = _kind(service)

    def _from_dockerfile(self, service: ServiceDef, dockerfile: Dockerfile) -> None:
        path = dockerfile.path
        final = dockerfile.final
        assert final is not None
        for instruction in final.instructions:
            if instruction.keyword == "ENV":
                for key, value in _env_pairs(instruction.value):
                    if key not in service.env:
                        service.env[key] = EnvVar(key, value, path, instruction.line, "dockerfile")
            elif instruction.keyword == "EXPOSE":
                for word in instruction.value.split():
                    for port, proto in _port_range(word):
                        service.expose.append(
                            PortRef(port, proto, path, instruction.line, "dockerfile-expose")
                        )
        if service.healthcheck is None:
            health = dockerfile.last("HEALTHCHECK")
            if health is not None:
                value = health.value
                if value.upper().startswith("NONE"):
                    test: tuple[str, ...] = ("NONE",)
                else:
                    cmd = value.split("CMD", 1)[1].strip() if "CMD" in value else value
                    exec_form = _json_list(cmd)
                    test = ("CMD", *exec_form) if exec_form else ("CMD-SHELL", cmd)
                service.healthcheck = HealthCheck(test, path, health.line, "dockerfile")
        for keyword, attr, origin in (
            ("CMD", "command", "dockerfile-cmd"),
            ("ENTRYPOINT", "entrypoint", "dockerfile-entrypoint"),
        ):
            found = dockerfile.last(keyword)
            if getattr(service, attr) is None and found is not None:
                words = found.exec_form()
                argv, shell = split_command(words if words is not None else found.value)
                setattr(service, attr, Command(argv, found.value, path, found.line, origin, shell))

    def _dockerfile(self, path: str) -> Dockerfile:
        cached = self.platform.dockerfiles.get(path)
        if cached is not None:
            return cached
        parsed = parse_dockerfile(self.text(path) or "", path)
        self.platform.dockerfiles[path] = parsed
        self.platform.problems.extend(parsed.problems)
        return parsed

    def _code_root(self, service: ServiceDef) -> str | None:
        override = self.config.services.get(service.name)
        if override is not None and override.app:
            return self.inside(override.app)
        context = service.build_context
        if context is None:
            return None
        if context == "." and service.dockerfile_path and "/" in service.dockerfile_path:
            return posixpath.dirname(service.dockerfile_path)
        return context

    def _python_under(self, folder: str) -> list[str]:
        if self._python_index is None:
            # Each file listed under every folder above it: one pass, then a lookup per service.
            index: dict[str, list[str]] = {}
            for rel_dir, files in self.tree.python_by_dir.items():
                parts = rel_dir.split("/") if rel_dir else []
                for depth in range(len(parts) + 1):
                    key = "/".join(parts[:depth]) or "."
                    index.setdefault(key, []).extend(files)
            self._python_index = index
        found = sorted(self._python_index.get(folder, ()))
        for path in found:
            if path not in self.platform.python:
                self.platform.python[path] = PythonFile(path, self.text(path) or "")
        return found

    def _requirement_roots(self, service: ServiceDef, dockerfile: Dockerfile | None) -> None:
        override = self.config.services.get(service.name)
        roots: list[str] = []
        if override is not None and override.requirements is not None:
            roots = [p for p in (self.inside(r) for r in override.requirements) if p]
        elif service.build_context is not None:
            context = service.build_context
            if dockerfile is not None:
                for install in dockerfile.pip_installs:
                    for file in install.requirement_files:
                        found = _map_copy(dockerfile, install.stage, file, context, self.exists)
                        if found is not None and found not in roots:
                            roots.append(found)
            if not roots:
                candidate = posixpath.normpath(posixpath.join(context, "requirements.txt"))
                if candidate in self.tree.all_files:
                    roots.append(candidate)
        service.requirement_files = roots
        service.requirements, service.constraints = resolve(
            roots, self.platform.requirements_files, self._requirements
        )

    def _requirements(self, path: str) -> None:
        if path in self.platform.requirements_files:
            return
        text = self.text(path)
        if text is None:
            return
        self.platform.requirements_files[path] = parse_requirements(
            text, path, exists=lambda p: p in self.tree.all_files, inside=self.inside
        )

    def _env_file(self, path: str) -> EnvFile:
        cached = self.platform.env_files.get(path)
        if cached is not None:
            return cached
        parsed = parse_env_file(self.text(path) or "", path)
        self.platform.env_files[path] = parsed
        self.platform.problems.extend(parsed.problems)
        return parsed

    def _pyproject(self, service: ServiceDef) -> None:
        root = self._code_root(service)
        if root is None:
            return
        path = "pyproject.toml" if root == "." else f"{root}/pyproject.toml"
        if path not in self.tree.all_files:
            return
        text = self.text(path) or ""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            self.problem(path, _toml_line(str(exc)), f"invalid TOML: {exc}")
            return
        deps = data.get("project", {}).get("dependencies", [])
        lines = text.splitlines()
        for dep in deps if isinstance(deps, list) else []:
            try:
                parsed = PackagingRequirement(str(dep))
            except PackagingInvalid:
                continue
            line = next((i for i, t in enumerate(lines, 1) if str(dep) in t), 1)
            service.pyproject_dependencies.append(
                Requirement(
                    canonicalize_name(parsed.name),
                    str(parsed.specifier),
                    str(dep),
                    path,
                    line,
                    tuple(sorted(parsed.extras)),
                    str(parsed.marker) if parsed.marker else None,
                )
            )

    def _listens(self, service: ServiceDef, code_root: str | None) -> None:
        override = self.config.services.get(service.name)
        if override is not None and override.port is not None:
            service.listens.append(PortRef(override.port, "tcp", "passmuster.toml", None, "config"))
            return
        entry = service.entry
        env = {k: v.value for k, v in service.env.items()}
        if entry is not None and entry.module and code_root is not None:
            module_path = _module_file(entry.module, code_root, service.python_files)
            if module_path is not None:
                service.entry = _with_module_path(entry, module_path)
        entry = service.entry
        if entry is not None and entry.port is not None:
            service.listens.append(PortRef(entry.port, "tcp", entry.path, entry.line, "command"))
            return
        if entry is not None and entry.server not in ("python",) and entry.port_text is None:
            return
        candidates = []
        if entry is not None and entry.module_path:
            candidates.append(entry.module_path)
        candidates.extend(p for p in service.python_files if p not in candidates)
        for path in candidates:
            source = self.platform.python.get(path)
            if source is None or "run(" not in source.text or "port" not in source.text:
                continue
            tree = source.tree
            if tree is None:
                continue
            found = code_port(tree, env)
            if found is not None:
                service.listens.append(PortRef(found[0], "tcp", path, found[1], "code-default"))
                return


# ---------------------------------------------------------------------- helpers


def _ignored(path: str, ignores: list[tuple[str, pathspec.GitIgnoreSpec]]) -> bool:
    """Whether a .gitignore above `path` ignores it (a trailing `/` marks a folder)."""
    for base, spec in ignores:
        if not base:
            if spec.match_file(path):
                return True
        elif path.startswith(base + "/") and spec.match_file(path[len(base) + 1 :]):
            return True
    return False


def _excluded(path: str, patterns: Iterable[str]) -> bool:
    return any(
        fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.rstrip("/") + "/*")
        for pattern in patterns
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _port_range(text: str) -> list[tuple[int, str]]:
    spec, _, proto = text.strip().partition("/")
    proto = (proto or "tcp").lower()
    low, dash, high = spec.partition("-")
    try:
        start = int(low)
        end = int(high) if dash else start
    except ValueError:
        return []
    if not (0 < start <= end < 65536) or end - start > _MAX_RANGE:
        return []
    return [(p, proto) for p in range(start, end + 1)]


def _env_pairs(value: str) -> list[tuple[str, str]]:
    import shlex

    try:
        words = shlex.split(value)
    except ValueError:
        words = value.split()
    if words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]  # legacy `ENV KEY value`
    return [(k, v) for k, _, v in (w.partition("=") for w in words)]


def _json_list(text: str) -> list[str] | None:
    import json

    if not text.startswith("["):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return [str(x) for x in parsed] if isinstance(parsed, list) else None


def _map_copy(
    dockerfile: Dockerfile,
    stage_index: int,
    container_path: str,
    context: str,
    exists: Callable[[str | None], bool],
) -> str | None:
    """The build-context file a `pip install -r <container_path>` reads, via COPY lines."""
    workdir = "/"
    copies: list[tuple[str, list[str], str]] = []
    stage = dockerfile.stages[stage_index]
    for instruction in stage.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = posixpath.join(workdir, instruction.value.strip().strip('"'))
        elif instruction.keyword in ("COPY", "ADD") and not any(
            f.startswith("--from") for f in instruction.flags
        ):
            words = _json_list(instruction.value) or instruction.value.split()
            if len(words) >= 2:
                copies.append((workdir, words[:-1], words[-1]))
    target = posixpath.normpath(posixpath.join(workdir, container_path))
    for copy_workdir, sources, dest in copies:
        dest_abs = posixpath.normpath(posixpath.join(copy_workdir, dest))
        for source in sources:
            source_rel = posixpath.normpath(source)
            candidates = []
            if target == dest_abs and len(sources) == 1:
                candidates.append(source_rel)
            if target == posixpath.join(dest_abs, posixpath.basename(source_rel)):
                candidates.append(source_rel)
            if target.startswith(dest_abs.rstrip("/") + "/"):
                candidates.append(posixpath.join(source_rel, target[len(dest_abs) :].lstrip("/")))
            for candidate in candidates:
                path = posixpath.normpath(posixpath.join(context, candidate))
                if exists(path):
                    return path
    for fallback in (container_path, posixpath.basename(container_path)):
        path = posixpath.normpath(posixpath.join(context, fallback))
        if not path.startswith("..") and exists(path):
            return path
    return None


def _module_file(module: str, root: str, files: list[str]) -> str | None:
    parts = module.split(".")
    prefix = "" if root == "." else root + "/"
    wanted = {
        f"{prefix}{'/'.join(parts)}.py",
        f"{prefix}{'/'.join(parts)}/__init__.py",
        f"{prefix}src/{'/'.join(parts)}.py",
        f"{prefix}src/{'/'.join(parts)}/__init__.py",
    }
    for path in files:
        if path in wanted:
            return path
    return None


def _with_module_path(entry: EntryPoint, module_path: str) -> EntryPoint:
    return dataclasses.replace(entry, module_path=module_path)


def _toml_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _kind(service: ServiceDef) -> str:
    # The pulled image names the kind (postgres, redis …); a built service's base image
    # (python) says nothing about it.
    image = (service.image or "").lower()
    for needle, kind in _KIND_BY_IMAGE:
        if needle in image.rsplit("/", 1)[-1]:
            return kind
    if service.entry is not None and service.entry.server in ("celery", "dramatiq", "rq", "arq"):
        return "worker"
    if "worker" in service.name:
        return "worker"
    if "gateway" in service.name:
        return "gateway"
    return "service"


def _merge(base: ServiceDef, over: ServiceDef) -> None:
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


def _override(service: ServiceDef, override: ServiceOverride) -> None:
    where = Where("passmuster.toml", None)
    for attr in ("kind", "description", "owner", "image"):
        value = getattr(override, attr)
        if value is not None:
            setattr(service, attr, value)
    if override.health is not None:
        service.health_path = override.health
    if override.build is not None:
        service.build_context = posixpath.normpath(override.build)
        service.build_where = where
        service.dockerfile_path = posixpath.join(service.build_context, "Dockerfile")
    if override.dockerfile is not None:
        service.dockerfile_path = posixpath.normpath(override.dockerfile)
        service.dockerfile_where = where
    for dep in override.depends_on:
        if all(d.name != dep for d in service.depends_on):
            service.depends_on.append(Dependency(dep, "passmuster.toml", None))
    for key, value in override.env.items():
        service.env[key] = EnvVar(key, value, "passmuster.toml", None, "config")
