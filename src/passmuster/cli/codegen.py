"""Generate src/passmuster/core/_dataclass_code.py: `python -m passmuster.cli.codegen`.

The file holds the source of the methods `@dataclass` writes for the classes of the modules the
frequent commands import (see core/_dataclass.py), as written by the Python running this. A
test compares the file with this output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from passmuster.core._dataclass import PRECOMPILED, module_source

TARGET = Path(__file__).resolve().parents[1] / "core" / "_dataclass_code.py"

# Imports the modules in a fresh interpreter, so that every class is decorated, and records
# the source of each method written meanwhile.
_RECORD = """
import importlib, json, sys
from passmuster.core import _dataclass
_dataclass.recorded = []
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(_dataclass.recorded))
"""


def dataclass_code() -> str:
    """The text core/_dataclass_code.py should hold."""
    source = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", _RECORD, *PRECOMPILED],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": source, "PATH": "/usr/bin:/bin"},
    )
    sources: list[str] = json.loads(done.stdout)
    return module_source(sources)


if __name__ == "__main__":
    TARGET.write_text(dataclass_code(), encoding="utf-8")
    print(f"wrote {TARGET}")
