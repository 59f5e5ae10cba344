"""The MCP server at `/mcp` of `passmuster serve` (streamable HTTP), behind the API's tokens.

Every request needs `Authorization: Bearer <token>`, checked like an `/api/v1` request: no
token, an unknown or a revoked one answers 401 before the body is read. The token's name is the
agent's identity on claims and events; its role decides which tools it may call (a reader's
write is refused with the desk's message naming the role it needs).

The transport is stateless (each request stands alone, JSON answers): any replica of a team
desk can answer any call, with no sticky sessions.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from passmuster.errors import AuthError
from passmuster.mcp.server import Session, build_server
from passmuster.mcp.tools import Caller

_CALLER = "passmuster_mcp_caller"


def _resolve(ctx: Context[Any, Any]) -> Session:
    request = ctx.request_context.request
    if not isinstance(request, Request):  # only reachable through the authenticated route
        raise AuthError("authentication required: send 'Authorization: Bearer <token>'")
    state = request.app.state
    caller: Caller = request.scope["state"][_CALLER]
    return Session(desk=state.desk, caller=caller, health=state.health)


class AuthenticatedMcp:
    """The MCP transport, entered only with an active token."""

    def __init__(self, sessions: StreamableHTTPSessionManager) -> None:
        self.sessions = sessions
        self.transport = StreamableHTTPASGIApp(sessions)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        header = Request(scope).headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        try:
            token = scope["app"].state.tokens.authenticate(
                secret.strip() if scheme.lower() == "bearer" else None
            )
        except AuthError as exc:
            body = {"error": {"code": "auth_error", "message": exc.message, "field": None}}
            refusal = JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {})[_CALLER] = Caller(token.name, token.role)
        await self.transport(scope, receive, send)


def mcp_endpoint() -> tuple[AuthenticatedMcp, StreamableHTTPSessionManager]:
    """The `/mcp` endpoint and its session manager (to run while the server runs)."""
    server = build_server(_resolve)
    # Builds the SDK's own app, whose session manager is all this route needs.
    server.streamable_http_app(
        json_response=True,
        stateless_http=True,
        # Requests carry a bearer token a page cannot attach by itself, which is what the
        # SDK's Host/Origin check guards against; and a desk may be served on any name.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    sessions = server.session_manager
    return AuthenticatedMcp(sessions), sessions
