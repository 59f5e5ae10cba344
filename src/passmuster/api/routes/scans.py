"""Scans: upload a scan's JSON report, or run one on the server's platform; either way the
findings are reconciled into the tracker (issues opened, counted, resolved, reopened)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from passmuster.api.deps import ActorDep, DeskDep, Needs, SettingsDep
from passmuster.api.errors import ERROR_RESPONSES, ErrorBody
from passmuster.api.schemas import _Model
from passmuster.core.findings import Finding, fingerprint
from passmuster.core.issues import Severity
from passmuster.errors import ConfigError, Conflict, InvalidValue, NotFound
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(
    route_class=LazyAPIRoute,
    prefix="/scans",
    tags=["scans"],
    dependencies=[Needs.COORDINATOR],
    responses=ERROR_RESPONSES,
)


class FindingIn(_Model):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Z]+[0-9]+$")
    message: str = Field(min_length=1, max_length=5000)
    severity: Severity = Severity.MEDIUM
    service: str | None = Field(default=None, max_length=128)
    path: str = Field(min_length=1, max_length=1000)
    line: int | None = Field(default=None, ge=1, le=10_000_000)
    column: int | None = Field(default=None, ge=1, le=100_000)
    fingerprint: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="As the scan reported it; computed from code, service, path and message "
        "when left out.",
    )


class ScanUpload(_Model):
    """The JSON report of `passmuster scan --format json` (extra report keys are ignored)."""

    model_config = ConfigDict(extra="ignore")

    rules: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="Codes of the rules that ran; their issues not found again are resolved.",
    )
    findings: list[FindingIn] = Field(default_factory=list, max_length=20_000)
    commit: str | None = Field(default=None, max_length=64, description="The scanned commit.")


class ScanOutcome(BaseModel):
    scan_id: str
    commit: str | None
    findings: int
    opened: list[int]
    seen: list[int]
    resolved: list[int]
    reopened: list[int]
    claimed_resolved: list[int] = Field(description="Resolved issues whose rule still fires.")
    report: list[str]


@dataclass(frozen=True, slots=True)
class _Uploaded(Finding):
    given_fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        return self.given_fingerprint or fingerprint(
            self.code, self.service, self.path, self.key or self.message
        )


def _outcome(outcome: Any, findings: int) -> ScanOutcome:
    return ScanOutcome(
        scan_id=outcome.scan_id,
        commit=outcome.commit,
        findings=findings,
        opened=[i.number for i in outcome.opened],
        seen=[i.number for i in outcome.seen],
        resolved=[i.number for i in outcome.resolved],
        reopened=[i.number for i in outcome.reopened],
        claimed_resolved=[i.number for i, _ in outcome.claimed],
        report=outcome.lines(),
    )


@router.post("", summary="Record an uploaded scan report in the tracker")
def upload(body: ScanUpload, desk: DeskDep, actor: ActorDep) -> ScanOutcome:
    from passmuster.scanner.context.model import Platform
    from passmuster.scanner.engine import ScanResult
    from passmuster.scanner.registry import default_registry
    from passmuster.usecases.reconcile import reconcile

    registry = default_registry()
    rules = []
    for code in body.rules:
        try:
            rules.append(registry.get(code))
        except NotFound:
            raise InvalidValue("rules", code, ["codes from `passmuster rules`"]) from None
    findings: list[Finding] = [
        _Uploaded(
            f.code,
            f.message,
            f.path,
            f.line,
            f.severity,
            f.service,
            column=f.column,
            given_fingerprint=f.fingerprint,
        )
        for f in body.findings
    ]
    result = ScanResult(platform=Platform(root=Path(".")), findings=findings, rules=rules)
    with desk.transaction():
        outcome = reconcile(desk, result, registry, actor=f"scan ({actor})", commit=body.commit)
    return _outcome(outcome, len(findings))


@router.post(
    "/run",
    summary="Scan the server's platform repository now and record the findings",
    responses={
        409: {
            "model": ErrorBody,
            "description": "The server has no platform to scan, or a scan is running.",
        },
        503: {"model": ErrorBody, "description": "The scan exceeded its memory or time limit."},
    },
)
async def run(
    request: Request, desk: DeskDep, actor: ActorDep, settings: SettingsDep
) -> ScanOutcome:
    """The scan runs in a child process under `PASSMUSTER_SCAN_TIMEOUT` and
    `PASSMUSTER_SCAN_MEMORY`, one at a time per server (409 while one runs): nothing the
    repository holds can take the server down, and no worker thread waits on it."""
    from passmuster.scanner.isolated import ScanLimits, scan_isolated
    from passmuster.scanner.registry import default_registry
    from passmuster.usecases.reconcile import reconcile

    root = settings.platform_root
    if root is None:
        raise NoPlatform("this server has no platform to scan: start it with --platform PATH")
    if not root.is_dir():
        raise NoPlatform(f"{root}: the platform folder is gone")
    limits = ScanLimits(seconds=settings.scan_timeout, memory_bytes=settings.scan_memory)
    lock = _scan_lock(request)
    if lock.locked():
        raise ScanRunning("a scan of the platform is already running; try again when it ends")
    async with lock:
        scanned = await scan_isolated(root, limits)
    registry = default_registry()
    result = scanned.result(root, registry)

    def record() -> ScanOutcome:
        with desk.transaction():
            outcome = reconcile(
                desk, result, registry, actor=f"scan ({actor})", commit=scanned.commit
            )
        return _outcome(outcome, len(result.findings))

    return await anyio.to_thread.run_sync(record)


def _scan_lock(request: Request) -> asyncio.Lock:
    lock: asyncio.Lock | None = getattr(request.app.state, "scan_lock", None)
    if lock is None:
        lock = request.app.state.scan_lock = asyncio.Lock()
    return lock


class NoPlatform(ConfigError):
    status_code = 409


class ScanRunning(Conflict):
    """Scans run one at a time: a queue of waiting scans would only grow."""
