"""passmuster: a coordination desk for multi-service platforms.

The public Python API is small: `Desk` opens a desk and does everything the CLI does. It is
loaded lazily so that importing `passmuster` (and running `passmuster --help`) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Desk", "IssueDraft", "PassmusterError", "__version__"]

if TYPE_CHECKING:
    from passmuster.core.issues import IssueDraft
    from passmuster.errors import PassmusterError
    from passmuster.usecases.desk import Desk


def __getattr__(name: str) -> Any:
    if name == "Desk":
        from passmuster.usecases.desk import Desk

        return Desk
    if name == "IssueDraft":
        from passmuster.core.issues import IssueDraft

        return IssueDraft
    if name == "PassmusterError":
        from passmuster.errors import PassmusterError

        return PassmusterError
    raise AttributeError(f"module 'passmuster' has no attribute {name!r}")
