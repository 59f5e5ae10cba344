"""`@dataclass` without compiling, at every start, the methods it writes.

`dataclasses.dataclass` writes the source of each class's `__init__`, `__repr__` and `__eq__`
(a frozen class's `__setattr__`, `__delattr__` and `__hash__` too) and compiles it with `exec`
whenever the module defining the class is imported: 48 M of the 56 M instructions of importing
core/issues.py, which every command pays. This `dataclass` is the same decorator, except that
while it runs, dataclasses' `exec` takes the methods compiled ahead in core/_dataclass_code.py
when it holds their source (see core/_ahead.py), so the classes come out the same either way.

The modules whose classes the file holds are `PRECOMPILED` (those the frequent commands
import); `python -m passmuster.cli.codegen` regenerates the file.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

PRECOMPILED = (
    "passmuster.settings",
    "passmuster.core.issues",
    "passmuster.core.sla",
    "passmuster.core.leases",
    "passmuster.core.limits",
    "passmuster.core.transitions",
    "passmuster.core.timeline_sums",
    "passmuster.core.catalog",
)

# The source of every method written while this is a list (the file's generator sets it).
recorded: list[str] | None = None

if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:

    def dataclass(cls: type | None = None, /, **options: Any) -> Any:
        """`dataclasses.dataclass(cls, **options)`, its methods compiled ahead when they can be."""

        def wrap(cls: type) -> type:
            from passmuster.core._ahead import ahead_exec
            from passmuster.core._dataclass_code import FUNCTIONS

            # dataclasses calls `exec` by its global name: shadowed for this one call. Its
            # module has no `__future__` features (flags 0).
            dataclasses.exec = ahead_exec(FUNCTIONS, 0, recorded)
            try:
                return dataclasses.dataclass(**options)(cls)
            finally:
                dataclasses.__dict__.pop("exec", None)

        return wrap if cls is None else wrap(cls)
