"""The Python code services run, grouped so that code several services share is read once."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

from passmuster.scanner.context.copies import source_in_context, workdir_at
from passmuster.scanner.context.model import Platform, PythonFile, ServiceDef, Stage
from passmuster.scanner.context.pysource import EnvRead, StringConstant
from passmuster.scanner.facts.paths import is_test_file


def code_groups(platform: Platform) -> list[tuple[tuple[str, ...], list[ServiceDef]]]:
    """Services grouped by the exact set of Python files they run (siblings built from one
    context share it), so per-file work is done once per group rather than once per service."""
    return platform.derived("code-groups", lambda: _code_groups(platform))


def _code_groups(platform: Platform) -> list[tuple[tuple[str, ...], list[ServiceDef]]]:
    groups: dict[tuple[str, ...], list[ServiceDef]] = {}
    for service in platform.every_service():
        if service.python_files:
            groups.setdefault(tuple(service.python_files), []).append(service)
    return list(groups.items())


def owned_python_files(platform: Platform) -> Iterator[tuple[ServiceDef, PythonFile]]:
    """Each Python file a service runs, once, with the first service that runs it: a problem
    in shared code is reported once. Files no service's entry module reaches (retired
    modules, scripts beside the code) are left out when every service of the group has a
    known entry module, and so are they in an image that copies every service's code and
    picks its entry at run time (`cd services/$SERVICE_NAME`): their own service does not
    run them, so neither does the bigger image."""
    yield from platform.derived("owned-python-files", lambda: _owned_python_files(platform))


def _owned_python_files(platform: Platform) -> list[tuple[ServiceDef, PythonFile]]:
    owned: list[tuple[ServiceDef, PythonFile]] = []
    seen: set[str] = set()
    groups = [
        (files, members, _running(platform, members)) for files, members in code_groups(platform)
    ]
    retired = {
        path
        for files, _, running in groups
        if running is not None
        for path in files
        if path not in running
    }
    for files, members, running in groups:
        owner = members[0]
        for path in files:
            if path in seen or (path not in running if running is not None else path in retired):
                continue
            seen.add(path)
            source = platform.python.get(path)
            if source is not None:
                owned.append((owner, source))
    return owned


def _running(platform: Platform, members: list[ServiceDef]) -> set[str] | None:
    """The files some member's entry module reaches; None when that cannot be told."""
    running: set[str] = set()
    for member in members:
        reached = reachable_files(platform, member)
        # A framework that loads its code by name (Django's manage.py, settings strings)
        # reaches little statically: judge all the code rather than miss it.
        if reached is None or len(reached) < _MIN_REACHED:
            return None
        running.update(reached)
    return running


_MIN_REACHED = 3


def import_roots(service: ServiceDef) -> tuple[str, ...]:
    """Folders (relative to the platform root) the service imports its own code from."""
    folders: list[str] = []
    if service.build_context is not None:
        folders.append(service.build_context)
    if service.entry is not None and service.entry.module_path and service.entry.module:
        # The folder the server imports the entry module from is on sys.path.
        depth = service.entry.module.count(".") + 1
        folder = PurePosixPath(service.entry.module_path)
        if folder.name == "__init__.py":
            depth += 1
        for _ in range(depth):
            folder = folder.parent
        folders.append(str(folder))
    return tuple(dict.fromkeys(folders))


def reachable_files(platform: Platform, service: ServiceDef) -> list[str] | None:
    """The service's own Python files its entry module imports, directly or through others
    (`from .db import engine`, `import app.tasks`); None when the entry module is unknown.

    This is what the service runs: an API and its Celery worker built from one image share
    files but not entry modules, so each reaches the part of the code it uses. Kept for the
    scan: several rules ask.
    """
    cache: dict[int, list[str] | None] = platform.derived("reachable-files", dict)
    if id(service) not in cache:
        cache[id(service)] = _reachable(platform, service)
    return cache[id(service)]


def _reachable(platform: Platform, service: ServiceDef) -> list[str] | None:
    entry = service.entry
    if entry is None or not entry.module or not service.python_files:
        return None
    files = set(service.python_files)
    roots = import_roots(service)
    starts = [entry.module_path] if entry.module_path else []
    moved = False  # the code is found where the Dockerfile's COPY lines put it
    if not starts:
        modules = [entry.module]
        if entry.server == "celery":
            # `celery -A pkg.tasks.app` names an attribute; `-A pkg` finds pkg.celery.
            modules += [entry.module.rpartition(".")[0], f"{entry.module}.celery"]
        starts = [f for m in modules if m for f in _module_files(m, roots, files)]
        if not starts:
            # `COPY maps-api/app /srv/app` and `uvicorn app.main:app`: the module is where
            # the Dockerfile puts it, not where the context holds it.
            starts = [
                f for m in modules if m and (f := module_in_image(platform, service, m)) in files
            ]
            if not starts and entry.target and entry.target.endswith(".py"):
                # `python /app/run.py`: a script the Dockerfile copied there.
                script = file_in_image(platform, service, entry.target)
                starts = [script] if script is not None and script in files else []
            moved = bool(starts)
    if not starts:
        return None
    in_image: dict[str, str | None] = {}

    def through_copies(module: str) -> list[str]:
        if module not in in_image:
            in_image[module] = module_in_image(platform, service, module)
        found = in_image[module]
        return [found] if found is not None and found in files else []

    seen: list[str] = []
    pending = list(starts)
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.append(path)
        source = platform.python.get(path)
        facts = source.facts if source is not None else None
        if facts is None:
            continue
        package = posixpath.dirname(path)
        for imported in facts.imports:
            if imported.level:
                base = package
                for _ in range(imported.level - 1):
                    base = posixpath.dirname(base)
                bases: tuple[str, ...] = (base,)
            else:
                bases = roots
            for name in (imported.module, *(f"{imported.module}.{n}" for n in imported.names)):
                found = _module_files(name.strip("."), bases, files)
                if not found and not imported.level and moved:
                    found = through_copies(name.strip("."))
                pending.extend(found)
    return seen


def _module_files(module: str, roots: tuple[str, ...], files: set[str]) -> list[str]:
    """The file that is `module` under one of `roots` (a package's `__init__.py`)."""
    found = []
    tail = module.replace(".", "/")
    for root in roots:
        prefix = "" if root in ("", ".") else root + "/"
        for candidate in (f"{prefix}{tail}.py", f"{prefix}{tail}/__init__.py"):
            if candidate in files:
                found.append(candidate)
    return found


def env_reads(platform: Platform, files: list[str], *, import_time: bool) -> list[EnvRead]:
    """The environment reads in `files`; only those that run at import with `import_time`."""
    found: list[EnvRead] = []
    for path in files:
        source = platform.python.get(path)
        facts = source.facts if source is not None else None
        if facts is not None:
            found.extend(r for r in facts.env_reads if r.module_level or not import_time)
    return found


def startup_calls(
    platform: Platform, files: list[str], words: tuple[str, ...] = ()
) -> list[tuple[str, str, int]]:
    """(called name, path, line) of what the service calls while it starts, following each
    call one step into a function of its own code (`init_db()` calling `create_all`).
    `words`: only files whose text has one of them are read (the calls a caller looks for)."""
    functions: dict[str, tuple[str, ...]] = {}
    found: list[tuple[str, str, int]] = []
    for path in files:
        source = platform.python.get(path)
        if source is None or (words and not any(word in source.text for word in words)):
            continue
        facts = source.facts
        if facts is None:
            continue
        functions.update(facts.function_calls)
        found.extend((name, path, line) for name, line in facts.startup_calls)
    followed = [
        (inner, path, line)
        for name, path, line in found
        for inner in functions.get(name.rsplit(".", 1)[-1], ())
    ]
    return found + followed


def reads_setting(platform: Platform, service: ServiceDef, field: str) -> bool:
    """Whether any of the service's code reads settings field `field` (`settings.x`,
    `getattr(settings, "x")`; pydantic matches names case-insensitively). A settings default
    no code reads configures nothing. The code is what the service's entry module reaches
    when that is known: a settings module shared by several images configures each only
    through the code that image runs."""
    name = re.escape(field)
    # A quoted name is `getattr(settings, "x")`, not the `alias="X"` declaring a field.
    pattern = re.compile(rf"\.{name}\b|(?<!alias=)(?<!env=)[\"']{name}[\"']", re.IGNORECASE)
    for path in reachable_files(platform, service) or service.python_files:
        source = platform.python.get(path)
        if source is not None and pattern.search(source.text):
            return True
    return False


def unread_setting(
    platform: Platform, service: ServiceDef, constant: StringConstant, variable: str
) -> bool:
    """Whether `constant` is the default of a setting none of the service's code reads: a
    pydantic settings field, or an attribute of a plain configuration class (`Config.X`,
    `getattr(Config, "X")`, `app.config["X"]`). A class handed to `from_object` (Flask,
    Celery) is also read by the framework and its extensions, which take the keys they know
    (SECRET_KEY, SQLALCHEMY_DATABASE_URI, ...) without any code naming them."""
    if not constant.in_settings:
        return False
    if not constant.class_attribute:
        return not reads_setting(platform, service, constant.field or variable)
    name = constant.field or variable
    escaped = re.escape(name)
    # Quoted, but not as the variable of the read that declares it (`os.getenv("X", ...)`).
    pattern = re.compile(
        rf"\.{escaped}\b|(?<!getenv\()(?<!environ\.get\()(?<!environ\[)[\"']{escaped}[\"']"
    )
    framework = _FRAMEWORK_KEYS.match(name) is not None
    for path in reachable_files(platform, service) or service.python_files:
        source = platform.python.get(path)
        if source is None:
            continue
        if pattern.search(source.text) or (framework and "from_object(" in source.text):
            return False
    return True


# Configuration keys Flask, Celery and their extensions read from `config.from_object(...)`.
_FRAMEWORK_KEYS = re.compile(
    r"(SECRET_KEY|SECURITY_|SQLALCHEMY_|JWT_|MAIL_|SESSION_|CACHE_|REDIS_|CELERY|BROKER_|"
    r"RESULT_|MONGO|RATELIMIT|WTF_|SERVER_NAME|PREFERRED_|UPLOAD_|MAX_CONTENT|BABEL_|CORS_|"
    r"OAUTH|GOOGLE_|GITHUB_|DEBUG|TESTING|ENV$|PROPAGATE|PERMANENT_|JSON|APPLICATION_ROOT)"
)


# `"[::]:50051"`, `port=9100`, `start_http_server(9100)`.
_PORT_NUMBER = re.compile(r"(?:\]:|0\.0\.0\.0:|port\s*=\s*|_server\()([1-9]\d{1,4})\b")


def ports_in_code(platform: Platform, service: ServiceDef) -> set[int]:
    """Port numbers the service's code names (`add_insecure_port("[::]:50051")`,
    `start_http_server(9100)`): a server it starts besides its main one may listen there."""
    found: set[int] = set()
    for source in platform.python_files(service):
        for match in _PORT_NUMBER.finditer(source.text):
            found.add(int(match.group(1)))
    return found


def url_constants(
    platform: Platform, files: Iterable[str]
) -> Iterator[tuple[str, PythonFile, StringConstant]]:
    """(path, file, constant) for each string constant holding a URL (`://`) in these files'
    code; test files are left out."""
    for path in files:
        source = platform.python.get(path)
        if source is None or is_test_file(path) or "://" not in source.text:
            continue
        facts = source.facts
        if facts is None:
            continue
        for constant in facts.strings:
            if "://" in constant.value:
                yield path, source, constant


def module_in_image(platform: Platform, service: ServiceDef, module: str) -> str | None:
    """The repository file that is `module` inside the image: looked up under the working
    directory and the PYTHONPATH folders of the final stage, and mapped back through its COPY
    lines (`COPY services/auth-service /app/services/auth_service`)."""
    final = _final_stage(service)
    if final is None:
        return None
    stage, end = final
    folders = [workdir_at(stage, end)]
    pythonpath = service.env.get("PYTHONPATH")
    if pythonpath is not None and pythonpath.value:
        folders += [p for p in pythonpath.value.split(":") if p.startswith("/")]
    tail = module.replace(".", "/")
    for folder in folders:
        for name in (f"{tail}.py", f"{tail}/__init__.py"):
            found = file_in_image(platform, service, posixpath.join(folder, name))
            if found is not None:
                return found
    return None


def file_in_image(platform: Platform, service: ServiceDef, container_path: str) -> str | None:
    """The repository Python file the final stage's COPY lines put at `container_path`
    (relative paths are the stage's working directory's)."""
    final = _final_stage(service)
    if final is None or service.build_context is None:
        return None
    stage, end = final
    files = set(service.python_files) | set(platform.python)
    return source_in_context(
        stage, end, container_path, service.build_context, lambda p: p in files
    )


def _final_stage(service: ServiceDef) -> tuple[Stage, int] | None:
    """The image's final stage and a line past its end, when it is built from a context."""
    dockerfile = service.dockerfile
    if dockerfile is None or dockerfile.final is None or service.build_context is None:
        return None
    stage = dockerfile.final
    return stage, stage.instructions[-1].line + 1 if stage.instructions else stage.line + 1
