from __future__ import annotations

import re

from passmuster.core.deploy.classify import (
    LINE_PREFIX,
    Classifier,
    Evidence,
    Match,
    around,
    last_match,
    service_for,
    strip_prefix,
    traceback_excerpt,
)

_CONNECT_ERRORS = frozenset(
    {
        "ConnectionRefusedError",
        "ConnectionError",
        "ConnectError",
        "OperationalError",
        "gaierror",
        "ServerSelectionTimeoutError",
        "AMQPConnectionError",
        "CannotConnectNowError",
        "NoBrokersAvailable",
    }
)
# Raised for more than connections (`OperationalError: no such table`): counted only when the
# message is about reaching the server.
_ALSO_OTHER = frozenset({"OperationalError", "ConnectionError"})
# One of those exceptions alone on its line, when no traceback head came with it (a paste cut
# at the top, a logger that indents it): `pika.exceptions.AMQPConnectionError`.
_ONLY_CONNECT = sorted(_CONNECT_ERRORS - _ALSO_OTHER)
_EXCEPTION_LINE = re.compile(
    rf"{LINE_PREFIX}(?:[A-Za-z_][\w]*\.)*(?P<type>{'|'.join(_ONLY_CONNECT)})\b(?::.*)?$", re.M
)
_TEXT = re.compile(
    r"Connection refused|Connect call failed|could not connect to server|"
    # libpq's "connection to server at … failed: FATAL: password authentication failed" is
    # the server answering: it is reachable, and the failure is of another kind. (Atomic, so
    # the pattern cannot reach on to the "authentication failed" further along the line.)
    r"(?>connection to server at .{0,120}? failed)(?!:\s*FATAL)|Error \d+ connecting to|"
    r"Name or service not known|could not translate host name|"
    r"Temporary failure in name resolution|nodename nor servname provided|getaddrinfo failed|"
    r"dependency failed to start|container [\w.-]+ is unhealthy|"
    # nginx (and the proxies built on it) naming an upstream that does not resolve.
    r"host not found in upstream|"
    # Celery and kombu's consumer retrying a broker, whatever the reason it gives (refused,
    # timed out, a localised Windows message).
    r"Cannot connect to [a-z][a-z0-9+.-]*://|"
    # MongoDB's drivers: pymongo's `No servers found yet`, `Server selection timed out` (node).
    r"No servers found yet|[Ss]erver selection timed out|"
    r"[Cc]onnection (?:timed out|reset by peer) .{0,60}?\d{2,5}",
)
_NEEDLES = (
    "Connection refused",
    "Connect call failed",
    "could not connect to server",
    "connection to server at",
    " connecting to ",
    "Name or service not known",
    "could not translate host name",
    "Temporary failure in name resolution",
    "nodename nor servname provided",
    "getaddrinfo failed",
    "dependency failed to start",
    " is unhealthy",
    "onnection timed out",
    "onnection reset by peer",
    "Cannot connect to ",
    "host not found in upstream",
    "No servers found yet",
    "erver selection timed out",
)
# Where the dependency is, in the order a line's spellings are trusted: libpq's own (`connection
# to server at "db" (172.18.0.2), port 5432 failed`, and `Is the server running on host "db" …
# TCP/IP connections on port 5432?` on the indented lines after the error), a URL (its user and
# password skipped), a Python address tuple, `host name "db"`, compose's `container db …`, a
# `host:port` whose host is a name or an IPv4 address (not `consumer.py:493`, not `13:35` of a
# time stamp), and last any quoted word.
_ADDRESSES = (
    re.compile(r'\bat "(?P<host>[^"\s]+)"(?: \([^)\n]*\))?, port (?P<port>\d{1,5}) failed'),
    re.compile(
        r'\bon host "(?P<host>[^"\s]+)"(?: \([^)\n]*\))? and accepting\s+'
        r"TCP/IP connections on port (?P<port>\d{1,5})"
    ),
    re.compile(
        r"\b[a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?(?P<host>[\w.-]+)(?::(?P<port>\d{1,5}))?(?!\w)"
    ),
    re.compile(r"""\(['"](?P<host>[^'"]+)['"],\s*(?P<port>\d{1,5})\)"""),
    re.compile(r"""\bhost(?: name)? ["'](?P<host>[\w.-]+)["']"""),
    re.compile(r"\bcontainer (?P<host>[\w.-]+) (?:is unhealthy|exited|has no healthcheck)"),
    re.compile(
        r"(?<![\w.:/-])(?P<host>[A-Za-z][\w-]*(?:\.[\w-]+)*|\d{1,3}(?:\.\d{1,3}){3})"
        r":(?P<port>\d{1,5})\b"
    ),
    re.compile(r'"(?P<host>[\w.-]+)"'),
)
# `consumer.py:493`, `app.js:12`: a source file and a line, not a host and a port.
_SOURCE_FILE = re.compile(r"\.(?:py|pyc|js|ts|go|rb|java|rs|c|cc|h|sh|conf|ya?ml|toml|ini)$")


class DependencyUnhealthy(Classifier):
    """## What it catches
    A service that cannot start because something it needs is not there: a dependency that
    failed its health probe before the service was started, or output such as `Connection
    refused`, `could not connect to server`, `could not translate host name "postgres"`,
    `Error 111 connecting to redis:6379`, a Celery consumer's `Cannot connect to amqp://…`,
    Kafka's `NoBrokersAvailable`, MongoDB's `No servers found yet`, nginx's `host not found in
    upstream`, compose's `dependency failed to start`.

    ## Why it happens
    The dependency is down or still starting, the service does not declare it under
    `depends_on` (so nothing waits for it), or it dials an address that only works on a
    developer's laptop (`localhost:8001` inside a container).

    ## How to fix it
    Bring the dependency up first (`passmuster deploy DEPENDENCY`), declare it under
    `depends_on` with `condition: service_healthy`, make the service retry its connection at
    start-up, and address other services by their compose name. The scanner's REF003
    (undeclared dependency), PORT003 (unknown service target) and CODE005 (hard-coded
    localhost URL) point at these.
    """

    name = "dependency-unhealthy"
    title = "Services cannot start: a dependency is unhealthy or unreachable"
    order = 60
    predicted_by = ("REF003", "PORT003", "CODE005")

    def match(self, evidence: Evidence) -> Match | None:
        if evidence.unhealthy_dependencies:
            first = evidence.unhealthy_dependencies[0]
            why = evidence.reason or f"{first} did not pass its health probe"
            return Match(why, why, first)
        text = evidence.text
        error = evidence.python_error
        if error is not None and (
            error.type in _CONNECT_ERRORS - _ALSO_OTHER
            or (error.type in _ALSO_OTHER and _TEXT.search(error.message) is not None)
        ):
            line = f"{error.qualified}: {error.message}"
            where = f"{line}\n{_continuation(text, error.end)}"
            return Match(line[:300], traceback_excerpt(text, error), self._subject(evidence, where))
        found = last_match(_TEXT, text, _NEEDLES)
        if found is None and error is None:
            found = last_match(_EXCEPTION_LINE, text, tuple(_ONLY_CONNECT))
        if found is None:
            return None
        line_start = text.rfind("\n", 0, found.start()) + 1
        line_end = text.find("\n", found.end())
        line = text[line_start : line_end if line_end >= 0 else len(text)].strip()
        where = f"{line}\n{_continuation(text, line_end)}" if line_end >= 0 else line
        return Match(
            line[:300], around(text, found.start(), found.end()), self._subject(evidence, where)
        )

    @staticmethod
    def _subject(evidence: Evidence, line: str) -> str | None:
        known = service_for(evidence.hosts, line)
        if known is not None and known != evidence.service:
            return known
        for pattern in _ADDRESSES:
            for found in pattern.finditer(line):
                host = found.group("host")
                if _SOURCE_FILE.search(host):
                    continue
                port = found.groupdict().get("port")
                return f"{host}:{port}" if port else host
        return None


def _continuation(text: str, pos: int) -> str:
    """The indented lines right after `pos` (without collectors' prefixes): libpq puts the host
    and port of a refused connection there, under its one-line error."""
    kept: list[str] = []
    for raw in text[pos + 1 : pos + 1 + 600].splitlines()[:3]:
        line = strip_prefix(raw)
        if not line[:1].isspace():
            break
        kept.append(line)
    return "\n".join(kept)
