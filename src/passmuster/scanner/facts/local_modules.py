"""A platform's own Python modules, resolved from the files the scan already read."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from passmuster.scanner.context.model import Platform


@dataclass(frozen=True, slots=True)
class LocalModule:
    folder: str  # the module's folder for a package, else ""
    path: str | None  # its source file (None for a namespace package)

    @property
    def is_package(self) -> bool:
        return bool(self.folder)


class LocalModules:
    """Find `a.b` under a folder of the platform and what names it defines."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.paths = set(platform.python)
        self.dirs: set[str] = set()
        for path in self.paths:
            folder = posixpath.dirname(path)
            while folder and folder not in self.dirs:
                self.dirs.add(folder)
                folder = posixpath.dirname(folder)

    @staticmethod
    def _join(root: str, *parts: str) -> str:
        return (
            posixpath.normpath(posixpath.join(root, *parts))
            if root not in ("", ".")
            else (posixpath.normpath(posixpath.join(*parts)) if parts else ".")
        )

    def find(self, dotted: str, roots: tuple[str, ...]) -> LocalModule | None:
        parts = dotted.split(".") if dotted else []
        for root in roots:
            base = self._join(root, *parts)
            if f"{base}/__init__.py" in self.paths:
                return LocalModule(base, f"{base}/__init__.py")
            if parts and f"{base}.py" in self.paths:
                return LocalModule("", f"{base}.py")
            if base in self.dirs:
                return LocalModule(base, None)
        return None

    def provides(self, module: LocalModule, name: str) -> bool | None:
        """Whether `from module import name` works; None when it cannot be told."""
        if module.is_package and (
            f"{module.folder}/{name}.py" in self.paths or f"{module.folder}/{name}" in self.dirs
        ):
            return True
        if module.path is None:
            return False
        source = self.platform.python.get(module.path)
        found = source.facts if source is not None else None
        if found is None:
            return None
        defined = found.defined
        if defined is None:
            return None
        return name in defined


def local_modules(platform: Platform) -> LocalModules:
    """The index for this scan's platform, built once."""
    return platform.derived("local-modules", lambda: LocalModules(platform))
