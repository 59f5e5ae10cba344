"""Layers only point down: every import in src/passmuster runs from a higher layer to a lower one.

The order, lowest first (packages on one row are siblings and may not import each other):

    errors                      what every layer may raise
    core                        the domain, pure (test_purity.py keeps I/O out of it)
    settings                    environment and passmuster.toml
    env_settings                the process's Settings (pydantic-settings)
    storage · logs · scanner    tables and stores · Markdown logs · the platform scanner
    usecases                    the desk and what CLI, API and web call
    monitor                     probes, scheduler, notifications (runs use cases)
    deploy                      rollouts: processes, waves, health gates (probes with the monitor)
    web · mcp                   the pages · the MCP server for agents (stdio, and /mcp in serve)
    api                         the HTTP app: REST routes, and the server that mounts the pages
    cli                         the commands: may start anything below

`passmuster/__init__.py` and `__main__.py` are the package's front door and may name anything;
any module may read `passmuster.__version__` (the package loads nothing else eagerly).
Imports inside functions and under TYPE_CHECKING count: a lazy import is still a dependency,
and so does a module named by its dotted path in a string (`"passmuster.cli.issues"` in the
command table, the notifier and table module lists), which `importlib` loads later.
"""

from __future__ import annotations

import ast
from pathlib import Path

import passmuster

LAYERS: list[tuple[str, ...]] = [
    ("errors",),
    ("core",),
    ("settings",),
    ("env_settings",),
    ("storage", "logs", "scanner"),
    ("usecases",),
    ("monitor",),
    ("deploy",),
    ("web", "mcp"),
    ("api",),
    ("cli",),
]
FRONT_DOOR = frozenset({"__init__", "__main__"})
ROOT = Path(passmuster.__file__).parent
RANK = {name: rank for rank, row in enumerate(LAYERS) for name in row}


def _package_of(path: Path) -> str:
    """The top-level part a module belongs to: `core` for core/issues.py, `errors` for errors.py."""
    first = path.relative_to(ROOT).parts[0]
    return first.removesuffix(".py")


def _module_name(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ["passmuster", *parts]


def _imported(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, the module imported, the names taken from it) for every passmuster import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here[:-1]
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name, []))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module, [a.name for a in node.names]))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            named = _named_module(node.value)
            if named is not None:
                found.append((node.lineno, named, []))
    return [item for item in found if item[1].split(".")[0] == "passmuster"]


def _named_module(text: str) -> str | None:
    """The module a string names by its dotted path (`passmuster.part.module`, optionally with
    `:attribute`), when that module exists; None for anything else (logger names, files)."""
    dotted = text.split(":", 1)[0]
    parts = dotted.split(".")
    if len(parts) < 3 or parts[0] != "passmuster" or not all(p.isidentifier() for p in parts):
        return None
    path = ROOT.joinpath(*parts[1:])
    return dotted if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file() else None


def _target(module: str, names: list[str]) -> str | None:
    """The top-level part an import reaches, or None for `from passmuster import __version__`."""
    parts = module.split(".")
    if len(parts) > 1:
        return parts[1]
    if names and all(name == "__version__" for name in names):
        return None
    # `from passmuster import core` names a part; `from passmuster import Desk` the front door.
    return names[0] if len(names) == 1 and names[0] in RANK else "__init__"


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {_package_of(p) for p in ROOT.rglob("*.py")} - FRONT_DOOR
    assert sorted(parts - set(RANK)) == [], "add the new package to LAYERS in this test"


def test_every_import_points_down() -> None:
    offenders: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        source = _package_of(path)
        if source in FRONT_DOOR:
            continue
        for line, module, names in _imported(path):
            target = _target(module, names)
            if target is None or target == source:
                continue
            where = f"{path.relative_to(ROOT.parent)}:{line}"
            if target not in RANK:
                offenders.append(f"{where} imports {module} (the package's front door)")
            elif RANK[target] >= RANK[source]:
                offenders.append(f"{where}: {source} imports {module}, which is not below it")
    assert offenders == []


def test_a_module_named_in_a_string_counts_as_an_import() -> None:
    assert _named_module("passmuster.cli.issues") == "passmuster.cli.issues"
    assert _named_module("passmuster.monitor.notify.webhook:WebhookChannel") == (
        "passmuster.monitor.notify.webhook"
    )
    assert _named_module("passmuster.monitor") is None  # a logger name, not a module path
    assert _named_module("passmuster.no_such_part.x") is None
