"""Tokens over the API, for admins: create (secret shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from passmuster.api.deps import ActorDep, Needs, TokensDep
from passmuster.api.errors import ERROR_RESPONSES, ErrorBody
from passmuster.api.schemas import TokenCreate, TokenCreated, TokenPublic
from passmuster.usecases.tokens import TokenInfo
from passmuster.web.lazy_routes import LazyAPIRoute

router = APIRouter(
    route_class=LazyAPIRoute,
    prefix="/tokens",
    tags=["tokens"],
    dependencies=[Needs.ADMIN],
    responses=ERROR_RESPONSES,
)


def public(info: TokenInfo) -> TokenPublic:
    return TokenPublic(
        id=info.id,
        name=info.name,
        role=info.role,
        prefix=info.prefix,
        created_at=info.created_at,
        created_by=info.created_by,
        last_used_at=info.last_used_at,
        revoked_at=info.revoked_at,
    )


@router.get("", summary="Every token, without secrets")
def list_tokens(tokens: TokensDep) -> list[TokenPublic]:
    return [public(t) for t in tokens.tokens()]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": ErrorBody, "description": "The name is taken."}},
    summary="Create a token; its secret is in this response only",
)
def create_token(body: TokenCreate, tokens: TokensDep, actor: ActorDep) -> TokenCreated:
    info, secret = tokens.create(body.name, body.role, created_by=actor)
    return TokenCreated(**public(info).model_dump(), secret=secret)


@router.delete(
    "/{name}",
    responses={
        404: {"model": ErrorBody, "description": "No such token."},
        409: {"model": ErrorBody, "description": "Already revoked."},
    },
    summary="Revoke a token",
)
def revoke_token(
    name: Annotated[str, Path(min_length=1, max_length=128)], tokens: TokensDep
) -> TokenPublic:
    return public(tokens.revoke(name))
