"""Importing SQLAlchemy for one synchronous command, without what only its asyncio support uses.

SQLAlchemy 2.0 imports `asyncio` and `importlib.metadata` whenever it is imported (its asyncio
layer and its plugin lookup by entry point), and its greenlet bridge when greenlet is installed:
about a sixth of `import sqlalchemy`, and no releases of 2.0 import them lazily or offer a
switch. A hot command is one synchronous process on a sync driver, so while SQLAlchemy and its
SQLite dialect are imported here:

- `asyncio` and `importlib.metadata` are stand-ins (`_Deferred`) that import the real module the
  first time anything reads one of their attributes, so code that does use them still gets them;
- greenlet reads as not installed, which SQLAlchemy supports (greenlet is only needed by
  `sqlalchemy.ext.asyncio`, which passmuster does not use).

Nothing of SQLAlchemy's code is changed. The stand-ins leave `sys.modules` when the import is
done, so every later `import asyncio` (or of one of its submodules) is an ordinary import; only
the references SQLAlchemy's modules took meanwhile stay stand-ins, and they forward to the real
module.

SQLAlchemy also writes functions as source and compiles them with `exec` (the signature-keeping
wrappers of its decorators while it is imported, its visitors' dispatch methods as statements
are first compiled): about a million instructions each. Its `sqlalchemy.util.langhelpers`,
where every such `exec` is, gets an `exec` of its own that takes those functions compiled ahead
from cli/_sqlalchemy_code.py and compiles anything else as `exec` does (passmuster/core/_ahead.py).

The regular expressions a hot command compiles (SQLAlchemy's, click's, tomllib's, ours: about
70, 6% of the command) are made from their code compiled ahead in cli/_regex_code.py instead of
being parsed again by the `re` module's Python code; any other pattern is compiled as usual.

`main()` turns this on only when the process is one hot command (`enable()`); tests and other
embedders that call commands in process import SQLAlchemy and compile patterns as usual.
"""

from __future__ import annotations

import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

_DEFERRED = ("asyncio", "importlib.metadata")
_enabled = False
# The sources SQLAlchemy executes, and the regular expressions compiled after `enable()`, while
# these are lists (cli/codegen.py sets them).
recorded: list[str] | None = None
patterns: list[tuple[str | bytes, int]] | None = None
_LANGHELPERS = "sqlalchemy.util.langhelpers"


def enable() -> None:
    """Import SQLAlchemy the lean way in this process (called by `main()` for a hot command),
    and compile the regular expressions the hot commands use from their code compiled ahead
    (cli/_regex_code.py; see core/_ahead.py): parsing them took 6% of a command."""
    global _enabled
    _enabled = True
    import _sre  # type: ignore[import-not-found]
    from re import _compiler  # type: ignore[attr-defined]

    from passmuster.cli import _regex_code
    from passmuster.core._ahead import ahead_compile

    # Code compiled by another regular expression engine is not used (nor needed to record).
    usable = _regex_code.MAGIC == _sre.MAGIC and sys.version_info[:2] == _regex_code.PYTHON
    if usable or patterns is not None:
        held = _regex_code.PATTERNS if usable else {}
        _compiler.compile = ahead_compile(held, _compiler.compile, patterns)


class _Deferred(ModuleType):
    """A module imported, for real, the first time one of its attributes is read."""

    def __getattr__(self, attribute: str) -> Any:
        import importlib

        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attribute)


def import_sqlalchemy() -> None:
    """Import SQLAlchemy and its SQLite dialect (what every desk imports), the lean way once
    `enable()` was called; a module this process has imported already is left as it is."""
    if not _enabled or "sqlalchemy" in sys.modules:
        return
    stand_ins = {name: _stand_in(name) for name in _DEFERRED if name not in sys.modules}
    hide_greenlet = "greenlet" not in sys.modules
    if hide_greenlet:
        sys.modules["greenlet"] = None  # type: ignore[assignment]  # import raises ImportError
    ahead = _AheadForLanghelpers()
    sys.meta_path.insert(0, ahead)
    try:
        import sqlalchemy
        import sqlalchemy.dialects.sqlite  # noqa: F401
    finally:
        if ahead in sys.meta_path:
            sys.meta_path.remove(ahead)
        if hide_greenlet and sys.modules.get("greenlet", 0) is None:
            del sys.modules["greenlet"]
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if parent and getattr(sys.modules[parent], child, None) is stand_in:
                delattr(sys.modules[parent], child)


class _AheadForLanghelpers:
    """Finds `sqlalchemy.util.langhelpers` as Python would, and gives the module its own `exec`
    before its code runs (its functions look `exec` up in their globals first)."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> ModuleSpec | None:
        if name != _LANGHELPERS:
            return None
        sys.meta_path.remove(self)
        from importlib.util import find_spec

        spec = find_spec(name)
        loader: Any = spec.loader if spec is not None else None
        if spec is None or not hasattr(loader, "exec_module"):
            return spec
        run_module = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            import __future__

            from passmuster.cli._sqlalchemy_code import FUNCTIONS
            from passmuster.core._ahead import ahead_exec

            flags = __future__.annotations.compiler_flag  # what the generated file is compiled with
            module.__dict__["exec"] = ahead_exec(FUNCTIONS, flags, recorded)
            run_module(module)

        loader.exec_module = exec_module
        return spec


def _stand_in(name: str) -> _Deferred:
    module = _Deferred(name)
    # A spec that is not initializing: `import name` takes the module as it is.
    module.__spec__ = ModuleSpec(name, None)
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        # `from importlib import metadata` reads the attribute before sys.modules.
        setattr(sys.modules[parent], child, module)
    return module
