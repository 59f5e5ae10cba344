"""Deployments: CI systems report the deployments they ran; readers see attempts, the state of
each service's last deployment and the delivery keys (DORA's four)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from passmuster.api.deps import ActorDep, DeskDep, Needs
from passmuster.api.errors import ERROR_RESPONSES
from passmuster.api.schemas import _Model
from passmuster.core.catalog import SERVICE_NAME_MAX, SERVICE_NAME_PATTERN
from passmuster.core.deploy.attempts import Result
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(
    route_class=LazyAPIRoute, prefix="/deployments", tags=["deployments"], responses=ERROR_RESPONSES
)
_MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL

ServiceName = Annotated[
    str, Field(min_length=1, max_length=SERVICE_NAME_MAX, pattern=SERVICE_NAME_PATTERN)
]
_STATES: dict[str, Result | None] = {
    "queued": Result.RUNNING,
    "pending": Result.RUNNING,
    "in_progress": Result.RUNNING,
    "success": Result.SUCCEEDED,
    "failure": Result.FAILED,
    "error": Result.FAILED,
    "inactive": None,  # superseded by a newer deployment: nothing to record
}


class DeploymentIn(_Model):
    """GitHub's `deployment` object (the keys passmuster reads; others are ignored)."""

    model_config = ConfigDict(extra="ignore")

    id: int | str = Field(description="The CI system's deployment id: later statuses update it.")
    sha: str | None = Field(default=None, max_length=64, description="The deployed commit.")
    ref: str | None = Field(default=None, max_length=500)
    environment: str | None = Field(default=None, max_length=128)
    created_at: datetime | None = None
    payload: dict[str, Any] | None = Field(
        default=None,
        description="GitHub's free-form payload: `service` or `services` may be given here.",
    )


class DeploymentStatusIn(_Model):
    """GitHub's `deployment_status` object."""

    model_config = ConfigDict(extra="ignore")

    state: Literal["queued", "pending", "in_progress", "success", "failure", "error", "inactive"]
    description: str | None = Field(default=None, max_length=5000)
    log_url: str | None = Field(default=None, max_length=2000)
    target_url: str | None = Field(default=None, max_length=2000)
    environment_url: str | None = Field(default=None, max_length=2000)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DeploymentReport(_Model):
    """A GitHub `deployment_status` event, plus what passmuster needs that GitHub does not send:
    the services deployed, and (for failures) the end of the job's output."""

    model_config = ConfigDict(extra="ignore")

    deployment: DeploymentIn
    deployment_status: DeploymentStatusIn
    service: ServiceName | None = None
    services: list[ServiceName] = Field(default_factory=list, max_length=500)
    output: str = Field(
        default="", max_length=200_000, description="The job's output; its last 200 lines are kept."
    )
    logs: str = Field(default="", max_length=200_000, description="The service's own logs.")
    exit_code: int | None = Field(default=None, ge=-255, le=255)
    commit_at: datetime | None = Field(
        default=None, description="When the deployed commit was made (for the lead time)."
    )
    service_commit: str | None = Field(
        default=None, max_length=64, description="The last commit touching the service."
    )

    @model_validator(mode="after")
    def _some_service(self) -> DeploymentReport:
        if not self.named_services():
            raise ValueError(
                "name the deployed service: `service`, `services`, or `service` in the "
                "deployment's payload"
            )
        return self

    def named_services(self) -> list[str]:
        names = [*([self.service] if self.service else []), *self.services]
        payload = self.deployment.payload or {}
        extra = payload.get("services") or ([payload["service"]] if payload.get("service") else [])
        if isinstance(extra, list):
            names += [str(n) for n in extra]
        return list(dict.fromkeys(names))


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    run: int | None
    service: str
    result: Result
    started_at: datetime
    finished_at: datetime | None
    duration: float | None
    wave: int | None
    exit_code: int | None
    commit: str | None
    service_commit: str | None
    service_commit_at: datetime | None
    failure: str | None
    reason: str
    issue: int | None
    source: str
    environment: str
    external_id: str | None
    url: str | None
    actor: str


class AttemptDetail(AttemptOut):
    excerpt: str
    output: str
    logs: str


class IssueChangeOut(BaseModel):
    action: str = Field(description="opened, added, updated, reopened, cleared or resolved")
    issue: int
    service: str
    findings: list[int] = Field(description="Scanner finding issues linked as the cause.")
    known_fixes: list[int]


class ReportOutcome(BaseModel):
    attempts: list[AttemptOut]
    issues: list[IssueChangeOut]


class ServiceDeployment(BaseModel):
    service: str
    last: AttemptOut | None
    issues: list[int] = Field(description="Open deployment issues naming the service.")


@router.post(
    "",
    status_code=201,
    summary="Record a deployment a CI system ran (a GitHub deployment-status payload)",
    dependencies=[Needs.COORDINATOR],
)
def report(body: DeploymentReport, desk: DeskDep, actor: ActorDep) -> ReportOutcome:
    """Statuses of one deployment (`deployment.id`) update one attempt per service: `queued`,
    `pending` and `in_progress` record it running; `success` deploys it (clearing the service
    from deployment issues); `failure` and `error` classify `output` and `logs` into a
    deployment issue; `inactive` records nothing. A final status sent twice changes nothing."""
    from passmuster.usecases.deployments import DeployLog, ExternalReport

    status = body.deployment_status
    result = _STATES[status.state]
    if result is None:
        return ReportOutcome(attempts=[], issues=[])
    started = body.deployment.created_at or status.created_at
    finished = None if result is Result.RUNNING else (status.updated_at or status.created_at)
    log = DeployLog(desk, actor=actor, source="ci")
    done = log.record_external(
        ExternalReport(
            external_id=str(body.deployment.id),
            services=body.named_services(),
            result=result,
            environment=body.deployment.environment or "",
            commit=body.deployment.sha,
            service_commit=body.service_commit,
            commit_at=body.commit_at,
            started_at=started,
            finished_at=finished,
            description=status.description or "",
            output=body.output,
            logs=body.logs,
            exit_code=body.exit_code,
            url=status.log_url or status.target_url or status.environment_url,
        )
    )
    return ReportOutcome(
        attempts=[AttemptOut.model_validate(f.attempt) for f in done],
        issues=[
            IssueChangeOut(
                action=c.action,
                issue=c.issue.number,
                service=c.service,
                findings=c.findings,
                known_fixes=[i.number for i in c.known_fixes],
            )
            for f in done
            for c in f.changes
        ],
    )


@router.get("", summary="Deployment attempts, newest first", dependencies=[Needs.READER])
def attempts(
    desk: DeskDep,
    service: Annotated[list[str] | None, Query(description="Only these services.")] = None,
    result: Annotated[list[Result] | None, Query(description="Only these results.")] = None,
    run: Annotated[int | None, Query(ge=1, le=_MAX_ID)] = None,
    before: Annotated[
        int | None, Query(ge=1, le=_MAX_ID, description="Attempts older than this id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[AttemptOut]:
    from passmuster.usecases.deployments import history

    found = history(
        desk, services=service or [], results=result or [], run=run, before=before, limit=limit
    )
    return [AttemptOut.model_validate(a) for a in found]


@router.get(
    "/attempts/{number}",
    summary="One attempt with its output and the service's logs",
    dependencies=[Needs.READER],
)
def attempt(number: Annotated[int, Path(ge=1, le=_MAX_ID)], desk: DeskDep) -> AttemptDetail:
    from passmuster.usecases.deployments import attempt as get_attempt

    return AttemptDetail.model_validate(get_attempt(desk, number))


@router.get(
    "/status",
    summary="Each service's last deployment and its open deployment issues",
    dependencies=[Needs.READER],
)
def status(desk: DeskDep) -> list[ServiceDeployment]:
    from passmuster.usecases.deployments import open_deployment_issues, recent_by_service

    last = recent_by_service(desk, 1)
    issues = open_deployment_issues(desk)
    return [
        ServiceDeployment(
            service=name,
            last=AttemptOut.model_validate(items[0]) if items else None,
            issues=[i.number for i in issues if name in i.services],
        )
        for name, items in sorted(last.items())
    ]


@router.get(
    "/delivery",
    summary="DORA's four keys: frequency, lead time, change failure rate, time to restore",
    dependencies=[Needs.READER],
)
def delivery(
    desk: DeskDep,
    since: Annotated[datetime | None, Query(description="Deployments from then on.")] = None,
    until: Annotated[datetime | None, Query(description="Deployments before then.")] = None,
) -> dict[str, Any]:
    from passmuster.api.routes.reports import _moment
    from passmuster.usecases.deployments import delivery as keys

    return keys(desk, since=_moment(since, "since"), until=_moment(until, "until")).to_dict()
