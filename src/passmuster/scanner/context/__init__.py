"""The parsed platform: compose files, Dockerfiles, requirements, env files and app code.

`discover(root, config)` reads a platform repository once and returns a `Platform`; rules and the
catalog read only that. See `model.py` for what each service carries.
"""

from __future__ import annotations

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
]
