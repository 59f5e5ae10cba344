"""What a container command starts: which server, which app, on which host and port.

Reads `CMD`/`ENTRYPOINT`/compose `command:` as argv lists or shell strings, looking through
`sh -c`, `exec`, `&&` chains and `python -m`. Only the options that decide where the server
listens and how it runs are interpreted; anything unknown leaves the field as None.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

SERVERS = frozenset({"uvicorn", "gunicorn", "hypercorn", "flask", "fastapi", "daphne", "granian"})
# Where each server listens when no host is given.
DEFAULT_HOST = {
    "uvicorn": "127.0.0.1",
    "gunicorn": "127.0.0.1",
    "hypercorn": "127.0.0.1",
    "flask": "127.0.0.1",
    "daphne": "127.0.0.1",
    "granian": "127.0.0.1",
}
DEFAULT_PORT = {
    "uvicorn": 8000,
    "gunicorn": 8000,
    "hypercorn": 8000,
    "flask": 5000,
    "fastapi": 8000,
    "daphne": 8000,
    "granian": 8000,
}
DEV_FLAGS = frozenset({"--reload", "--debug", "--reload-dir", "--debugger", "--use-reloader"})
_VAR_DEFAULT = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}")


@dataclass(slots=True)
class ServerCommand:
    server: str
    app: str | None = None
    host: str | None = None  # as given, else the server's default (see host_explicit)
    host_explicit: bool = False
    port: int | None = None
    port_explicit: bool = False
    dev_flags: list[str] = field(default_factory=list)
    factory: bool = False
    config_file: bool = False  # a server config file may set the bind: host/port unknown
    unix_socket: bool = False


def _words(command: list[str] | str) -> list[str]:
    if isinstance(command, str):
        try:
            return shlex.split(command, comments=False)
        except ValueError:
            return command.split()
    return list(command)


def _segments(argv: list[str]) -> list[list[str]]:
    """Split `sh -c "a && b; c"` and plain `a && b` into commands."""
    if (
        len(argv) >= 3
        and argv[0].rsplit("/", 1)[-1] in {"sh", "bash", "ash"}
        and argv[1]
        in {
            "-c",
            "-ec",
            "-ex",
        }
    ):
        return _segments(_words(argv[2]))
    segments: list[list[str]] = [[]]
    for word in argv:
        if word in {"&&", "||", ";", "|"}:
            segments.append([])
        elif word.endswith(";") and len(word) > 1:
            segments[-1].append(word[:-1])
            segments.append([])
        else:
            segments[-1].append(word)
    return [s for s in segments if s]


def _value(text: str) -> str:
    """`${PORT:-8000}` and `${PORT-8000}` mean 8000 when nothing else is known."""
    return _VAR_DEFAULT.sub(lambda m: m.group(1), text)


def _port(text: str) -> int | None:
    text = _value(text)
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else None


def _split_bind(bind: str) -> tuple[str | None, int | None, bool]:
    bind = _value(bind)
    if bind.startswith(("unix:", "fd://")):
        return None, None, True
    host, sep, port = bind.rpartition(":")
    if not sep:
        return bind or None, None, False
    return host or None, _port(port), False


def _strip_launcher(words: list[str]) -> list[str]:
    while words and words[0] in {"exec", "env", "nice", "tini", "--", "dumb-init"}:
        words = words[1:]
    while words and "=" in words[0] and not words[0].startswith("-"):
        words = words[1:]  # VAR=value prefixes
    if len(words) >= 3 and re.match(r"^(.*/)?python[0-9.]*$", words[0]) and words[1] == "-m":
        return words[2:]
    if words:
        words = [words[0].rsplit("/", 1)[-1], *words[1:]]
    return words


def parse_server_command(command: list[str] | str | None) -> ServerCommand | None:
    """The server a command starts, or None when it starts none we know."""
    if not command:
        return None
    for segment in reversed(_segments(_words(command))):
        words = _strip_launcher(segment)
        if words and words[0] in SERVERS:
            return _parse(words[0], words[1:])
    return None


def _parse(server: str, args: list[str]) -> ServerCommand | None:
    result = ServerCommand(server=server)
    if server in {"flask", "fastapi"}:
        # `flask [--app X] run ...`, `fastapi run|dev ...`: only these start a server.
        subcommands = [w for w in args if w in {"run", "dev"}]
        if not subcommands or (server == "flask" and subcommands[0] != "run"):
            return None
        if subcommands[0] == "dev":
            result.dev_flags.append("fastapi dev")
        args = [w for w in args if w is not subcommands[0]]
    positional: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        name, eq, inline = word.partition("=")
        takes_value = (
            name
            in {
                "--host",
                "-h",
                "--port",
                "-p",
                "--bind",
                "-b",
                "--app",
                "-c",
                "--config",
                "--workers",
                "-w",
                "-k",
                "--worker-class",
                "--log-level",
                "--reload-dir",
                "--uds",
                "--fd",
                "--root-path",
                "--proxy-headers",
                "--env-file",
                "--timeout",
                "--interface",
            }
            and name != "--proxy-headers"
        )
        value: str | None = None
        if eq and name.startswith("-"):
            value = inline
        elif takes_value and index + 1 < len(args):
            value = args[index + 1]
            index += 1
        index += 1
        if name in DEV_FLAGS:
            result.dev_flags.append(name)
            continue
        if not name.startswith("-"):
            positional.append(word)
            continue
        if value is None:
            if name == "--factory":
                result.factory = True
            continue
        if name in {"--host", "-h"} and server != "gunicorn":
            result.host, result.host_explicit = _value(value), True
        elif name in {"--port", "-p"}:
            result.port, result.port_explicit = _port(value), True
        elif name in {"--bind", "-b"}:
            host, port, sock = _split_bind(value)
            result.unix_socket = result.unix_socket or sock
            if host is not None:
                result.host, result.host_explicit = host, True
            if port is not None:
                result.port, result.port_explicit = port, True
        elif name == "--app":
            result.app = value
        elif name in {"-c", "--config"}:
            result.config_file = True
        elif name in {"--uds", "--fd"}:
            result.unix_socket = True
    if positional and (result.app is None or server == "fastapi"):
        result.app = positional[0]
    if not result.host_explicit:
        result.host = (
            "0.0.0.0"
            if (server == "fastapi" and not result.dev_flags)
            else (DEFAULT_HOST.get(server))
        )
    if not result.port_explicit:
        result.port = DEFAULT_PORT.get(server)
    return result
