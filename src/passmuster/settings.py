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


# The tables a configuration holds, each read (and validated) by the engine it configures. A
# name outside them is refused, as a misspelt key inside one is: `[scna]` read as nothing would
# leave the scan unconfigured without a word.
SECTIONS = ("deploy", "leases", "monitor", "scan", "services", "sla", "status")


def find_config(start: Path | None = None) -> ProjectConfig:
    """Walk up from `start` to the first passmuster.toml or [tool.passmuster] in pyproject.toml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return ProjectConfig(candidate, _known_sections(candidate, _read_toml(candidate)))
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject)
            tool = data.get("tool", {})
            if isinstance(tool, dict) and isinstance(tool.get("passmuster"), dict):
                return ProjectConfig(pyproject, _known_sections(pyproject, tool["passmuster"]))
    return ProjectConfig(None, {})


def load_config(path: Path) -> ProjectConfig:
    """Read an explicitly named configuration file."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such configuration file")
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        data = tool.get("passmuster", {}) if isinstance(tool, dict) else {}
    return ProjectConfig(path, _known_sections(path, data))


def _known_sections(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """`data` when every top-level name in it is one of SECTIONS; else a ConfigError naming the
    file, the line and the name, with the names that are read."""
    unknown = [name for name in data if name not in SECTIONS]
    if not unknown:
        return data
    prefix = "tool.passmuster." if path.name == "pyproject.toml" else ""
    name = unknown[0]
    where = f"{path}:{line}" if (line := _line_of(path, prefix + name)) else str(path)
    raise ConfigError(
        f"{where}: [{prefix}{name}] is not a section passmuster reads; the sections are "
        + ", ".join(f"[{prefix}{known}]" for known in SECTIONS),
        field=prefix + name,
    )


def _line_of(path: Path, dotted: str) -> int | None:
    """The line that opens table `dotted` (`[scna]`, `[scna.x]`, `[[scna]]`) or sets its key
    at the top (`scna = …`), if a plain reading finds one: only to point at it."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    head, _, last = dotted.rpartition(".")
    for number, text in enumerate(lines, start=1):
        stripped = text.strip().lstrip("[").rstrip("]").strip()
        if stripped == dotted or stripped.startswith(dotted + "."):
            return number
        if not head and text.split("=", 1)[0].strip().strip("\"'") == last:
            return number
    return None


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
