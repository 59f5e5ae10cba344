"""The event timeline across all issues, with cursor paging, and its live stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from passmuster.api.deps import DeskDep, HubDep, Needs, TokenDep, TokensDep
from passmuster.api.errors import ERROR_RESPONSES
from passmuster.api.routes.issues import MAX_INT, event_page
from passmuster.api.schemas import EventPage
from passmuster.core.issues import EVENT_KINDS
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(
    route_class=LazyAPIRoute,
    prefix="/events",
    tags=["events"],
    dependencies=[Needs.READER],
    responses=ERROR_RESPONSES,
)

KindsQuery = Annotated[
    list[str], Query(alias="kind", description="Only these kinds: " + ", ".join(EVENT_KINDS))
]


@router.get("", summary="Events of every issue, oldest first, after a cursor")
def events(
    desk: DeskDep,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_INT, description="The last event id already seen.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    kinds: KindsQuery = [],  # noqa: B006
) -> EventPage:
    from passmuster.errors import InvalidValue

    for kind in kinds:
        if kind not in EVENT_KINDS:
            raise InvalidValue("kind", kind, EVENT_KINDS)
    return event_page(desk.events(after=after, limit=limit, kinds=kinds or None), limit)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    summary="Live: `issue` and `service` events as they happen (Server-Sent Events)",
)
async def stream(hub: HubDep, token: TokenDep, tokens: TokensDep) -> AsyncIterator[ServerSentEvent]:
    # A token revoked while its stream is open ends the stream too.
    async for event in hub.subscribe(lambda: tokens.by_id(token.id) is not None):
        yield ServerSentEvent(event=event.kind, id=event.id, data=dict(event.data))
