"""Settings: environment variables for the process, `passmuster.toml` for the platform.

`Settings` (in `passmuster.env_settings`) holds what differs per process (which desk, who is
acting); `process_setting` reads one of those variables the same way without loading pydantic, for
the commands that must start quickly. `ProjectConfig` is the platform's configuration file:
`passmuster.toml`, or `[tool.passmuster]` in `pyproject.toml`, found by walking up from the working
directory. Each engine reads its own section into its own pydantic model through
`ProjectConfig.section`, so a wrong value is reported with the file and the dotted field name.
Nothing here runs at import time, nothing here imports pydantic until a section is read, and
nothing imports the TOML reader until a file is found (a server or a command on a platform without
one never pays for it).
"""

from __future__ import annotations

import os
from dataclasses import field
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar

from passmuster.core._dataclass import dataclass
from passmuster.errors import ConfigError

CONFIG_FILE = "passmuster.toml"
DESK_DIR = ".passmuster"
DESK_FILE = "desk.db"


class FromConfig(Protocol):
    """What a section is read into: a pydantic model, or a class that validates like one."""

    @classmethod
    def model_validate(cls, obj: Any) -> Self: ...


ModelT = TypeVar("ModelT", bound=FromConfig)

ENV_PREFIX = "PASSMUSTER_"


def process_setting(name: str) -> str | None:
    """`PASSMUSTER_<NAME>` as `Settings` reads it (the variable's name in any case, the last one
    set winning), or None: for the hot commands, which need no more than this."""
    wanted = (ENV_PREFIX + name).lower()
    value: str | None = None
    for key, text in os.environ.items():
        if key.lower() == wanted:
            value = text
    return value


def acting_user(actor: str | None) -> str:
    """Who is acting: `actor` (PASSMUSTER_ACTOR), else the login name."""
    if actor:
        return actor
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class ProjectConfig:
    """The platform's configuration file, or an empty one when there is none."""

    path: Path | None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path | None:
        return self.path.parent if self.path else None

    def section(self, name: str, model: type[ModelT]) -> ModelT:
        """Validate `[name]` (dotted for nested tables) into `model`; errors name file and field."""
        raw: Any = self.data
        for part in name.split("."):
            raw = raw.get(part, {}) if isinstance(raw, dict) else {}
        try:
            return model.model_validate(raw)
        except Exception as exc:
            # pydantic is imported only now: a policy without a section never loads it.
            from pydantic import ValidationError

            if not isinstance(exc, ValidationError):
                raise
            first = exc.errors()[0]
            where = ".".join(str(p) for p in (name, *first["loc"]))
            raise ConfigError(
                f"{self.path or CONFIG_FILE}: [{where}] {first['msg']}", field=where
            ) from None


def find_config(start: Path | None = None) -> ProjectConfig:
    """Walk up from `start` to the first passmuster.toml or [tool.passmuster] in pyproject.toml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return ProjectConfig(candidate, _read_toml(candidate))
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject)
            tool = data.get("tool", {})
            if isinstance(tool, dict) and isinstance(tool.get("passmuster"), dict):
                return ProjectConfig(pyproject, tool["passmuster"])
    return ProjectConfig(None, {})


def load_config(path: Path) -> ProjectConfig:
    """Read an explicitly named configuration file."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such configuration file")
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        data = tool.get("passmuster", {}) if isinstance(tool, dict) else {}
    return ProjectConfig(path, data)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def find_desk_file(start: Path | None = None) -> Path | None:
    """Walk up from `start` to the first `.passmuster/desk.db`, the way git finds `.git`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DESK_DIR / DESK_FILE
        if candidate.is_file():
            return candidate
    return None


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}
