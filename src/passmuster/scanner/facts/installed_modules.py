"""Find a module's source and the names it defines, without importing or running anything.

`importlib.util.find_spec("a.b")` imports package `a` to read its `__path__`, which would run
scanned or installed code. So the top-level name is looked up with
`importlib.machinery.PathFinder.find_spec` (the `find_spec` of the sys.path finder: it reads
directories and executes nothing, and ignores what this process has already imported), and each
further part the same way inside the parent's search locations.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.metadata
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from passmuster.scanner.context.pysource import ModuleFacts


@dataclass(frozen=True, slots=True)
class ModuleSource:
    """Where a module's code lives: its file (None for namespace packages and extensions) and,
    for a package, the folders its submodules come from."""

    name: str
    origin: Path | None
    search_locations: tuple[Path, ...]

    @property
    def is_package(self) -> bool:
        return bool(self.search_locations)


def _spec_source(name: str, spec: importlib.machinery.ModuleSpec | None) -> ModuleSource | None:
    if spec is None:
        return None
    origin = Path(spec.origin) if spec.origin and spec.has_location else None
    locations = tuple(Path(p) for p in (spec.submodule_search_locations or ()))
    return ModuleSource(name, origin, locations)


@cache
def installed_module(dotted: str) -> ModuleSource | None:
    """The module `dotted` as installed where passmuster runs, or None if it is not."""
    parts = dotted.split(".")
    try:
        # PathFinder searches sys.path only: what is already imported in this process (or
        # replaced in sys.modules) cannot change the answer.
        top = _spec_source(parts[0], importlib.machinery.PathFinder.find_spec(parts[0]))
    except (ImportError, ValueError):
        return None
    current = top
    for index in range(1, len(parts)):
        if current is None or not current.is_package:
            return None
        fullname = ".".join(parts[: index + 1])
        spec = importlib.machinery.PathFinder.find_spec(
            fullname, [str(p) for p in current.search_locations]
        )
        current = _spec_source(fullname, spec)
    return current


def has_submodule(module: ModuleSource, name: str) -> bool:
    return _has_submodule(module.search_locations, name)


@cache
def _has_submodule(locations: tuple[Path, ...], name: str) -> bool:
    for location in locations:
        if (location / f"{name}.py").is_file() or (location / name / "__init__.py").is_file():
            return True
        if (location / name).is_dir():
            return True
        if any(location.glob(f"{name}.*.so")) or any(location.glob(f"{name}.*.pyd")):
            return True
    return False


@cache
def _names_in_file(path: Path) -> frozenset[str] | None:
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    return ModuleFacts(tree, text).defined


def names_of(module: ModuleSource) -> frozenset[str] | None:
    """The names `from module import X` can find at top level, or None when unknowable
    (extension modules, star imports, module `__getattr__`, names made at run time)."""
    if module.origin is None:
        return frozenset() if module.is_package else None
    if module.origin.suffix != ".py":
        return None
    return _names_in_file(module.origin)


def provides(module: ModuleSource, name: str) -> bool | None:
    """Whether `from module import name` works: True, False, or None when it cannot be told."""
    if module.is_package and has_submodule(module, name):
        return True
    names = names_of(module)
    if names is None:
        return None
    if name in names:
        return True
    if module.origin is None and not module.is_package:
        return None
    return False


@cache
def distribution_version(top_level_module: str) -> tuple[str, str] | None:
    """(distribution name, installed version) providing a top-level module, read from
    metadata only."""
    dists = _packages_distributions().get(top_level_module)
    if not dists:
        return None
    try:
        return dists[0], importlib.metadata.version(dists[0])
    except importlib.metadata.PackageNotFoundError:
        return None


@cache
def _packages_distributions() -> dict[str, list[str]]:
    """Top-level module -> distributions, read once: it walks every installed package's
    metadata (seconds in a large environment)."""
    return dict(importlib.metadata.packages_distributions())


def is_stdlib(top_level_module: str) -> bool:
    return top_level_module in sys.stdlib_module_names


def running_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"
