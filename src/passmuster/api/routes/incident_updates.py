"""An incident's public updates: the timeline the status page shows. Comments and events stay
internal; only what is posted here is public."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from passmuster.api.deps import ActorDep, DeskDep, Needs
from passmuster.api.errors import ERROR_RESPONSES, ErrorBody
from passmuster.core.incident_updates import IncidentUpdate, UpdateStage
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(
    route_class=LazyAPIRoute,
    prefix="/issues/{number}/updates",
    tags=["incidents"],
    responses={**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "No such issue."}},
)
Number = Annotated[int, Path(ge=1, le=2**31 - 1)]


class UpdateCreate(BaseModel):
    stage: UpdateStage
    message: str = Field(min_length=1, max_length=5000)


class UpdatePublic(BaseModel):
    id: int
    incident: int
    stage: UpdateStage
    message: str
    author: str
    at: datetime


def _public(update: IncidentUpdate) -> UpdatePublic:
    return UpdatePublic(
        id=update.id,
        incident=update.incident,
        stage=update.stage,
        message=update.message,
        author=update.author,
        at=update.at,
    )


@router.get("", dependencies=[Needs.READER], summary="An incident's public updates")
def list_updates(number: Number, desk: DeskDep) -> list[UpdatePublic]:
    from passmuster.usecases.incident_updates import updates

    return [_public(u) for u in updates(desk, number)]


@router.post(
    "",
    dependencies=[Needs.COORDINATOR],
    status_code=201,
    summary="Post a public update to an incident",
)
def post(number: Number, body: UpdateCreate, desk: DeskDep, actor: ActorDep) -> UpdatePublic:
    from passmuster.usecases.incident_updates import post_update

    return _public(post_update(desk, number, body.stage, body.message, actor=actor))
