"""How built-ins and plugins join a catalogue the same way (rules, failure classifiers).

A catalogue is handed modules: its built-in ones, and those an entry-point group names. From
each it takes the classes the module defines (not those it merely imports) that are named.
What a catalogue then does with them (rules selected by code, classifiers tried in order) is its
own. Loading a plugin is importing it, as loading the built-ins is: no file is read here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from types import ModuleType
from typing import TypeVar

from passmuster.core.issues import Severity

T = TypeVar("T")
KEBAB_CASE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def description_problems(
    name: str, severity: object, docs: str, headings: Sequence[str]
) -> list[str]:
    """What a class that describes itself (a rule, a classifier) gets wrong in the parts they
    share: a kebab-case `name`, a `severity` that is a Severity, and a docstring (`docs`, its
    documentation page) with each of `headings`. Empty when all is there."""
    found: list[str] = []
    if not KEBAB_CASE.match(name):
        found.append(f"name {name!r} is not kebab-case")
    found.extend(f"docstring lacks the heading {h!r}" for h in headings if h not in docs)
    if not isinstance(severity, Severity):
        found.append("severity is not a Severity")
    return found


def defined_in(module: ModuleType, base: type[T], *, named_by: str) -> list[type[T]]:
    """The subclasses of `base` that `module` defines whose `named_by` attribute is set."""
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, base)
        and obj is not base
        and obj.__module__ == module.__name__
        and getattr(obj, named_by)
    ]


def register_defined(
    module: ModuleType, base: type[T], *, named_by: str, register: Callable[[type[T]], object]
) -> list[type[T]]:
    """Hand each class `module` defines (as `defined_in` finds them) to `register`, in the
    module's order; returns them."""
    found = defined_in(module, base, named_by=named_by)
    for cls in found:
        register(cls)
    return found


def entry_point_modules(group: str) -> list[ModuleType]:
    """The modules an entry-point group names (an entry naming a class counts its module)."""
    modules = []
    for entry in entry_points(group=group):
        loaded = entry.load()
        module = loaded if isinstance(loaded, ModuleType) else inspect.getmodule(loaded)
        if module is not None:
            modules.append(module)
    return modules
