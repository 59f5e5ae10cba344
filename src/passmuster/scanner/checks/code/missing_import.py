from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from passmuster.core.findings import Edit, Finding, Fix, Fixit
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, PythonFile, ServiceDef
from passmuster.scanner.context.pysource import FromImport, ImportedName
from passmuster.scanner.facts import installed_modules as modules
from passmuster.scanner.facts.code import import_roots, owned_python_files
from passmuster.scanner.facts.local_modules import local_modules
from passmuster.scanner.facts.paths import is_test_file
from passmuster.scanner.facts.tables import table
from passmuster.scanner.facts.versions import LATEST, likely_version
from passmuster.scanner.rule import Rule, reported_once


def _known_bad() -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["module"], e["name"]): e for e in table("known_bad_imports")["import"]}


class MissingImportName(Rule):
    """## What it does
    Flags `from X import Y` where module `X` has no `Y`. Checked, in order, against:

    1. the service's own modules (`from app.models import User`, `from .deps import …`);
    2. `X` as installed where passmuster runs, located on `sys.path` with the path finder's
       `find_spec` and read with `ast`: never imported, and submodules are found by path, so
       no package `__init__` runs (`importlib.util.find_spec("a.b")` would import `a`).
       Skipped when the service pins a different major version of the package, or for a
       standard-library module when the service's image runs another Python than passmuster;
    3. the table of known-bad imports shipped with passmuster
       (`passmuster/scanner/data/known_bad_imports.toml`);

    and otherwise skipped. Modules that make names at run time (star imports, module
    `__getattr__`, `globals()` updates) are never judged. Imports under
    `try/except ImportError` or `if TYPE_CHECKING:` are deliberate and left alone.

    ## Why is this bad?
    The service crashes at import with `ImportError: cannot import name 'HTTPStatus' from
    'fastapi'`, before serving anything (seed log: 15+ services down at once).

    ## Example
    ```python
    from fastapi import FastAPI, Depends, HTTPStatus, Query
    ```

    ## How to fix
    Import the name from where it lives:
    ```python
    from fastapi import FastAPI, Depends, Query
    from http import HTTPStatus
    ```
    `passmuster scan --fix` makes this change for the imports the table marks as safe to
    rewrite (`HTTPStatus` from `fastapi` or `starlette`), keeping the other names.
    """

    code = "CODE001"
    name = "missing-import-name"
    severity = Severity.CRITICAL
    fix = Fix.SAFE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        bad = _known_bad()
        self._local_cache = {}
        # Keyed by project and name: nested compose projects of one repository often name
        # their services alike (`api-gateway` at the root and in `v2/`), with other code.
        settings: dict[tuple[str, str], tuple[tuple[str, ...], str | None]] = {}
        for service, source in owned_python_files(platform):
            key = (service.project, service.name)
            if key not in settings:
                settings[key] = (import_roots(service), service.python_version)
            roots, python = settings[key]
            module = source.facts
            if module is None or is_test_file(source.path):
                continue  # tests import what the test run installs, not the image
            for statement in module.from_imports:
                if statement.guarded or statement.module == "__future__":
                    continue
                for imported in statement.names:
                    if imported.name == "*":
                        continue
                    verdict = self._judge(
                        platform, service, source, statement, imported, roots, python, bad
                    )
                    if verdict is None:
                        continue
                    entry = bad.get((statement.module, imported.name))
                    fix = None
                    if entry is not None and entry.get("safe-fix") and statement.level == 0:
                        fix = self._fix(source, statement, imported, entry["replacement"])
                    yield self.finding(
                        verdict,
                        source.path,
                        imported.line,
                        column=imported.col + 1,
                        service=service.name,
                        fix=fix,
                        key=f"{'.' * statement.level}{statement.module}:{imported.name}",
                    )

    def _judge(
        self,
        platform: Platform,
        service: ServiceDef,
        source: PythonFile,
        statement: FromImport,
        imported: ImportedName,
        roots: tuple[str, ...],
        python: str | None,
        bad: dict[tuple[str, str], dict[str, Any]],
    ) -> str | None:
        """The finding's message when the name is missing, else None."""
        name = imported.name
        local_index = local_modules(platform)
        if statement.level:
            base = PurePosixPath(source.path).parent
            for _ in range(statement.level - 1):
                base = base.parent
            local = local_index.find(statement.module, (str(base),))
        else:
            local = local_index.find(statement.module, roots)
        if local is not None and local.path is None and not statement.level:
            # A folder without __init__.py (a service's alembic/ migrations) is a namespace
            # package: any regular package of that name on sys.path wins over it.
            top = statement.module.split(".", 1)[0]
            if modules.installed_module(top) is not None or service.has_package(top):
                local = None
        if (
            local is not None
            and local.path is not None
            and not statement.level
            and _tool_script_folder(platform, statement.module, local.path)
        ):
            local = None
        if local is not None:
            if local_index.provides(local, name) is not False:
                return None
            where = "." * statement.level + statement.module
            return (
                f"cannot import name {name!r} from {where!r} (checked against the service's code)"
            )
        if statement.level:
            return None
        top = statement.module.split(".", 1)[0]
        if top in self._local_names(service):
            return None  # the service has code by that name where we could not place it
        entry = bad.get((statement.module, name))
        installed = modules.installed_module(statement.module)
        if installed is not None and self._comparable(service, top, python):
            dist = modules.distribution_version(top)
            found = self._verdict(
                installed,
                name,
                statement,
                f"{dist[0]} {dist[1]} as installed here" if dist else "the installed module",
            )
            if found is not None:
                return found + (f"; {entry['message']}" if entry else "")
            if modules.provides(installed, name) is not None:
                return None
        if entry is not None and self._entry_applies(service, entry, top):
            return f"{statement.module} has no {name}: {entry['message']}"
        return None

    _local_cache: dict[tuple[str, ...], frozenset[str]]

    def _local_names(self, service: ServiceDef) -> frozenset[str]:
        """Module and package names the service's own files could be imported as."""
        key = tuple(service.python_files)
        names = self._local_cache.get(key)
        if names is None:
            found: set[str] = set()
            for path in service.python_files:
                parts = PurePosixPath(path).parts
                found.update(parts[:-1])
                found.add(PurePosixPath(path).stem)
            names = frozenset(found)
            self._local_cache[key] = names
        return names

    @staticmethod
    def _verdict(
        module: modules.ModuleSource, name: str, statement: FromImport, against: str
    ) -> str | None:
        if modules.provides(module, name) is not False:
            return None
        where = "." * statement.level + statement.module
        return f"cannot import name {name!r} from {where!r} (checked against {against})"

    @staticmethod
    def _comparable(service: ServiceDef, top: str, python: str | None) -> bool:
        """Whether the installed copy of a module says anything about the service's copy."""
        if modules.is_stdlib(top):
            return python is None or python == modules.running_python()
        dist = modules.distribution_version(top)
        if dist is None:
            return True
        req = service.requirement(dist[0])
        locked = service.locked_versions.get(canonicalize_name(dist[0]))
        if req is None and locked is not None:
            try:
                return Version(locked).major == Version(dist[1]).major
            except InvalidVersion:
                return False
        if req is None or not req.specifier:
            return True
        try:
            wanted = likely_version(SpecifierSet(req.specifier))
        except InvalidSpecifier:
            return False
        return wanted is None or wanted.major == Version(dist[1]).major

    @staticmethod
    def _entry_applies(service: ServiceDef, entry: dict[str, Any], top: str) -> bool:
        versions = entry.get("versions")
        if not versions:
            return True
        package = entry.get("package", top)
        req = service.requirement(package)
        locked = service.locked_versions.get(canonicalize_name(package))
        if req is None and locked is not None:
            # Not listed where pip reads, but pinned by the lock file the installer follows
            # (a poetry project's pydantic, brought in by fastapi).
            try:
                return Version(locked) in SpecifierSet(versions)
            except InvalidVersion:
                return False
        try:
            # Not listed, or not capped: pip installs the newest release.
            wanted = likely_version(SpecifierSet(req.specifier)) if req is not None else LATEST
        except InvalidSpecifier:
            return False
        return wanted is not None and wanted in SpecifierSet(versions)

    @staticmethod
    def _fix(
        source: PythonFile, statement: FromImport, imported: ImportedName, replacement: str
    ) -> Fixit | None:
        lines = source.lines
        start, end = statement.line, statement.end_line
        if end > len(lines):
            return None
        before = lines[start - 1][: statement.col]
        after = lines[end - 1][statement.end_col :]
        if before.strip() or after.strip():
            return None  # shares its line with other code: leave it to a human
        indent = before
        moved = imported.name + (f" as {imported.alias}" if imported.alias else "")
        kept = [
            n.name + (f" as {n.alias}" if n.alias else "")
            for n in statement.names
            if n is not imported
        ]
        new = [f"{indent}from {replacement} import {moved}"]
        if kept:
            new.insert(0, f"{indent}from {statement.module} import {', '.join(kept)}")
        original = "\n".join(lines[start - 1 : end])
        return Fixit(
            f"Import {imported.name} from {replacement}",
            (Edit(source.path, start, end, "\n".join(new), expected=original),),
            Fix.SAFE,
        )


def _tool_script_folder(platform: Platform, module: str, init_path: str) -> bool:
    """Whether the local package `module` is an Alembic script directory named `alembic`
    (`alembic/__init__.py` beside `env.py`): the alembic command loads env.py and the
    revisions by path, with its own installed package already imported, so there
    `from alembic import context, op` is the tool's, not this folder."""
    if module.split(".", 1)[0] != "alembic" or not init_path.endswith("alembic/__init__.py"):
        return False
    folder = init_path.rsplit("/", 1)[0]
    return f"{folder}/env.py" in platform.python
