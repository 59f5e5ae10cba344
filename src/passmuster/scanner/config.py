"""The scanner's configuration: `[scan]` and `[services.<name>]` in passmuster.toml.

Also read from `[tool.passmuster]` in pyproject.toml (see settings.find_config). Keys may be
written kebab-case (`extend-select`, as ruff does) or snake_case.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from passmuster.core.issues import Severity
from passmuster.scanner.context.reading import MAX_FILE_BYTES, SCAN_TIMEOUT
from passmuster.settings import ProjectConfig


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class _Section(BaseModel):
    model_config = ConfigDict(alias_generator=_kebab, populate_by_name=True, extra="forbid")


class ServiceOverride(_Section):
    """What discovery cannot know about a service, or a service compose does not define."""

    kind: str | None = None
    description: str | None = None
    owner: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    health: str | None = None  # path of the health route, e.g. "/healthz"
    depends_on: list[str] = Field(default_factory=list)
    requirements: list[str] | None = None  # requirement files, relative to the root
    app: str | None = None  # folder holding the service's Python code
    build: str | None = None  # build context folder
    dockerfile: str | None = None
    image: str | None = None
    env: dict[str, str] = Field(default_factory=dict)


class ScanConfig(_Section):
    select: list[str] | None = None
    ignore: list[str] = Field(default_factory=list)
    extend_select: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)  # glob patterns of paths to skip
    # Skip what .gitignore files ignore: a scan sees the repository as CI checks it out (a
    # developer's untracked .env, build output and generated trees stay out).
    respect_gitignore: bool = True
    # Rules to skip in some files: {"infrastructure/compose/*.dev.yml" = ["ENV003"]}.
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict)
    fail_on: Severity = Severity.INFO
    baseline: str | None = None
    # Compose files that run together, beyond a base file and its `*.override.yml`.
    compose: list[list[str]] = Field(default_factory=list)
    # Limits on what a repository can make a scan do: a larger file is not read (a PM001
    # finding says so), and a scan running longer stops with an error.
    max_file_bytes: int = Field(default=MAX_FILE_BYTES, ge=1024)
    timeout: float = Field(default=SCAN_TIMEOUT, gt=0)
    # Per-rule options: [scan.options.PORT004] internal-port = 5000 (by code or name).
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    services: dict[str, ServiceOverride] = Field(default_factory=dict)

    @classmethod
    def from_project(cls, project: ProjectConfig) -> ScanConfig:
        """`[scan]` plus the top-level `[services]` table; errors name the file and field."""
        scan = project.section("scan", cls)
        if project.data.get("services"):
            scan.services = project.section("services", ServicesTable).root
        return scan

    def rule_options(self, code: str, name: str) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for key in (name, code):
            for option, value in self.options.get(key, {}).items():
                merged[option.replace("-", "_")] = value
        return merged


class ServicesTable(RootModel[dict[str, ServiceOverride]]):
    """`[services]`: one table per service name."""
