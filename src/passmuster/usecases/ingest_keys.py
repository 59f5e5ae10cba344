"""DSN keys: how a service's Sentry SDK proves it may send errors, and nothing else.

Each service (a Sentry "project", its id the service's id) has at most one active key. The key
only ingests: it is no API token and opens no page. `dsn_for` makes one on first use and hands
the same back afterwards, so `passmuster service dsn NAME` prints the DSN again whenever asked;
`revoke` ends it (and the next `dsn_for` makes a new one). A server trusts a key it has just
checked for CACHE_SECONDS, as it does tokens, so a revocation made by another process takes
effect within that time.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import Connection

from passmuster.core.catalog import Service, check_service_name
from passmuster.errors import AuthError, InvalidValue, NotFound
from passmuster.storage import error_store as store
from passmuster.storage.error_store import KeyRow
from passmuster.usecases.desk import Desk

CACHE_SECONDS = 2.0
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True, slots=True)
class Dsn:
    service: str
    project_id: int
    public_key: str
    base_url: str
    created: bool  # made by this call (else the service already had it)

    def __str__(self) -> str:
        parts = urlsplit(self.base_url)
        path = parts.path.rstrip("/")
        return f"{parts.scheme}://{self.public_key}@{parts.netloc}{path}/{self.project_id}"


def check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise InvalidValue("server URL", base_url, ["an http(s) URL such as http://127.0.0.1:8000"])
    return base_url.strip()


class IngestKeys:
    """DSN keys on a desk. Thread-safe: each call uses its own connection."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._cache: dict[str, tuple[KeyRow | None, float]] = {}

    def dsn_for(self, service: str, *, actor: str, base_url: str = DEFAULT_BASE_URL) -> Dsn:
        """The service's DSN; the service is added to the catalog, and its key made, when
        missing."""
        check_service_name(service)
        base_url = check_base_url(base_url)
        now = datetime.now(UTC)
        with self.desk.transaction():
            try:
                self.desk.get_service(service)
            except NotFound:
                self.desk.ensure_service(Service(name=service, source="errors"))

            def work(c: Connection) -> tuple[int, str, bool]:
                service_id = store.service_id(c, service)
                assert service_id is not None
                key = store.active_key(c, service_id)
                if key is not None:
                    return service_id, key.public_key, False
                public = secrets.token_hex(16)
                store.insert_key(c, service_id, public, now=now, created_by=actor)
                return service_id, public, True

            service_id, public, created = self.desk.write(work)
        return Dsn(service, service_id, public, base_url, created)

    def revoke(self, service: str) -> int:
        """Revoke the service's key; returns how many keys were revoked (0: it had none)."""
        self.desk.get_service(service)  # NotFound names it
        now = datetime.now(UTC)

        def work(c: Connection) -> int:
            service_id = store.service_id(c, service)
            assert service_id is not None
            return store.revoke_keys(c, service_id, now=now)

        revoked = self.desk.write(work)
        self._cache.clear()
        return revoked

    def authenticate(self, project_id: int, public_key: str | None) -> KeyRow:
        """The active key `public_key` of project `project_id`, or AuthError (401)."""
        if not public_key:
            raise AuthError(
                "no DSN key: send X-Sentry-Auth: Sentry sentry_key=<key> (the DSN's user part)"
            )
        cached = self._cache.get(public_key)
        if cached is not None and time.monotonic() - cached[1] < CACHE_SECONDS:
            row = cached[0]
        else:
            row = self.desk.read(lambda c: store.find_key(c, public_key))
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[public_key] = (row, time.monotonic())
        if row is None:
            raise AuthError("unknown DSN key")
        if row.revoked_at is not None:
            raise AuthError(f"the DSN key of {row.service} was revoked")
        if row.service_id != project_id:
            raise AuthError(f"this DSN key is not the key of project {project_id}")
        return row
