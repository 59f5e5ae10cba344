"""The monitor's notification channels: their state, and enabling one a permanent error
disabled (its waiting notifications then go out on the monitor's next round)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from passmuster.api.deps import DeskDep, Needs
from passmuster.api.errors import ERROR_RESPONSES, ErrorBody
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(
    route_class=LazyAPIRoute, prefix="/channels", tags=["monitor"], responses=ERROR_RESPONSES
)


class ChannelPublic(BaseModel):
    name: str
    kind: str
    state: str
    disabled_reason: str | None
    disabled_at: datetime | None
    sent: int
    failed: int
    pending: int
    last_error: str | None


def _listed(desk: DeskDep) -> list[ChannelPublic]:
    from passmuster.monitor.channel_status import channels

    return [ChannelPublic.model_validate(c, from_attributes=True) for c in channels(desk)]


@router.get("", dependencies=[Needs.READER], summary="Notification channels and their state")
def list_channels(desk: DeskDep) -> list[ChannelPublic]:
    return _listed(desk)


@router.post(
    "/{name}/enable",
    dependencies=[Needs.COORDINATOR],
    responses={404: {"model": ErrorBody, "description": "No such channel."}},
    summary="Enable a channel a permanent error disabled",
)
def enable(
    name: Annotated[str, Path(min_length=1, max_length=100)], desk: DeskDep
) -> ChannelPublic:
    from passmuster.monitor.channel_status import enable_channel

    enable_channel(desk, name)
    return next(c for c in _listed(desk) if c.name == name)
