"""The data tables shipped with the rules (`passmuster/scanner/data/*.toml`), read once."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from passmuster.errors import ConfigError


@cache
def table(name: str) -> dict[str, Any]:
    """The parsed table `name` (e.g. `incompatible`); a broken table names its file."""
    source = resources.files("passmuster.scanner").joinpath("data", f"{name}.toml")
    try:
        return tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"passmuster/scanner/data/{name}.toml: {exc}") from exc
