"""Request dependencies: the desk, the caller's token and role, and who is acting.

Routes declare what they need with the `Annotated` aliases (`DeskDep`, `TokenDep`, `ActorDep`)
and the role they require with `dependencies=[Needs.REPORTER]` and friends. The token is looked
up once per request; FastAPI caches `authenticated` across the dependencies that share it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from passmuster.api.config import ServeSettings
from passmuster.usecases.tokens import Role, TokenInfo, TokenStore

if TYPE_CHECKING:
    from passmuster.api.live import LiveHub
    from passmuster.usecases.desk import Desk

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from `passmuster token create --name NAME --role ROLE`.",
)


async def get_desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


async def get_tokens(request: Request) -> TokenStore:
    tokens: TokenStore = request.app.state.tokens
    return tokens


async def get_hub(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.hub
    return hub


async def get_settings(request: Request) -> ServeSettings:
    settings: ServeSettings = request.app.state.settings
    return settings


async def authenticated(
    tokens: Annotated[TokenStore, Depends(get_tokens)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> TokenInfo:
    """The caller's active token, or 401.

    The lookup is one indexed read, done on the event loop: cheaper than the hop to a worker
    thread it would otherwise take on every request.
    """
    return tokens.authenticate(credentials.credentials if credentials else None)


def require(role: Role) -> Any:
    """A dependency that lets through tokens whose role reaches `role` (403 otherwise)."""

    async def check(token: Annotated[TokenInfo, Depends(authenticated)]) -> TokenInfo:
        token.require(role)
        return token

    check.__name__ = f"require_{role.value}"
    return Depends(check)


class Needs:
    """`dependencies=[Needs.COORDINATOR]` on a route or router."""

    READER = require(Role.READER)
    REPORTER = require(Role.REPORTER)
    COORDINATOR = require(Role.COORDINATOR)
    ADMIN = require(Role.ADMIN)


async def current_actor(token: Annotated[TokenInfo, Depends(authenticated)]) -> str:
    """Events record the token's name as the actor."""
    return token.name


DeskDep = Annotated["Desk", Depends(get_desk)]
TokenDep = Annotated[TokenInfo, Depends(authenticated)]
ActorDep = Annotated[str, Depends(current_actor)]
HubDep = Annotated["LiveHub", Depends(get_hub)]
SettingsDep = Annotated[ServeSettings, Depends(get_settings)]
TokensDep = Annotated[TokenStore, Depends(get_tokens)]
