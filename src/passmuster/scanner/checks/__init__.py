"""The built-in rule catalogue: one rule per module, `checks/<family>/<rule>.py`.

`builtin_modules()` imports every such module so the registry can register the rules in it the
same way it registers a plugin's module. The scan's own rules (parse errors, unused suppressions)
live in `passmuster.scanner.meta` and are registered alongside.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def builtin_modules() -> list[ModuleType]:
    """Every built-in rule module, family packages first in name order."""
    modules = [importlib.import_module("passmuster.scanner.meta")]
    package = importlib.import_module(__name__)
    for family in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not family.ispkg or family.name.startswith("_"):
            continue
        family_pkg = importlib.import_module(f"{__name__}.{family.name}")
        for info in sorted(pkgutil.iter_modules(family_pkg.__path__), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            modules.append(importlib.import_module(f"{family_pkg.__name__}.{info.name}"))
    return modules
