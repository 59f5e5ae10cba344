from __future__ import annotations

import re

from passmuster.core.deploy.classify import (
    Classifier,
    Evidence,
    Match,
    around,
    last_match,
    service_for,
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
    }
)
# Raised for more than connections (`OperationalError: no such table`): counted only when the
# message is about reaching the server.
_ALSO_OTHER = frozenset({"OperationalError", "ConnectionError"})
_TEXT = re.compile(
    r"Connection refused|Connect call failed|could not connect to server|"
    r"connection to server at .{0,120}? failed|Error \d+ connecting to|"
    r"Name or service not known|could not translate host name|"
    r"Temporary failure in name resolution|nodename nor servname provided|getaddrinfo failed|"
    r"dependency failed to start|container [\w.-]+ is unhealthy|"
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
)
_ADDRESS = re.compile(r"""\(['"]([^'"]+)['"],\s*(\d{1,5})\)|([\w.-]+):(\d{1,5})|"([\w.-]+)\"""")


class DependencyUnhealthy(Classifier):
    """## What it catches
    A service that cannot start because something it needs is not there: a dependency that
    failed its health probe before the service was started, or output such as `Connection
    refused`, `could not connect to server`, `could not translate host name "postgres"`,
    `Error 111 connecting to redis:6379`, compose's `dependency failed to start`.

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
            return Match(line[:300], traceback_excerpt(text, error), self._subject(evidence, line))
        found = last_match(_TEXT, text, _NEEDLES)
        if found is None:
            return None
        line_start = text.rfind("\n", 0, found.start()) + 1
        line_end = text.find("\n", found.end())
        line = text[line_start : line_end if line_end >= 0 else len(text)].strip()
        return Match(
            line[:300], around(text, found.start(), found.end()), self._subject(evidence, line)
        )

    @staticmethod
    def _subject(evidence: Evidence, line: str) -> str | None:
        known = service_for(evidence.hosts, line)
        if known is not None and known != evidence.service:
            return known
        found = _ADDRESS.search(line)
        if found is None:
            return None
        host = found.group(1) or found.group(3) or found.group(5)
        port = found.group(2) or found.group(4)
        return f"{host}:{port}" if port else host
