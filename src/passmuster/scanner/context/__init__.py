"""The parsed platform: compose files, Dockerfiles, requirements, env files and app code.

`discover(root, config)` reads a platform repository once and returns a `Platform`; rules and the
catalog read only that. See `model.py` for what each service carries.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from passmuster.scanner.context.model import (
    Command,
    ComposeFile,
    Dependency,
    Dockerfile,
    EntryPoint,
    EnvEntry,
    EnvFile,
    EnvVar,
    HealthCheck,
    Include,
    Instruction,
    InvalidRequirement,
    ParseProblem,
    PipInstall,
    Platform,
    PortRef,
    Project,
    PublishedPort,
    PythonFile,
    Requirement,
    RequirementsFile,
    ServiceDef,
    Stage,
    Volume,
    Where,
)

if TYPE_CHECKING:
    from passmuster.scanner.config import ScanConfig
    from passmuster.scanner.context.reading import Deadline

__all__ = [
    "Command",
    "ComposeFile",
    "Dependency",
    "Dockerfile",
    "EntryPoint",
    "EnvEntry",
    "EnvFile",
    "EnvVar",
    "HealthCheck",
    "Include",
    "Instruction",
    "InvalidRequirement",
    "ParseProblem",
    "PipInstall",
    "Platform",
    "PortRef",
    "Project",
    "PublishedPort",
    "PythonFile",
    "Requirement",
    "RequirementsFile",
    "ServiceDef",
    "Stage",
    "Volume",
    "Where",
    "discover",
]


def discover(
    root: Path, config: ScanConfig | None = None, *, deadline: Deadline | None = None
) -> Platform:
    """Parse the platform under `root` (see discovery.py)."""
    from passmuster.scanner.context.discovery import discover as _discover

    return _discover(root, config, deadline=deadline)
