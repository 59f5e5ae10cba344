from __future__ import annotations

import re

from passmuster.core.deploy.classify import Classifier, Evidence, Match, around, last_match

_IN_USE = re.compile(
    r"[Aa]ddress already in use|EADDRINUSE|port is already allocated|Connection in use: \(|"
    r"Port \d+ is in use|[Oo]nly one usage of each socket address|"
    r"\[(?:Errno|WinError) (?:98|48|10048)\]|"
    r"is in use by another process",
)
_NEEDLES = (
    "lready in use",
    "EADDRINUSE",
    "port is already allocated",
    "Connection in use: (",
    " is in use",
    "nly one usage of each socket address",
    "[Errno 98]",
    "[Errno 48]",
    " 10048]",  # `[Errno 10048]` and `[WinError 10048]`: one needle, one scan
)
# The port on the error's line: an address tuple, `port N`, `N failed`, or `host:N` whose host
# is an address (not the `08:35` of a time stamp before the message).
_PORT = re.compile(
    r"""\(['"][^'"]*['"],\s*(\d{1,5})\)|[Pp]ort['"]?:? ?(\d{1,5})\b|(\d{1,5}) failed|"""
    r"""(?:(?<![\w.:-])[A-Za-z][\w.-]*|\d{1,3}(?:\.\d{1,3}){3}|\]|\*|::):(\d{1,5})\b"""
)
# When the error's line has no port (uvicorn's bare `[Errno 98] Address already in use`,
# Flask's `Address already in use` with the port on the next line), the server's own
# announcement of where it listens, or Werkzeug's `Port N is in use`, says which.
# Or the command that started it: `--port=8000`, `--port 8000`, `--bind 0.0.0.0:8000`, `-b :8000`.
_LISTEN = re.compile(
    r"(?:[Rr]unning on|[Ll]istening (?:at|on)|[Pp]ort (?P<port>\d{1,5}) is in use)"
    r"(?: (?:https?://)?(?:[\w.-]+|\[[\w:]*\]):(?P<listen>\d{1,5})\b)?|"
    r"(?:--port[= ](?P<flag>\d{1,5})|(?:--bind|-b)[= ]\S*:(?P<bind>\d{1,5}))\b"
)
_AFTER_LINES = 8
_LISTEN_NEEDLES = (
    "unning on ",
    "istening at ",
    "istening on ",
    " is in use",
    "--port",
    "-b ",
    "--bind",
)


class PortInUse(Classifier):
    """## What it catches
    A service that cannot listen because its port is taken: `[Errno 98] Address already in
    use` (uvicorn, gunicorn's `Connection in use`, Flask's `Port 5000 is in use`), Node's
    `EADDRINUSE`, Docker's `Bind for 0.0.0.0:8000 failed: port is already allocated`, and the
    local runner's own check before it starts a service.

    ## Why it happens
    Two services publish or listen on the same port (often copied from one compose entry to
    the next), or an earlier run of the service is still holding it, or a developer's own
    server runs there.

    ## How to fix it
    Give every service its own host port (the scanner's PORT001 finds clashes in the compose
    files before a deploy does), stop the stale process (`passmuster deploy stop SERVICE`,
    `ss -ltnp 'sport = :PORT'` shows who holds it), or change the published port.
    """

    name = "port-in-use"
    title = "Services cannot bind their port: address already in use"
    order = 10
    predicted_by = ("PORT001",)

    def match(self, evidence: Evidence) -> Match | None:
        text = "\n".join(p for p in (evidence.reason, evidence.text) if p)
        found = last_match(_IN_USE, text, _NEEDLES)
        if found is None:
            return None
        line_start = text.rfind("\n", 0, found.start()) + 1
        line_end = text.find("\n", found.end())
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        port = _port(line)
        if port is None and line_start > 1 and text[line_start - 2] == ":":
            # A message wrapped after its colon: `… bind on address ('0.0.0.0', 8000):` over
            # `address already in use`.
            port = _port(text[text.rfind("\n", 0, line_start - 1) + 1 : line_start - 1])
        if port is None:
            # Node prints the error's fields under it (`code: 'EADDRINUSE'`, `port: 5000`), and
            # its message a few lines above them: the lines nearest the error, nearest first.
            port = _port_near(text, line_start, line_end if line_end >= 0 else len(text))
        if port is None:
            listen = last_match(_LISTEN, text, _LISTEN_NEEDLES)
            if listen is None:
                # The announcement may come after the error (uvicorn logs both on shutdown), a
                # few lines on at most.
                stop = found.end()
                for _ in range(_AFTER_LINES):
                    stop = text.find("\n", stop + 1)
                    if stop < 0:
                        stop = len(text)
                        break
                listen = _LISTEN.search(text, found.end(), stop)
            if listen is not None:
                port = next(
                    (
                        listen.group(g)
                        for g in ("port", "listen", "flag", "bind")
                        if listen.group(g)
                    ),
                    None,
                )
        summary = f"port {port} is already in use" if port else "address already in use"
        return Match(summary, around(text, found.start(), found.end()), port)


def _port(line: str) -> str | None:
    return next(
        (g for m in _PORT.finditer(line) for g in m.groups() if g and 0 < int(g) < 65536),
        None,
    )


def _port_near(text: str, line_start: int, line_end: int) -> str | None:
    """A port on the lines around the error's line, the nearest first (up to _NEAR_LINES)."""
    above = text[max(0, line_start - 2000) : max(0, line_start - 1)].splitlines()[-_NEAR_LINES:]
    below = text[line_end + 1 : line_end + 2000].splitlines()[:_NEAR_LINES]
    for distance in range(_NEAR_LINES):
        for lines, index in ((below, distance), (above, len(above) - 1 - distance)):
            if 0 <= index < len(lines):
                found = _NEAR_PORT.search(lines[index])
                if found is not None:
                    return next(g for g in found.groups() if g)
    return None


_NEAR_LINES = 5
# On the lines around, only the spellings that can be nothing but a port: an address tuple,
# `port 5000` / `port: 5000` / `"port": 3000`, an IP or `::` or `*` or localhost before it
# (not `task_queues:95` or `manager.py:120`, a source file and a line).
_NEAR_PORT = re.compile(
    r"""\(['"][^'"]*['"],\s*(\d{1,5})\)|\b[Pp]ort['"]?:? ?(\d{1,5})\b|"""
    r"""(?:\b\d{1,3}(?:\.\d{1,3}){3}|::|\*|\blocalhost):(\d{1,5})\b"""
)
