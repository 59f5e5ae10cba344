"""API tokens: created once and shown once, stored hashed, checked on every request, revocable.

Roles form a ladder: each one may do everything the ones below it may.

    reader       reads everything
    reporter     + files issues and comments
    coordinator  + triages, edits, transitions, links, claims, edits services, records scans
    admin        + manages tokens and configuration
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from passmuster.errors import AuthError, Conflict, Forbidden, InvalidValue, NotFound
from passmuster.storage.engine import read_transaction, write_transaction

TOKEN_PREFIX = "pm_"
# A token once checked is trusted for this long without reading it again: a request saves a
# database read, and a revocation made by another process takes effect within this time (one
# made through this store, at once).
CACHE_SECONDS = 2.0
# Writing `last_used_at` on every request would turn every read into a write; once a minute
# per token says the same to a person.
_TOUCH_EVERY = timedelta(minutes=1)


class Role(enum.StrEnum):
    READER = "reader"
    REPORTER = "reporter"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise InvalidValue("role", value, [r.value for r in cls]) from None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as anyone may see it: never its secret."""

    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def require(self, needed: Role) -> None:
        """Raise Forbidden (403) unless this token's role reaches `needed`."""
        if not self.role.allows(needed):
            raise Forbidden(
                f"token {self.name!r} has role {self.role.value}; this needs {needed.value}"
            )


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class TokenStore:
    """Tokens in the desk's database. Thread-safe: each call uses its own connection."""

    def __init__(self, engine: Engine) -> None:
        from passmuster.storage.auth_tables import api_tokens

        self._engine = engine
        self._table = api_tokens
        self._touched: dict[int, datetime] = {}
        # hash or id -> (token, monotonic time it was read): see CACHE_SECONDS.
        self._by_hash: dict[str, tuple[TokenInfo, float]] = {}
        self._by_id: dict[int, tuple[TokenInfo, float]] = {}

    def create(self, name: str, role: Role | str, *, created_by: str) -> tuple[TokenInfo, str]:
        """A new token and its secret. The secret is returned here and never again."""
        name = name.strip()
        if not name or len(name) > 128:
            raise InvalidValue("name", name, ["a name of 1 to 128 characters"])
        role = Role.parse(role) if isinstance(role, str) else role
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        try:
            with write_transaction(self._engine) as conn:
                conn.execute(
                    insert(self._table).values(
                        name=name,
                        role=role.value,
                        token_hash=hash_secret(secret),
                        prefix=secret[: len(TOKEN_PREFIX) + 6],
                        created_at=now,
                        created_by=created_by,
                    )
                )
        except IntegrityError:
            raise Conflict(
                f"a token named {name!r} already exists; choose another name", field="name"
            ) from None
        return self.get(name), secret

    def get(self, name: str) -> TokenInfo:
        with read_transaction(self._engine) as conn:
            row = conn.execute(select(self._table).where(self._table.c.name == name)).first()
        if row is None:
            raise NotFound(f"no token named {name!r}", field="name")
        return self._info(row._mapping)

    def tokens(self, *, include_revoked: bool = True) -> list[TokenInfo]:
        query = select(self._table).order_by(self._table.c.id)
        if not include_revoked:
            query = query.where(self._table.c.revoked_at.is_(None))
        with read_transaction(self._engine) as conn:
            return [self._info(row._mapping) for row in conn.execute(query)]

    def revoke(self, name: str) -> TokenInfo:
        """Revoke a token by name; revoking twice is an error that says so."""
        now = datetime.now(UTC)
        with write_transaction(self._engine) as conn:
            result = conn.execute(
                update(self._table)
                .where(self._table.c.name == name, self._table.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        if result.rowcount != 1:
            info = self.get(name)  # NotFound when there is no such token
            raise Conflict(f"token {info.name!r} was already revoked", field="name")
        self._by_hash.clear()
        self._by_id.clear()
        return self.get(name)

    def revoke_all(self) -> tuple[TokenInfo, ...]:
        """Revoke every active token (after a leak); the ones revoked now."""
        now = datetime.now(UTC)
        active = self.tokens(include_revoked=False)
        with write_transaction(self._engine) as conn:
            conn.execute(
                update(self._table).where(self._table.c.revoked_at.is_(None)).values(revoked_at=now)
            )
        self._by_hash.clear()
        self._by_id.clear()
        return tuple(active)

    def authenticate(self, secret: str | None) -> TokenInfo:
        """The active token with this secret, or AuthError (401)."""
        if not secret:
            raise AuthError("authentication required: send 'Authorization: Bearer <token>'")
        digest = hash_secret(secret)
        cached = self._by_hash.get(digest)
        if cached is not None and time.monotonic() - cached[1] < CACHE_SECONDS:
            return cached[0]
        with read_transaction(self._engine) as conn:
            row = conn.execute(
                select(self._table).where(self._table.c.token_hash == digest)
            ).first()
        if row is None:
            raise AuthError("unknown token")
        info = self._info(row._mapping)
        if not info.active:
            raise AuthError(f"token {info.name!r} was revoked")
        self._touch(info)
        self._by_hash[digest] = (info, time.monotonic())
        return info

    def by_id(self, token_id: int) -> TokenInfo | None:
        """The active token with this id (sessions remember the id, not the secret)."""
        cached = self._by_id.get(token_id)
        if cached is not None and time.monotonic() - cached[1] < CACHE_SECONDS:
            return cached[0]
        with read_transaction(self._engine) as conn:
            row = conn.execute(select(self._table).where(self._table.c.id == token_id)).first()
        if row is None:
            return None
        info = self._info(row._mapping)
        if not info.active:
            return None
        self._by_id[token_id] = (info, time.monotonic())
        return info

    def _touch(self, info: TokenInfo) -> None:
        now = datetime.now(UTC)
        last = self._touched.get(info.id) or info.last_used_at
        if last is not None and now - last < _TOUCH_EVERY:
            return
        self._touched[info.id] = now
        with write_transaction(self._engine) as conn:
            conn.execute(
                update(self._table).where(self._table.c.id == info.id).values(last_used_at=now)
            )

    @staticmethod
    def _info(row: object) -> TokenInfo:
        data = dict(row)  # type: ignore[call-overload]
        return TokenInfo(
            id=int(data["id"]),
            name=str(data["name"]),
            role=Role(data["role"]),
            prefix=str(data["prefix"]),
            created_at=_utc(data["created_at"]) or datetime.now(UTC),
            created_by=str(data["created_by"]),
            last_used_at=_utc(data["last_used_at"]),
            revoked_at=_utc(data["revoked_at"]),
        )
