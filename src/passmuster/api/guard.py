"""What every request passes before the application reads a byte of its body.

FastAPI reads a route's body before it resolves the route's dependencies, authentication
included: four anonymous 300 MB requests once pushed a server past 1.9 GB. This ASGI middleware
sits in front of the whole app and, for a request that carries a body:

- refuses it with **413** when its `Content-Length` is over the limit, without reading it, and
  counts the bytes of any other body as they arrive, answering 413 as soon as they pass the
  limit (so at most the limit is ever buffered);
- **authenticates first**: an API or `/mcp` request needs a valid bearer token, a page form a valid
  session — otherwise 401 (or the pages' redirect to the login form), the body unread;
- limits **`POST /login`** per client (`LOGIN_ATTEMPTS` a minute), answering **429** with
  `Retry-After`.

It also answers **HEAD** for every GET route: the request goes on as a GET and only the
status and headers go back (a stream, such as the live feed, is ended after its headers).

Limits: `PASSMUSTER_MAX_BODY_BYTES` (1 MiB) for every body, `PASSMUSTER_MAX_UPLOAD_BYTES`
(32 MiB) for an uploaded scan report (`POST /api/v1/scans`), `PASSMUSTER_MAX_INGEST_BYTES`
(20 MiB) for runtime errors sent by Sentry SDKs, 16 KiB for the login form.

Sentry's ingestion paths (`/api/{project_id}/envelope/`, `/store/`) authenticate with the DSN's
key instead of a token, and each key has a rate limit (429 with `Retry-After`): api/ingest.py.
An admitted POST to one of them is answered here by the ingestion endpoint itself, without the
router behind (the path every event of every service takes).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passmuster.api.ingest import TooManyEvents, ingest_project
from passmuster.api.ingest import serve as serve_ingestion
from passmuster.errors import AuthError, PassmusterError

API_PREFIX = "/api/"
MCP_PATH = "/mcp"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths a request may send a body to without being logged in: the token is in the body.
_ANONYMOUS = frozenset({"/login"})
LOGIN_FORM_BYTES = 16 * 1024
# Login attempts per client: a burst of LOGIN_ATTEMPTS, then one more every LOGIN_WINDOW /
# LOGIN_ATTEMPTS seconds. Tokens are 256 random bits, so this is about load, not guessing.
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW = 60.0
_CLIENTS_KEPT = 10_000


class _Ended(Exception):
    """The response to a HEAD request is complete; stop the app producing the rest."""


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


@dataclass
class _Bucket:
    tokens: float
    at: float


class LoginLimiter:
    """A token bucket per client address; the oldest clients are forgotten past a bound."""

    def __init__(self, attempts: int = LOGIN_ATTEMPTS, window: float = LOGIN_WINDOW) -> None:
        self.attempts = attempts
        self.rate = attempts / window
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def wait(self, client: str, now: float | None = None) -> float:
        """0 when `client` may try now (and counts the try), else seconds until it may."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.pop(client, None) or _Bucket(float(self.attempts), now)
        bucket.tokens = min(self.attempts, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        self._buckets[client] = bucket
        while len(self._buckets) > _CLIENTS_KEPT:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        max_upload: int,
        limiter: LoginLimiter,
        max_ingest: int | None = None,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.max_ingest = max_ingest if max_ingest is not None else max_body
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            await self._head(scope, receive, send)
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self._limit(scope["method"], path)
        length = _content_length(scope)
        if length is not None and length > limit:
            await self._refuse(scope, send, BodyTooLarge(limit))
            return
        # Ingestion is rate-limited per request, so even an empty one passes the gate.
        ingesting = ingest_project(path) is not None
        if length != 0 or ingesting:
            refusal = await self._admit(scope, path)
            if refusal is not None:
                await self._refuse(scope, send, refusal)
                return
        if ingesting and scope["method"] == "POST":
            # Straight to the ingestion endpoints: the busiest path skips the router.
            await serve_ingestion(scope, _counting(receive, limit), send)
            return
        await self.app(scope, _counting(receive, limit), send)

    def _limit(self, method: str, path: str) -> int:
        if path == "/login":
            return LOGIN_FORM_BYTES
        if ingest_project(path) is not None:
            return self.max_ingest
        if method == "POST" and path.rstrip("/") == f"{API_PREFIX}v1/scans":
            return self.max_upload
        return self.max_body

    async def _admit(self, scope: Scope, path: str) -> Exception | None:
        """The reason to refuse this request before its body is read, or None."""
        request = Request(scope)
        if path in _ANONYMOUS:
            client = request.client.host if request.client else "unknown"
            wait = self.limiter.wait(client)
            if wait:
                return TooManyAttempts(math.ceil(wait))
            return None
        state = scope["app"].state
        project = ingest_project(path)
        try:
            if project is not None:
                # Sentry SDKs authenticate with their DSN's key, never with an API token.
                state.ingest_gate.admit(scope, project)
            elif path.startswith(API_PREFIX) or path == MCP_PATH:
                header = request.headers.get("authorization", "")
                scheme, _, secret = header.partition(" ")
                state.tokens.authenticate(secret.strip() if scheme.lower() == "bearer" else None)
            else:
                from passmuster.web.session import current_user

                current_user(request)
        except (AuthError, TooManyEvents) as exc:
            return exc
        return None

    async def _refuse(self, scope: Scope, send: Send, exc: Exception) -> None:
        """Answer as the app's own error handlers would for `exc`, without reading the body."""
        request = Request(scope)
        handlers = scope["app"].exception_handlers
        handler = next(handlers[cls] for cls in type(exc).__mro__ if cls in handlers)
        response = await handler(request, exc)
        if isinstance(exc, TooManyAttempts | TooManyEvents):
            response.headers["Retry-After"] = str(exc.retry_after)
        await response(scope, _nothing, send)

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request as a GET; send only its status and headers."""

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body":
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                raise _Ended

        try:
            await self.app({**scope, "method": "GET"}, receive, headers_only)
        except _Ended:
            pass
        except BaseExceptionGroup as group:  # a streaming response's task group wraps it
            rest = group.subgroup(lambda exc: not isinstance(exc, _Ended))
            if rest is not None:
                raise rest from None


class TooManyAttempts(PassmusterError):
    status_code = 429
    exit_code = 6

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many login attempts; try again in {retry_after} s")
        self.retry_after = retry_after


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when the body is chunked (or the header is unreadable)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
