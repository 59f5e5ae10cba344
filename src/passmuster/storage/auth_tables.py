"""Tables for who may use the desk over HTTP: API tokens and the pages' login sessions.

Neither a token's secret nor a session's is ever stored: only its SHA-256, looked up by
equality. The secrets are 256 random bits, so a plain digest is enough (a slow password hash
buys nothing here and would cost every request), and whoever reads the desk cannot turn a
digest back into a secret that logs in.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from passmuster.storage.schema import metadata
from passmuster.storage.types import UTCDateTime

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    # The first characters of the secret, so a user can tell tokens apart in `token list`.
    Column("prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

# A logged-in browser: the cookie holds the secret, the desk its digest. Logging out deletes
# the row (so the cookie stops working at once); revoking the token ends its sessions too.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("secret_hash", String(64), primary_key=True),
    Column("token_id", Integer, ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_web_sessions_token_id", "token_id"),
    Index("ix_web_sessions_expires_at", "expires_at"),
)
