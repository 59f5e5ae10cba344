"""The parsed platform every rule reads: services and the files they are built from.

Everything here is data, read once by `discover()`; rules never open files themselves. Paths are
relative to the platform root and use `/` (`Platform.abspath` turns one back into a real path).
Every value that came from a file carries that file and 1-based line so findings can point at it.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from passmuster.scanner.context.interpolate import VariableUse

if TYPE_CHECKING:
    from passmuster.scanner.context.pysource import ModuleFacts

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Where:
    """A file and line a value came from."""

    path: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """A scanned file that could not be read; reported as finding PM001 and the scan goes on."""

    path: str
    line: int | None
    message: str


# ---------------------------------------------------------------- env files


@dataclass(frozen=True, slots=True)
class EnvEntry:
    key: str
    value: str
    line: int
    quoted: bool = False
    quote: str = ""  # the quote character used, '' when unquoted


@dataclass(slots=True)
class EnvFile:
    """A `.env`-style file: every entry in order (duplicates kept), plus unreadable lines."""

    path: str
    entries: list[EnvEntry] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)

    def values(self) -> dict[str, str]:
        """The last value of each key, as written."""
        return {entry.key: entry.value for entry in self.entries}

    def resolved(self) -> dict[str, str]:
        """The values as compose reads them: `${VAR}` in an unquoted or double-quoted value is
        replaced from the lines above it; single-quoted values stay literal."""
        from passmuster.scanner.context.interpolate import TemplateError, interpolate

        result: dict[str, str] = {}
        for entry in self.entries:
            value = entry.value
            if entry.quote != "'" and "$" in value:
                # An invalid template is kept as written (compose would refuse the file).
                with contextlib.suppress(TemplateError):
                    value = interpolate(value, result)
            result[entry.key] = value
        return result


# ---------------------------------------------------------------- requirements


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement line, parsed with `packaging` (the grammar pip uses)."""

    name: str  # canonical (PEP 503) name
    specifier: str  # e.g. "==2.0.1" or ">=1,<2"; "" when unpinned
    raw: str
    path: str
    line: int
    extras: tuple[str, ...] = ()
    marker: str | None = None
    url: str | None = None
    via: tuple[str, ...] = ()  # the include chain from the service's root file, outermost first

    @property
    def pinned_version(self) -> str | None:
        """The version when the specifier is exactly `==X` (or `===X`), else None."""
        spec = self.specifier.strip()
        if "," in spec:
            return None
        for op in ("===", "=="):
            if spec.startswith(op) and "*" not in spec:
                return spec[len(op) :].strip()
        return None


@dataclass(frozen=True, slots=True)
class Include:
    """A `-r`/`-c` line (also `-rfile`, `--requirement=file`)."""

    kind: str  # "requirement" or "constraint"
    target: str  # as written
    resolved: str | None  # the included file relative to the root, or None when outside it
    path: str
    line: int
    exists: bool


@dataclass(frozen=True, slots=True)
class InvalidRequirement:
    path: str
    line: int
    text: str
    message: str


@dataclass(slots=True)
class RequirementsFile:
    path: str
    requirements: list[Requirement] = field(default_factory=list)  # this file's own lines
    includes: list[Include] = field(default_factory=list)
    invalid: list[InvalidRequirement] = field(default_factory=list)
    options: list[tuple[int, str]] = field(default_factory=list)  # --index-url etc.


# ---------------------------------------------------------------- Dockerfiles


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY …
    value: str  # continuation lines joined, comments inside removed
    line: int
    end_line: int
    stage: int
    flags: tuple[str, ...] = ()  # --from=builder, --chown=… (for COPY/ADD)

    def exec_form(self) -> list[str] | None:
        """The JSON array of CMD/ENTRYPOINT/RUN in exec form, else None."""
        from passmuster.scanner.context.commands import parse_exec_form

        return parse_exec_form(self.value)


@dataclass(slots=True)
class Stage:
    index: int
    base: str  # FROM image, build args substituted where known
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)
    system_packages: set[str] = field(default_factory=set)  # apt-get/apk/yum/dnf installs


@dataclass(frozen=True, slots=True)
class PipInstall:
    """A `pip install -r X` (or `pip install pkg …`) seen in a RUN instruction."""

    requirement_files: tuple[str, ...]  # paths as written in the container
    packages: tuple[str, ...]
    line: int
    stage: int
    user: bool = False  # `--user`: into the installing user's home (~/.local)


@dataclass(slots=True)
class Dockerfile:
    path: str
    stages: list[Stage] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)
    pip_installs: list[PipInstall] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def final_instructions(self, keyword: str) -> list[Instruction]:
        stage = self.final
        return [i for i in stage.instructions if i.keyword == keyword] if stage else []

    def last(self, keyword: str) -> Instruction | None:
        found = self.final_instructions(keyword)
        return found[-1] if found else None

    def up_to(self, target: str | None) -> Dockerfile:
        """The Dockerfile as `docker build --target` builds it: the named stage is the image,
        later stages play no part. Unchanged when no stage has that name."""
        index = next((s.index for s in self.stages if target and s.name == target), None)
        if index is None or index == len(self.stages) - 1:
            return self
        return dataclasses.replace(
            self,
            stages=self.stages[: index + 1],
            pip_installs=[p for p in self.pip_installs if p.stage <= index],
        )

    def all_instructions(self) -> Iterator[Instruction]:
        for stage in self.stages:
            yield from stage.instructions

    def stage_chain(self, stage: Stage) -> list[Stage]:
        """The stage and the earlier stages it is built FROM (`FROM builder AS final`)."""
        by_name = {s.name: s for s in self.stages if s.name}
        chain = [stage]
        current = stage
        while current.base in by_name and by_name[current.base] not in chain:
            current = by_name[current.base]
            chain.append(current)
        return chain

    def root_base(self, stage: Stage) -> str:
        """The registry image a stage finally rests on (following stage names)."""
        return self.stage_chain(stage)[-1].base


# ---------------------------------------------------------------- Python code


@dataclass(slots=True)
class PythonFile:
    """A Python source file, parsed with `ast` on first use (never imported, never run)."""

    path: str
    text: str
    _tree: ast.Module | None = None
    _error: ParseProblem | None = None
    _parsed: bool = False
    _facts: ModuleFacts | None = None

    @property
    def tree(self) -> ast.Module | None:
        """The syntax tree, or None when the file does not parse (see `error`)."""
        if not self._parsed:
            self._parsed = True
            try:
                tree = ast.parse(self.text, filename=self.path)
            except SyntaxError as exc:
                self._error = ParseProblem(self.path, exc.lineno, f"invalid Python: {exc.msg}")
            except ValueError as exc:  # null bytes
                self._error = ParseProblem(self.path, None, f"invalid Python: {exc}")
            except RecursionError:
                self._error = ParseProblem(self.path, None, "Python nested too deeply to read")
            except MemoryError:  # the parser's stack limit (or memory running out)
                self._error = ParseProblem(
                    self.path, None, "Python too complex to parse in the memory available"
                )
            else:
                deep = _deeper_than(tree, MAX_PYTHON_NESTING)
                if deep is None:
                    self._tree = tree
                else:
                    self._error = ParseProblem(
                        self.path,
                        getattr(deep, "lineno", None),
                        f"Python nested deeper than {MAX_PYTHON_NESTING} levels; not analysed",
                    )
        return self._tree

    @property
    def error(self) -> ParseProblem | None:
        _ = self.tree
        return self._error

    @property
    def facts(self) -> ModuleFacts | None:
        """What the rules ask about this module (see pysource.py), read once; None when the
        file does not parse."""
        if self._facts is None:
            tree = self.tree
            if tree is None:
                return None
            from passmuster.scanner.context.pysource import ModuleFacts

            self._facts = ModuleFacts(tree, self.text)
        return self._facts

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


# Rules walk syntax trees, some by recursion; a tree deeper than this (a generated chain of
# thousands of `+` or `.attr`) would exhaust Python's stack in them. Hand-written code, long
# `elif` chains included, stays far below.
MAX_PYTHON_NESTING = 500


def _deeper_than(tree: ast.AST, limit: int) -> ast.AST | None:
    """A node nested deeper than `limit`, or None; walks without recursion."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    pop, push, node_type = stack.pop, stack.append, ast.AST
    while stack:
        node, depth = pop()
        if depth > limit:
            return node
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, node_type):
                push((value, depth + 1))
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, node_type):
                        push((item, depth + 1))
    return None


# ---------------------------------------------------------------- services


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    value: str | None  # None: declared without a value (passed through from the host)
    path: str
    line: int | None
    origin: str  # "environment", "env_file", "dockerfile", "config"
    template: str | None = None  # as written before interpolation, when it had a `$`


@dataclass(frozen=True, slots=True)
class PublishedPort:
    """A compose `ports:` entry, one per container port (ranges are expanded)."""

    container: int
    host: int | None  # None: an ephemeral host port
    host_ip: str | None
    protocol: str  # "tcp" or "udp"
    path: str
    line: int | None
    raw: str


@dataclass(frozen=True, slots=True)
class PortRef:
    """A port the service exposes or listens on, and where that was said."""

    port: int
    protocol: str
    path: str
    line: int | None
    origin: str  # "compose-expose", "dockerfile-expose", "command", "code-default", "config"


@dataclass(frozen=True, slots=True)
class Dependency:
    name: str
    path: str
    line: int | None
    kind: str = "depends_on"  # or "links"
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class HealthCheck:
    test: tuple[str, ...]  # ("CMD", "curl", …), ("CMD-SHELL", "curl -f …") or ("NONE",)
    path: str
    line: int | None
    origin: str  # "compose" or "dockerfile"

    @property
    def disabled(self) -> bool:
        return bool(self.test) and self.test[0] == "NONE"

    @property
    def command_text(self) -> str:
        if not self.test:
            return ""
        if self.test[0] in ("CMD", "CMD-SHELL"):
            return " ".join(self.test[1:])
        return " ".join(self.test)


@dataclass(frozen=True, slots=True)
class Volume:
    target: str
    source: str | None
    type: str  # "bind", "volume", "tmpfs", "npipe"
    read_only: bool
    path: str
    line: int | None
    raw: str
    resolved: str | None = None  # bind source relative to the root when inside it


@dataclass(frozen=True, slots=True)
class Command:
    argv: tuple[str, ...]
    raw: str
    path: str
    line: int | None
    origin: (
        str  # "compose-command", "compose-entrypoint", "dockerfile-cmd", "dockerfile-entrypoint"
    )
    shell: bool = False


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """How the service starts its app, read from its command (never run)."""

    server: str  # "uvicorn", "gunicorn", "hypercorn", "celery", "python", "flask", "fastapi", …
    target: str | None  # "app.main:app"; for `python x.py` the script path
    module: str | None  # "app.main"
    attribute: str | None  # "app"
    host: str | None
    port: int | None
    port_text: str | None  # as written, e.g. "${PORT}" before lookup
    flags: tuple[str, ...]
    path: str
    line: int | None
    module_path: str | None = None  # the module's file relative to the root, when found
    dev_flags: tuple[str, ...] = ()  # `--reload`, `--debug`, … and "fastapi dev"
    subcommand: str | None = None  # celery's `worker`, `beat`, `flower` …


@dataclass(slots=True)
class ServiceDef:
    """One compose service with everything known about it."""

    name: str
    project: str  # the compose project (set of files run together) it belongs to
    path: str  # the compose file that defines it (first one, when several merge)
    line: int | None
    files: list[str] = field(default_factory=list)  # every compose file contributing to it
    image: str | None = None
    build_context: str | None = None  # relative to the root; "." for the root itself
    build_context_exists: bool = True
    build_where: Where | None = None
    dockerfile_path: str | None = None
    dockerfile_where: Where | None = None
    dockerfile: Dockerfile | None = None
    build_target: str | None = None  # `build.target`: the stage the image is
    container_name: str | None = None
    hostname: str | None = None
    profiles: tuple[str, ...] = ()
    command: Command | None = None
    entrypoint: Command | None = None
    entry: EntryPoint | None = None
    env: dict[str, EnvVar] = field(default_factory=dict)
    env_files: list[tuple[str, Where, bool]] = field(default_factory=list)  # (path, where, exists)
    # Variables an env file kept out of the repository sets, as its committed example
    # (`.env.example` beside a gitignored `.env`) documents them; values unknown.
    documented_env: set[str] = field(default_factory=set)
    ports: list[PublishedPort] = field(default_factory=list)
    expose: list[PortRef] = field(default_factory=list)  # compose expose + Dockerfile EXPOSE
    listens: list[PortRef] = field(default_factory=list)  # from the command or code defaults
    depends_on: list[Dependency] = field(default_factory=list)
    healthcheck: HealthCheck | None = None
    volumes: list[Volume] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    requirement_files: list[str] = field(default_factory=list)  # the service's root files
    requirements: list[Requirement] = field(default_factory=list)  # resolved through -r
    constraints: list[Requirement] = field(default_factory=list)  # resolved through -c
    pyproject_dependencies: list[Requirement] = field(default_factory=list)
    # Versions a lock file beside the pyproject pins (`poetry.lock`, `uv.lock`), by name.
    locked_versions: dict[str, str] = field(default_factory=dict)
    python_files: list[str] = field(default_factory=list)  # app code under the build context
    kind: str = "service"  # service, worker, database, cache, broker, gateway …
    description: str = ""
    owner: str | None = None
    health_path: str | None = None  # e.g. "/healthz" when configured
    # A database's first-start scripts (docker-entrypoint-initdb.d), their texts in
    # `Platform.texts`; None when one could not be read.
    init_scripts: list[str] | None = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # the merged compose mapping
    # Built from a Dockerfile no compose file uses (see unwired.py): no compose facts at all.
    dockerfile_only: bool = False

    @property
    def hostnames(self) -> set[str]:
        """Names other containers can reach this service by."""
        names = {self.name, *self.aliases}
        if self.container_name:
            names.add(self.container_name)
        if self.hostname:
            names.add(self.hostname)
        return names

    @property
    def base_image(self) -> str | None:
        """The image the service runs on: the Dockerfile's final FROM, else `image:`."""
        if self.dockerfile is not None and self.dockerfile.final is not None:
            return self.dockerfile.final.base
        return self.image

    @property
    def python_version(self) -> str | None:
        """The Python its image runs (`3.11` for `python:3.11-slim`), else None (unknown)."""
        from passmuster.scanner.context.images import python_version

        if self.dockerfile is not None and self.dockerfile.final is not None:
            return python_version(self.dockerfile.root_base(self.dockerfile.final))
        return python_version(self.image)

    @property
    def is_database(self) -> bool:
        from passmuster.scanner.context.images import is_database_image

        return self.kind == "database" or is_database_image(self.base_image)

    def container_ports(self) -> set[int]:
        """Every port this service is known to listen on or expose inside its container."""
        return {p.port for p in self.listens} | {p.port for p in self.expose}

    @property
    def environment_unknown(self) -> bool:
        """Whether an env file the service reads is kept out of the repository (a gitignored
        `.env` each developer writes) and no committed example says what it sets: then any
        variable may be set, and what the environment lacks cannot be told. Always so for a
        service no compose file runs (`dockerfile_only`): whatever starts it may set anything."""
        if self.dockerfile_only:
            return True
        return any(not exists for _, _, exists in self.env_files) and not self.documented_env

    def listening_ports(self) -> set[int]:
        return {p.port for p in self.listens}

    def requirement(self, name: str) -> Requirement | None:
        """The requirement naming package `name`: from the requirements files, else from the
        project's pyproject dependencies."""
        canonical = name.lower().replace("_", "-").replace(".", "-")
        for req in (*self.requirements, *self.pyproject_dependencies):
            if req.name == canonical:
                return req
        return None

    def has_package(self, name: str) -> bool:
        canonical = name.lower().replace("_", "-").replace(".", "-")
        return any(r.name == canonical for r in (*self.requirements, *self.pyproject_dependencies))


@dataclass(slots=True)
class ComposeFile:
    path: str
    project: str
    doc_data: Any  # the interpolated document
    variables: list[tuple[VariableUse, int]] = field(default_factory=list)  # (use, line)
    env_file: str | None = None  # the .env file used for interpolation
    service_lines: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Project:
    """Compose files that run together (a base file and its overrides)."""

    name: str
    files: list[str]
    services: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Platform:
    """The whole platform as the rules see it."""

    root: Path
    services: list[ServiceDef] = field(default_factory=list)
    # Python services built from a Dockerfile that no compose file uses (see unwired.py):
    # named after their folder, with no compose project, ports, environment or dependencies.
    # Apart from `services` so that rules about compose facts never see them.
    unwired: list[ServiceDef] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    compose_files: dict[str, ComposeFile] = field(default_factory=dict)
    dockerfiles: dict[str, Dockerfile] = field(default_factory=dict)
    requirements_files: dict[str, RequirementsFile] = field(default_factory=dict)
    env_files: dict[str, EnvFile] = field(default_factory=dict)
    python: dict[str, PythonFile] = field(default_factory=dict)
    # Every Python file of the repository, read or not (where code the services import lives).
    python_paths: frozenset[str] = frozenset()
    texts: dict[str, str] = field(default_factory=dict)  # every file read, by path
    # The repository's documentation (README and other Markdown), read for what it documents.
    documents: dict[str, str] = field(default_factory=dict)
    # Key files, configuration and Python files not in `texts` that hold something shaped like
    # a credential (a PEM private key header, a provider key prefix), read for ENV008 only.
    credential_texts: dict[str, str] = field(default_factory=dict)
    problems: list[ParseProblem] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # [scan] options rules may read
    # Whether a .gitignore ignores a path: files kept out of the repository on purpose.
    gitignored: Callable[[str], bool] = field(default=lambda path: False, repr=False)
    # Git submodules whose folder is empty: cloned without them, their files are elsewhere.
    absent_submodules: frozenset[str] = frozenset()
    # Values several rules derive from this platform, kept for the scan (see `derived`).
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def derived(self, name: str, build: Callable[[], T]) -> T:
        """The value `build()` makes for this platform under `name`, built on first use and
        kept as long as the platform: rules asking the same question share one answer."""
        if name not in self._derived:
            self._derived[name] = build()
        return cast(T, self._derived[name])

    def drop_derived(self) -> None:
        """Forget the derived values (built again on next use). Many hold the platform
        itself: dropped, the platform is no longer in a reference cycle and is freed as soon as
        its last user lets go, without waiting for (and paying) a cyclic GC pass."""
        self._derived.clear()

    def every_service(self) -> list[ServiceDef]:
        """The compose services, then the Python services built from a Dockerfile no compose
        file uses (`unwired`): for rules about a service's code, image and requirements."""
        return [*self.services, *self.unwired]

    def unique_services(self) -> list[ServiceDef]:
        """Each service name once: a name defined by several compose projects counts once
        (the first definition)."""
        return list(self.by_name().values())

    def service(self, name: str) -> ServiceDef | None:
        for service in self.services:
            if service.name == name:
                return service
        return None

    def by_name(self) -> dict[str, ServiceDef]:
        """First definition of each service name (projects may repeat a name)."""
        result: dict[str, ServiceDef] = {}
        for service in self.services:
            result.setdefault(service.name, service)
        return result

    def by_hostname(self) -> dict[str, ServiceDef]:
        result: dict[str, ServiceDef] = {}
        for service in self.services:
            for host in service.hostnames:
                result.setdefault(host, service)
        return result

    def project_services(self, project: str) -> list[ServiceDef]:
        return [s for s in self.services if s.project == project]

    def listening_services(self) -> Iterator[tuple[ServiceDef, set[int]]]:
        """Each service whose server's ports are known, with those ports."""
        for service in self.services:
            if listening := service.listening_ports():
                yield service, listening

    def services_by_project(self) -> Iterator[list[ServiceDef]]:
        """The services of each compose project, one list a project, in the projects' order."""
        for project in self.projects:
            yield self.project_services(project.name)

    def python_files(self, service: ServiceDef) -> list[PythonFile]:
        return [self.python[p] for p in service.python_files if p in self.python]

    def in_absent_submodule(self, path: str) -> bool:
        """Whether `path` lies in a submodule this checkout does not hold."""
        return any(path == sub or path.startswith(sub + "/") for sub in self.absent_submodules)

    def abspath(self, path: str) -> Path:
        return self.root / path

    def lines(self, path: str) -> list[str]:
        text = self.texts.get(path)
        return text.splitlines() if text is not None else []

    def line_text(self, path: str, line: int | None) -> str:
        if line is None:
            return ""
        lines = self.lines(path)
        return lines[line - 1] if 0 < line <= len(lines) else ""
