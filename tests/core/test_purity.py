"""The domain core does no I/O: it may not import storage, HTTP or web frameworks."""

from __future__ import annotations

import ast
from pathlib import Path

import passmuster.core

FORBIDDEN = {
    "sqlalchemy",
    "alembic",
    "psycopg",
    "httpx",
    "fastapi",
    "starlette",
    "uvicorn",
    "requests",
    "socket",
    "subprocess",
    "sqlite3",
    "typer",
    "click",
    "jinja2",
    "urllib.request",
    "asyncio",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_core_modules_import_nothing_that_does_io() -> None:
    core = Path(passmuster.core.__file__).parent
    offenders = {}
    for path in sorted(core.rglob("*.py")):
        bad = {
            name
            for name in _imports(path)
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}
