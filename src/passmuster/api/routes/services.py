"""Services: the catalog, each service's health and its open issues."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from passmuster.api.deps import DeskDep, Needs
from passmuster.api.errors import ERROR_RESPONSES, ErrorBody
from passmuster.api.schemas import IssuePublic, ServicePublic, ServiceUpsert
from passmuster.core.catalog import (
    SERVICE_NAME_MAX,
    SERVICE_NAME_PATTERN,
    Service,
    check_service_name,
)
from passmuster.core.issues import IssueQuery
from passmuster.usecases.health import HealthView, ServiceHealth
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(
    route_class=LazyAPIRoute,
    tags=["services"],
    dependencies=[Needs.READER],
    responses={**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "No such service."}},
)

ServiceName = Annotated[
    str, Path(min_length=1, max_length=SERVICE_NAME_MAX, pattern=SERVICE_NAME_PATTERN)
]


class HealthPublic(BaseModel):
    name: str
    state: str
    latency_ms: float | None
    checked_at: datetime | None
    reason: str | None
    recent: list[float | None]


def health_view(request: Request) -> HealthView:
    view: HealthView = request.app.state.health
    return view


def health_public(health: ServiceHealth) -> HealthPublic:
    return HealthPublic(
        name=health.name,
        state=health.state,
        latency_ms=health.latency_ms,
        checked_at=health.checked_at,
        reason=health.reason,
        recent=list(health.recent),
    )


@router.get("/services", summary="The service catalog")
def list_services(desk: DeskDep) -> list[ServicePublic]:
    return [ServicePublic.model_validate(s) for s in desk.services()]


@router.get("/services/{name}", summary="One service")
def get_service(name: ServiceName, desk: DeskDep) -> ServicePublic:
    return ServicePublic.model_validate(desk.get_service(name))


@router.put(
    "/services/{name}",
    dependencies=[Needs.COORDINATOR],
    summary="Add or change a service",
)
def put_service(name: ServiceName, body: ServiceUpsert, desk: DeskDep) -> ServicePublic:
    check_service_name(name)
    for dependency in body.depends_on:
        check_service_name(dependency)
    service = Service(name=name, **body.model_dump(), source=None)
    return ServicePublic.model_validate(desk.ensure_service(service))


@router.get("/services/{name}/issues", summary="The service's issues that still need work")
def service_issues(name: ServiceName, desk: DeskDep) -> list[IssuePublic]:
    desk.get_service(name)
    query = IssueQuery(services=[name], active_only=True, sort="urgency", limit=500)
    return [IssuePublic.of(i) for i in desk.issues(query)]


@router.get("/health", summary="Every service's current health")
def all_health(request: Request, desk: DeskDep) -> list[HealthPublic]:
    known = health_view(request).current()
    names = [s.name for s in desk.services()]
    names += sorted(set(known) - set(names))
    return [health_public(known.get(n, ServiceHealth(n))) for n in names]


@router.get("/services/{name}/health", summary="One service's current health")
def service_health(name: ServiceName, request: Request, desk: DeskDep) -> HealthPublic:
    known = health_view(request).current()
    if name not in known:
        desk.get_service(name)  # 404 unless the service exists
    return health_public(known.get(name, ServiceHealth(name)))
