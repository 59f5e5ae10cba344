"""The environment of a `python -m passmuster` child process started by a test."""

from __future__ import annotations

import os
from pathlib import Path

import passmuster


def passmuster_env(**settings: str) -> dict[str, str]:
    """A bare environment (PATH and `settings`) in which the child runs the passmuster under
    test (the one this test imported), not whatever the virtualenv has installed: from a second
    checkout they differ, and a desk the one made can be too new for the other."""
    source = str(Path(passmuster.__file__).resolve().parents[1])
    pythonpath = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": pythonpath, **settings}
