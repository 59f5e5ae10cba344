"""The pages' login session: a signed cookie holding the token's id and a CSRF secret.

The cookie never holds the token itself. It is HttpOnly (no script can read it), SameSite=Lax
(other sites cannot make the browser send it with their forms) and signed with the desk's
session key. Every state-changing request from a page must also carry the session's CSRF value,
in the form (`csrf_token`) or, for HTMX requests, in the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from passmuster.errors import AuthError, Forbidden
from passmuster.usecases.tokens import Role, TokenInfo, TokenStore

COOKIE = "passmuster_session"
MAX_AGE = 7 * 24 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(AuthError):
    """A page asked for without a (valid) session: the pages turn this into the login form."""


@dataclass(frozen=True, slots=True)
class WebUser:
    token: TokenInfo
    csrf: str

    @property
    def name(self) -> str:
        return self.token.name

    def can(self, role: str) -> bool:
        return self.token.role.allows(Role(role))


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.session_secret, salt="passmuster.session")


def read(request: Request) -> dict[str, Any]:
    """The session's contents, or {} when there is none or it was tampered with or expired."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        data = _serializer(request).loads(raw, max_age=MAX_AGE)
    except BadSignature:
        return {}
    return data if isinstance(data, dict) else {}


def write(request: Request, response: Response, data: dict[str, Any]) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        _serializer(request).dumps(data),
        max_age=MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=bool(settings.cookie_secure),
        path="/",
    )


def anonymous_csrf(request: Request) -> tuple[str, bool]:
    """This browser's CSRF value, and whether it is new (then the caller must `write` it)."""
    token = read(request).get("c")
    if isinstance(token, str) and token:
        return token, False
    return secrets.token_urlsafe(24), True


def log_in(request: Request, response: Response, token: TokenInfo) -> None:
    # A fresh CSRF value at login, so one seen before login is worth nothing after it.
    write(request, response, {"t": token.id, "c": secrets.token_urlsafe(24)})


def log_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def current_user(request: Request) -> WebUser:
    """The logged-in user, or LoginRequired. A revoked token ends its sessions at once."""
    data = read(request)
    token_id = data.get("t")
    csrf = data.get("c")
    if not isinstance(token_id, int) or not isinstance(csrf, str):
        raise LoginRequired("log in with an API token")
    store: TokenStore = request.app.state.tokens
    token = store.by_id(token_id)
    if token is None:
        raise LoginRequired("that token was revoked; log in again")
    return WebUser(token, csrf)


async def check_csrf(request: Request, expected: str) -> None:
    """Forbidden unless the request carries this session's CSRF value."""
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise Forbidden("the form expired or did not come from this site; reload and try again")
