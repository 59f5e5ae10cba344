"""The built-in failure classifiers, one per module.

`builtin_modules()` imports each so the catalogue registers them the way it registers a plugin's
module.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def builtin_modules() -> list[ModuleType]:
    package = importlib.import_module(__name__)
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name)
        if not info.name.startswith("_")
    ]
