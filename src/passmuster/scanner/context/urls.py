"""URLs found in environment values and code: scheme, driver, host and port."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^\s'\"/?#<>]*)")
_HOST_PORT = re.compile(r"^(\[[^\]]+\]|[^:]*)(?::(\d{1,5}))?$")

DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "ws": 80,
    "wss": 443,
    "redis": 6379,
    "rediss": 6379,
    "amqp": 5672,
    "amqps": 5671,
    "postgresql": 5432,
    "postgres": 5432,
    "mysql": 3306,
    "mariadb": 3306,
    "mongodb": 27017,
}

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1"})


@dataclass(frozen=True, slots=True)
class Url:
    scheme: str  # the dialect for database URLs: `postgresql` in `postgresql+asyncpg`
    driver: str | None  # `asyncpg` in `postgresql+asyncpg`
    user: str | None
    password: str | None = field(repr=False)  # never printed; see secrets.mask
    host: str
    port: int | None  # explicit, else the scheme's default, else None
    explicit_port: bool
    start: int  # offset in the text it was found in

    @property
    def is_http(self) -> bool:
        return self.scheme in {"http", "https", "ws", "wss"}


def find_urls(text: str) -> list[Url]:
    """Every `scheme://[user[:password]@]host[:port]` in `text`; unparsable ones are skipped."""
    found: list[Url] = []
    for match in _URL.finditer(text):
        full_scheme = match.group(1).lower()
        netloc = match.group(2)
        userinfo, _, hostport = netloc.rpartition("@")
        user: str | None = None
        password: str | None = None
        if userinfo:
            user, sep, secret = userinfo.partition(":")
            password = secret if sep and secret else None
        # Several hosts (`mongodb://a:1,b:2`) name the first for our purposes.
        hostport = hostport.split(",")[0]
        parsed = _HOST_PORT.match(hostport)
        if parsed is None or not parsed.group(1):
            continue
        scheme, _, driver = full_scheme.partition("+")
        port_text = parsed.group(2)
        port = int(port_text) if port_text else DEFAULT_PORTS.get(scheme)
        found.append(
            Url(
                scheme=scheme,
                driver=driver or None,
                user=user or None,
                password=password,
                host=parsed.group(1).lower(),
                port=port,
                explicit_port=port_text is not None,
                start=match.start(),
            )
        )
    return found
