"""Run benchmarks: `python -m bench` runs every area; `python -m bench tracker logs` runs some.

Each area is a module `bench/<area>.py` (`logs-realworld` is `bench/logs_realworld.py`) with a
`main(argv: list[str]) -> None` that prints its figures (and the peer tool's, measured in the
same run, as ratios). Arguments after the areas go to each of them:
`python -m bench realworld --data /path/to/checkouts`.
"""

from __future__ import annotations

import importlib
import sys

AREAS = (
    "tracker",
    "cli",
    "logs",
    "scan",
    "monitor",
    "web",
    "errors",
    "deploy",
    "status",
    "realworld",
    "logs-realworld",
    "deploy-realworld",
    "mcp",
)


USAGE = f"""usage: python -m bench [AREA ...] [ARGS ...]

Runs the benchmarks of each AREA (default: all of them) and prints their figures; record them
in bench/RESULTS.md. ARGS go to every area named (`python -m bench realworld --help`).

areas: {", ".join(AREAS)}"""


def main(argv: list[str]) -> None:
    if argv and argv[0] in ("-h", "--help"):
        # Asked before any area: help, not a run of every benchmark with "--help" passed on.
        print(USAGE)
        return
    wanted: list[str] = []
    rest = list(argv)
    while rest and not rest[0].startswith("-"):
        wanted.append(rest.pop(0))
    unknown = [a for a in wanted if a not in AREAS]
    if unknown:
        sys.exit(f"unknown benchmark area(s): {', '.join(unknown)}; choose from {', '.join(AREAS)}")
    for area in wanted or AREAS:
        print(f"== {area} ==", flush=True)
        importlib.import_module(f"bench.{area.replace('-', '_')}").main(rest)


if __name__ == "__main__":
    main(sys.argv[1:])
