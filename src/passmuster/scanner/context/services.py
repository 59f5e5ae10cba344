"""Services completed from what they are built from: Dockerfile, command, code, requirements.

After compose is read, each service gets its Dockerfile's ENV/EXPOSE/HEALTHCHECK/CMD (what
compose does not override), its entry point, its Python files, its requirement files (the ones
its Dockerfile installs, mapped back through COPY lines), its pyproject dependencies, the ports
it listens on and its kind. `[services.<name>]` in passmuster.toml adds what discovery cannot
know, or a service compose does not define.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import shlex
import tomllib
from collections.abc import Callable
from fnmatch import fnmatchcase

from packaging.requirements import InvalidRequirement as PackagingInvalid
from packaging.requirements import Requirement as PackagingRequirement
from packaging.utils import canonicalize_name

from passmuster.scanner.config import ScanConfig, ServiceOverride
from passmuster.scanner.context.commands import (
    QUEUE_WORKERS,
    code_port,
    entry_point,
    instruction_command,
    parse_exec_form,
)
from passmuster.scanner.context.compose_keys import port_range
from passmuster.scanner.context.copies import copies_before, source_in_context, workdir_at
from passmuster.scanner.context.images import OTHER_RUNTIME_IMAGES, image_kind, parse_image
from passmuster.scanner.context.model import (
    Dependency,
    Dockerfile,
    EntryPoint,
    EnvVar,
    HealthCheck,
    Instruction,
    ParseProblem,
    Platform,
    PortRef,
    PythonFile,
    Requirement,
    ServiceDef,
    Where,
)
from passmuster.scanner.context.requirements import resolve
from passmuster.scanner.context.tree import RepositoryTree, inside

# Lock files that pin what a pyproject's installer puts in the image.
_LOCK_FILES = ("poetry.lock", "uv.lock")


class ServiceCompleter:
    """Fills in each service from the files it is built from (see the module docstring)."""

    def __init__(
        self,
        tree: RepositoryTree,
        platform: Platform,
        config: ScanConfig,
        dockerfile: Callable[[str], Dockerfile],
        requirements: Callable[[str], None],
    ) -> None:
        self.tree = tree
        self.platform = platform
        self.config = config
        self.dockerfile = dockerfile  # parse (once) and return a Dockerfile
        self.requirements = requirements  # parse (once) a requirements file into the platform
        self._python_index: dict[str, list[str]] | None = None
        self._lock_files: dict[str, dict[str, str]] = {}

    def apply_overrides(self) -> None:
        """`[services.<name>]`: adjust a discovered service, or add one compose lacks."""
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

    def complete(self, service: ServiceDef) -> None:
        dockerfile = None
        if service.dockerfile_path and service.dockerfile_path in self.tree.all_files:
            dockerfile = self.dockerfile(service.dockerfile_path).up_to(service.build_target)
            service.dockerfile = dockerfile
        if dockerfile is not None and dockerfile.final is not None:
            _from_dockerfile(service, dockerfile)
        service.entry = entry_point(
            service.command, service.entrypoint, {k: v.value for k, v in service.env.items()}
        )
        code_root = self._code_root(service)
        if code_root is not None and not _runs_other_runtime(service):
            service.python_files = self._python_under(code_root)
            if dockerfile is not None and code_root == service.build_context:
                mounted = [v.resolved for v in service.volumes if v.type == "bind" and v.resolved]
                service.python_files = _copied(service.python_files, code_root, dockerfile, mounted)
        self._requirement_roots(service, dockerfile)
        self._pyproject(service)
        self._locked(service)
        self._listens(service, code_root)
        if service.kind == "service":
            service.kind = _kind(service)
        if service.is_database:
            service.init_scripts = self._init_scripts(service)

    def _init_scripts(self, service: ServiceDef) -> list[str] | None:
        """The scripts a database image runs on its first start, read into the platform's
        texts: files bind-mounted or copied into its init folder. None when one of them cannot
        be read (outside the repository, missing, compressed)."""
        sources: list[str | None] = [
            volume.resolved
            for volume in service.volumes
            if volume.type == "bind" and volume.target.rstrip("/").startswith(INIT_FOLDER)
        ]
        if service.dockerfile is not None and service.build_context is not None:
            for instruction in service.dockerfile.all_instructions():
                words = instruction.value.split()
                if (
                    instruction.keyword in ("COPY", "ADD")
                    and len(words) >= 2
                    and words[-1].startswith(INIT_FOLDER)
                    and not any(flag.startswith("--from") for flag in instruction.flags)
                ):
                    context = service.build_context
                    sources.extend(inside(posixpath.join(context, w)) for w in words[:-1])
        scripts: list[str] = []
        for source in sources:
            if source is None:
                return None
            if source in self.tree.all_files:
                files = [source]
            elif self.tree.is_dir(source):
                files = sorted(f for f in self.tree.all_files if f.startswith(source + "/"))
            else:
                return None
            for path in files:
                if not path.endswith((".sql", ".sh")):
                    if path.endswith((".gz", ".xz", ".zst", ".bz2")):
                        return None  # what a compressed dump creates is not read
                    continue
                if self.tree.text(path) is None:
                    return None
                scripts.append(path)
        return scripts

    def _code_root(self, service: ServiceDef) -> str | None:
        override = self.config.services.get(service.name)
        if override is not None and override.app:
            return inside(override.app)
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
                self.platform.python[path] = PythonFile(path, self.tree.text(path) or "")
        return found

    def _requirement_roots(self, service: ServiceDef, dockerfile: Dockerfile | None) -> None:
        override = self.config.services.get(service.name)
        roots: list[str] = []
        if override is not None and override.requirements is not None:
            roots = [p for p in (inside(r) for r in override.requirements) if p]
        elif service.build_context is not None:
            context = service.build_context
            if dockerfile is not None:
                for install in dockerfile.pip_installs:
                    stage = dockerfile.stages[install.stage]
                    for file in install.requirement_files:
                        found = source_in_context(
                            stage, install.line, file, context, self.tree.exists
                        )
                        if found is not None and found not in roots:
                            roots.append(found)
            if not roots:
                candidate = posixpath.normpath(posixpath.join(context, "requirements.txt"))
                if candidate in self.tree.all_files:
                    roots.append(candidate)
        service.requirement_files = roots
        service.requirements, service.constraints = resolve(
            roots, self.platform.requirements_files, self.requirements
        )

    def _pyproject(self, service: ServiceDef) -> None:
        root = self._code_root(service)
        if root is None:
            return
        path = "pyproject.toml" if root == "." else f"{root}/pyproject.toml"
        if path not in self.tree.all_files:
            return
        text = self.tree.text(path) or ""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            self.platform.problems.append(
                ParseProblem(path, _toml_line(str(exc)), f"invalid TOML: {exc}")
            )
            return
        except RecursionError:
            self.platform.problems.append(
                ParseProblem(path, None, "invalid TOML: nested too deeply to read")
            )
            return
        project = data.get("project")
        deps = project.get("dependencies", []) if isinstance(project, dict) else []
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

    def _locked(self, service: ServiceDef) -> None:
        """The versions a lock file beside the service's pyproject pins (`poetry.lock`,
        `uv.lock`): what `poetry install` or `uv sync` puts in the image."""
        root = self._code_root(service)
        if root is None:
            return
        for name in _LOCK_FILES:
            path = name if root == "." else f"{root}/{name}"
            if path in self.tree.all_files:
                service.locked_versions = self._lock_file(path)
                return

    def _lock_file(self, path: str) -> dict[str, str]:
        found = self._lock_files.get(path)
        if found is None:
            found = {}
            text = self.tree.text(path, remember=False) or ""
            try:
                packages = tomllib.loads(text).get("package", [])
            except (tomllib.TOMLDecodeError, RecursionError):
                packages = []  # a broken lock file: the install fails, not this scan's to say
            for package in packages if isinstance(packages, list) else []:
                if not isinstance(package, dict):
                    continue
                name, version = package.get("name"), package.get("version")
                if isinstance(name, str) and isinstance(version, str):
                    found.setdefault(canonicalize_name(name), version)
            self._lock_files[path] = found
        return found

    def _listens(self, service: ServiceDef, code_root: str | None) -> None:
        override = self.config.services.get(service.name)
        if override is not None and override.port is not None:
            service.listens.append(PortRef(override.port, "tcp", "passmuster.toml", None, "config"))
            return
        image_port = _official_image_port(service)
        if image_port is not None:
            service.listens.append(
                PortRef(image_port, "tcp", service.path, service.line, "image-default")
            )
            return
        entry = service.entry
        env = {k: v.value for k, v in service.env.items()}
        if entry is not None and entry.module and code_root is not None:
            module_path = _script_in_image(service, entry)
            if module_path is None:
                module_path = _module_file(entry.module, code_root, service.python_files)
            if (
                module_path is not None
                and _runs_script(entry)
                and module_path.endswith("/__init__.py")
            ):
                module_path = None  # `python app.py` runs a file, never the package app/
            if module_path is not None:
                service.entry = _with_module_path(entry, module_path)
        entry = service.entry
        if entry is not None and entry.port is not None:
            service.listens.append(PortRef(entry.port, "tcp", entry.path, entry.line, "command"))
            return
        if entry is not None and entry.server not in ("python",) and entry.port_text is None:
            return
        if entry is None and not runs_python(service):
            return  # an nginx or node image beside Python files: the files are not its code
        candidates = []
        if entry is not None and entry.module_path:
            candidates.append(entry.module_path)
        script = self.platform.python.get(candidates[0]) if candidates else None
        if not (
            entry is not None
            and _runs_script(entry)
            and script is not None
            and "run(" in script.text
            and "port" in script.text
        ):
            # The script python runs starts the server itself: another module's
            # `if __name__ == "__main__": uvicorn.run(...)` never runs in this container.
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


# The one port an official database image's server listens on, and the variable that moves
# it: `postgres:16` serves 5432 unless PGPORT, a command or a mounted config says otherwise.
_IMAGE_PORTS: dict[str, tuple[int, str | None]] = {
    "postgres": (5432, "PGPORT"),
    "mongo": (27017, None),
    "mariadb": (3306, "MARIADB_TCP_PORT"),
}


def _official_image_port(service: ServiceDef) -> int | None:
    """The port a service running an official database image as shipped listens on; None
    when it is built, given a command or entrypoint, a config file, or an env file the
    repository does not hold."""
    if service.build_context is not None or not service.image:
        return None
    image = parse_image(service.image)
    known = _IMAGE_PORTS.get(image.name) if image.is_official else None
    if known is None or service.command is not None or service.entrypoint is not None:
        return None
    port, variable = known
    if service.environment_unknown or (variable is not None and variable in service.env):
        return None
    if any(v.type == "bind" and "conf" in v.target for v in service.volumes):
        return None  # a mounted postgresql.conf / mongod.conf may set another port
    return port


def _from_dockerfile(service: ServiceDef, dockerfile: Dockerfile) -> None:
    """What the image sets and compose does not override: ENV, EXPOSE, HEALTHCHECK, CMD."""
    path = dockerfile.path
    final = dockerfile.final
    assert final is not None
    for instruction in final.instructions:
        if instruction.keyword == "ENV":
            for key, value in env_pairs(instruction.value):
                if key not in service.env:
                    service.env[key] = EnvVar(key, value, path, instruction.line, "dockerfile")
        elif instruction.keyword == "EXPOSE":
            for word in instruction.value.split():
                for port, proto in port_range(word):
                    service.expose.append(
                        PortRef(port, proto, path, instruction.line, "dockerfile-expose")
                    )
    if service.healthcheck is None:
        health = dockerfile.last("HEALTHCHECK")
        if health is not None:
            service.healthcheck = healthcheck_of(health, path)
    for keyword, attr, origin in (
        ("CMD", "command", "dockerfile-cmd"),
        ("ENTRYPOINT", "entrypoint", "dockerfile-entrypoint"),
    ):
        found = dockerfile.last(keyword)
        if getattr(service, attr) is None and found is not None:
            setattr(service, attr, instruction_command(found, path, origin))


def healthcheck_of(instruction: Instruction, path: str) -> HealthCheck:
    """A Dockerfile `HEALTHCHECK [options] CMD …` (or `NONE`) as a HealthCheck."""
    value = instruction.value
    if value.upper().startswith("NONE"):
        return HealthCheck(("NONE",), path, instruction.line, "dockerfile")
    cmd = value.split("CMD", 1)[1].strip() if "CMD" in value else value
    exec_form = parse_exec_form(cmd)
    test = ("CMD", *exec_form) if exec_form else ("CMD-SHELL", cmd)
    return HealthCheck(test, path, instruction.line, "dockerfile")


def image_healthcheck(service: ServiceDef) -> HealthCheck | None:
    """The final stage's own HEALTHCHECK, whatever compose says."""
    if service.dockerfile is None:
        return None
    found = service.dockerfile.last("HEALTHCHECK")
    return None if found is None else healthcheck_of(found, service.dockerfile.path)


def runs_python(service: ServiceDef) -> bool:
    """Whether the service's image is a Python one, as far as its Dockerfile tells."""
    dockerfile = service.dockerfile
    if dockerfile is None or dockerfile.final is None:
        return True
    name = parse_image(dockerfile.root_base(dockerfile.final)).name
    installs_python = any(
        package.startswith("python")
        for stage in dockerfile.stages
        for package in stage.system_packages
    )
    return name in ("python", "pypy") or installs_python or bool(dockerfile.pip_installs)


def _copied(
    files: list[str], context: str, dockerfile: Dockerfile, mounted: list[str]
) -> list[str]:
    """The files of `files` (under the build context) that the Dockerfile copies into the
    image or compose bind-mounts into the container (root-relative `mounted`). A context
    shared by several services (`context: ./services`, each Dockerfile copying `shared` and
    its own folder) holds every service's code, but each container gets only those. All of
    them when a copy takes the whole context or names a build argument, or when what is
    copied or mounted holds no Python (the code arrives some other way); none when the only
    copies are heredocs.
    """
    sources: set[str] = set()
    for stage in dockerfile.stages:
        for copy in copies_before(stage, 1 << 30):
            sources.update(copy.sources)
    if any(s in (".", "..") or s.startswith("../") or "$" in s for s in sources):
        return files
    if not sources and not mounted:
        # A stub Dockerfile without COPY says nothing; one whose only copies are heredocs
        # (`COPY <<EOF /srv/mock.py`) holds nothing of the context.
        heredocs = any(
            i.keyword in ("COPY", "ADD") and "<<" in i.value for i in dockerfile.all_instructions()
        )
        return [] if heredocs else files
    prefix = "" if context in ("", ".") else context + "/"
    wanted = [prefix + s for s in sources] + [m for m in mounted if m not in ("", ".")]
    if any(m in ("", ".") or context.startswith(m + "/") or m == context for m in mounted):
        return files  # the whole context (or more) is mounted

    def copied(path: str) -> bool:
        return any(path == w or path.startswith(w + "/") or fnmatchcase(path, w) for w in wanted)

    kept = [f for f in files if copied(f)]
    return kept or files


def _runs_other_runtime(service: ServiceDef) -> bool:
    """Whether the image is a web server's or another language's (`FROM nginx`, `FROM node`)
    and installs no Python: the Python files in its build context (a context shared with the
    Python services beside it) are not its code."""
    dockerfile = service.dockerfile
    if dockerfile is None or dockerfile.final is None:
        return False
    name = parse_image(dockerfile.root_base(dockerfile.final)).name
    return name in OTHER_RUNTIME_IMAGES and not runs_python(service)


# The folder official database images run scripts from on their first start.
INIT_FOLDER = "/docker-entrypoint-initdb.d"


def env_pairs(value: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of a Dockerfile `ENV` instruction's value."""
    try:
        words = shlex.split(value)
    except ValueError:
        words = value.split()
    if words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]  # legacy `ENV KEY value`
    return [(k, v) for k, _, v in (w.partition("=") for w in words)]


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


def _runs_script(entry: EntryPoint) -> bool:
    """`python app.py`: the command runs a file, not a module (`python -m app`)."""
    return entry.server == "python" and (entry.target or "").endswith(".py")


def _script_in_image(service: ServiceDef, entry: EntryPoint) -> str | None:
    """The repository file the final stage's COPY lines put where `python app.py` finds its
    script (`COPY ./app/ .` puts app/app.py at /app/app.py)."""
    dockerfile = service.dockerfile
    if (
        not _runs_script(entry)
        or dockerfile is None
        or dockerfile.final is None
        or service.build_context is None
    ):
        return None
    stage = dockerfile.final
    end = stage.instructions[-1].line + 1 if stage.instructions else stage.line + 1
    target = entry.target or ""
    container = target if target.startswith("/") else posixpath.join(workdir_at(stage, end), target)
    files = set(service.python_files)
    return source_in_context(stage, end, container, service.build_context, files.__contains__)


def _with_module_path(entry: EntryPoint, module_path: str) -> EntryPoint:
    return dataclasses.replace(entry, module_path=module_path)


def _toml_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _kind(service: ServiceDef) -> str:
    # The pulled image names the kind (postgres, redis …); a built service's base image
    # (python) says nothing about it.
    kind = image_kind(service.image)
    if kind is not None:
        return kind
    if service.entry is not None and service.entry.server in QUEUE_WORKERS:
        return "worker"
    if "worker" in service.name:
        return "worker"
    if "gateway" in service.name:
        return "gateway"
    return "service"


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
