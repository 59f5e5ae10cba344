"""Run benchmarks: `python -m bench` runs every area; `python -m bench tracker logs` runs some.

Each area is a module `bench/<area>.py` with a `main(argv: list[str]) -> None` that prints its
figures (and the peer tool's, measured in the same run, as ratios).
"""

from __future__ import annotations

import importlib
import sys

AREAS = ("tracker", "cli", "logs", "scan", "monitor", "web")


def main(argv: list[str]) -> None:
    wanted = [a for a in argv if not a.startswith("-")] or list(AREAS)
    flags = [a for a in argv if a.startswith("-")]
    unknown = [a for a in wanted if a not in AREAS]
    if unknown:
        sys.exit(f"unknown benchmark area(s): {', '.join(unknown)}; choose from {', '.join(AREAS)}")
    for area in wanted:
        print(f"== {area} ==", flush=True)
        importlib.import_module(f"bench.{area}").main(flags)


if __name__ == "__main__":
    main(sys.argv[1:])
