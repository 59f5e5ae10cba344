"""The pages' login sessions: a random secret in the browser's cookie, its digest in the desk.

Logging in with a token starts a session; logging out ends it at once (the row is deleted, so
the old cookie no longer works anywhere); revoking the token ends all of its sessions; a
session lasts at most `MAX_AGE`. Nothing that signs or decrypts sessions is kept anywhere, so
reading the desk (its file, a backup, a database dump) gives no way to log in: the desk holds
only SHA-256 digests of 256-bit secrets. `end_all` ends every session at once (`passmuster
token revoke --all`).

The session's CSRF value is derived from its secret (an HMAC), so it is never stored either,
and it changes with every login.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select

from passmuster.storage.engine import read_transaction, write_transaction
from passmuster.usecases.tokens import CACHE_SECONDS, TokenInfo, TokenStore

MAX_AGE = timedelta(days=7)
SESSION_PREFIX = "pms_"


@dataclass(frozen=True, slots=True)
class Session:
    token: TokenInfo
    csrf: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def csrf_for(secret: str) -> str:
    """The CSRF value of the session with this secret."""
    return hmac.new(secret.encode("utf-8"), b"passmuster csrf", hashlib.sha256).hexdigest()


class SessionStore:
    """Sessions in the desk's database. Thread-safe: each call uses its own connection.

    A session once checked is trusted for CACHE_SECONDS (as tokens are): ending one through
    this store takes effect at once here, and within that time in other processes.
    """

    def __init__(self, engine: Engine, tokens: TokenStore) -> None:
        from passmuster.storage.auth_tables import web_sessions

        self._engine = engine
        self._tokens = tokens
        self._table = web_sessions
        # digest -> (token id, expiry, monotonic time it was read)
        self._seen: dict[str, tuple[int, datetime, float]] = {}

    def start(self, token: TokenInfo) -> str:
        """A new session for `token`; returns the secret for the cookie (never stored)."""
        secret = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with write_transaction(self._engine) as conn:
            conn.execute(delete(self._table).where(self._table.c.expires_at < now))
            conn.execute(
                insert(self._table).values(
                    secret_hash=_digest(secret),
                    token_id=token.id,
                    created_at=now,
                    expires_at=now + MAX_AGE,
                )
            )
        return secret

    def get(self, secret: str | None) -> Session | None:
        """The live session with this secret, or None (unknown, ended, expired, or its token
        revoked)."""
        if not secret or not secret.startswith(SESSION_PREFIX) or len(secret) > 100:
            return None
        digest = _digest(secret)
        seen = self._seen.get(digest)
        if seen is None or time.monotonic() - seen[2] >= CACHE_SECONDS:
            with read_transaction(self._engine) as conn:
                row = conn.execute(
                    select(self._table.c.token_id, self._table.c.expires_at).where(
                        self._table.c.secret_hash == digest
                    )
                ).first()
            if row is None:
                self._seen.pop(digest, None)
                return None
            expires = (
                row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
            )
            seen = (int(row.token_id), expires, time.monotonic())
            self._seen[digest] = seen
        token_id, expires, _ = seen
        if datetime.now(UTC) >= expires:
            return None
        token = self._tokens.by_id(token_id)
        if token is None:
            return None
        return Session(token, csrf_for(secret))

    def end(self, secret: str | None) -> None:
        """End one session (logging out); ending an unknown one is no error."""
        if not secret:
            return
        digest = _digest(secret)
        self._seen.pop(digest, None)
        with write_transaction(self._engine) as conn:
            conn.execute(delete(self._table).where(self._table.c.secret_hash == digest))

    def end_all(self) -> int:
        """End every session of every token; how many there were."""
        self._seen.clear()
        with write_transaction(self._engine) as conn:
            return int(conn.execute(delete(self._table)).rowcount or 0)


def revoke_everything(engine: Engine) -> tuple[tuple[TokenInfo, ...], int]:
    """Revoke every token and end every session: what to do when a secret may have leaked.
    The tokens revoked, and how many sessions ended."""
    tokens = TokenStore(engine)
    return tokens.revoke_all(), SessionStore(engine, tokens).end_all()
