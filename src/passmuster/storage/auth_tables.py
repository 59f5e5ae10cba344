"""Tables for who may use the desk over HTTP: API tokens, and the web's own small settings.

A token's secret is never stored: only its SHA-256, looked up by equality. The secrets are long
random strings, so a plain digest is enough (a slow password hash buys nothing here and would
cost every request).
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text

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

# Key/value settings the web server keeps in the desk so that every `serve` process on one
# desk agrees on them (the session-signing key above all).
web_settings = Table(
    "web_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
