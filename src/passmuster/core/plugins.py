"""How built-ins and plugins join a catalogue the same way (rules, failure classifiers).

A catalogue is handed modules: its built-in ones, and those an entry-point group names. From
each it takes the classes the module defines (not those it merely imports) that are named.
What a catalogue then does with them (rules selected by code, classifiers tried in order) is its
own. Loading a plugin is importing it, as loading the built-ins is: no file is read here.
"""

from __future__ import annotations

import inspect
from importlib.metadata import entry_points
from types import ModuleType
from typing import TypeVar

T = TypeVar("T")


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


def entry_point_modules(group: str) -> list[ModuleType]:
    """The modules an entry-point group names (an entry naming a class counts its module)."""
    modules = []
    for entry in entry_points(group=group):
        loaded = entry.load()
        module = loaded if isinstance(loaded, ModuleType) else inspect.getmodule(loaded)
        if module is not None:
            modules.append(module)
    return modules
