"""The pages' login session: a cookie holding a random session secret, and CSRF values.

The cookie holds neither the token nor anything signed: only a 256-bit secret whose digest the
desk keeps (see usecases/sessions.py), so logging out ends the session everywhere and reading
the desk gives no way in. It is HttpOnly (no script can read it) and SameSite=Lax (other sites
cannot make the browser send it with their forms). Every state-changing request from a page
must also carry the session's CSRF value, in the form (`csrf_token`) or, for HTMX requests, in
the `X-CSRF-Token` header. Before login, the login form's CSRF value is a random value in a
cookie of its own that the form must repeat.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from passmuster.errors import AuthError, Forbidden
from passmuster.usecases.sessions import MAX_AGE, SessionStore
from passmuster.usecases.tokens import Role, TokenInfo

COOKIE = "passmuster_session"
LOGIN_COOKIE = "passmuster_login"
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


def _sessions(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.sessions
    return store


def _set(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=bool(request.app.state.settings.cookie_secure),
        path="/",
    )


def login_csrf(request: Request) -> tuple[str, bool]:
    """This browser's CSRF value for the login form, and whether it is new (then the caller
    must `remember_login_csrf` it)."""
    value = request.cookies.get(LOGIN_COOKIE)
    if value and 20 <= len(value) <= 64:
        return value, False
    return secrets.token_urlsafe(24), True


def remember_login_csrf(request: Request, response: Response, value: str) -> None:
    _set(request, response, LOGIN_COOKIE, value, 3600)


def log_in(request: Request, response: Response, token: TokenInfo) -> None:
    """Start a session; its CSRF value is new, so one seen before login is worth nothing."""
    secret = _sessions(request).start(token)
    _set(request, response, COOKIE, secret, int(MAX_AGE.total_seconds()))
    response.delete_cookie(LOGIN_COOKIE, path="/", httponly=True, samesite="lax")


def log_out(request: Request, response: Response) -> None:
    """End the session in the desk (the cookie stops working everywhere) and drop the cookie."""
    _sessions(request).end(request.cookies.get(COOKIE))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def current_user(request: Request) -> WebUser:
    """The logged-in user, or LoginRequired. A revoked token ends its sessions at once."""
    found = _sessions(request).get(request.cookies.get(COOKIE))
    if found is None:
        raise LoginRequired("log in with an API token")
    return WebUser(found.token, found.csrf)


def still_logged_in(request: Request) -> bool:
    """Whether the request's session still stands (for streams that outlive their request)."""
    return _sessions(request).get(request.cookies.get(COOKIE)) is not None


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
