"""Container commands: what a `CMD`/`ENTRYPOINT`/compose `command:` starts, never run.

The one reader of commands. `split_command` turns a compose or Dockerfile value into argv
(`exec_form` reads the JSON array form); `read_server` finds the server a command line starts,
looking through `sh -c "…"`, `exec`, `env`, launchers (`tini`, `dumb-init`, `poetry run`),
`&&` chains and `python -m`, and reads the app target, host, port and development switches;
`entry_point` does that for a service's ENTRYPOINT + CMD; `code_port` finds the port an app
passes to `uvicorn.run(…)` in code.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from passmuster.scanner.context.interpolate import TemplateError, interpolate
from passmuster.scanner.context.model import Command, EntryPoint, Instruction

# Servers that listen on a port, and where they listen when no port is given.
DEFAULT_PORTS = {
    "uvicorn": 8000,
    "gunicorn": 8000,
    "hypercorn": 8000,
    "fastapi": 8000,
    "flask": 5000,
    "granian": 8000,
    "daphne": 8000,
}
# (host, port) variables a server reads when its command gives neither.
_ADDRESS_VARIABLES = {
    "flask": ("FLASK_RUN_HOST", "FLASK_RUN_PORT"),
    "uvicorn": ("UVICORN_HOST", "UVICORN_PORT"),
}
QUEUE_WORKERS = frozenset({"celery", "dramatiq", "rq", "arq"})
_SERVERS = frozenset({*DEFAULT_PORTS, *QUEUE_WORKERS})
DEV_FLAGS = frozenset({"--reload", "--debug", "--reload-dir", "--debugger", "--use-reloader"})
_CELERY_COMMANDS = frozenset({"worker", "beat", "flower", "events", "multi", "inspect", "shell"})
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
# Words that run the rest of the line as another command.
_LAUNCHERS = frozenset({"exec", "env", "nice", "tini", "--", "dumb-init", "gosu", "su-exec"})
_SEPARATORS = frozenset({"&&", "||", ";", "|"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_VALUE_FLAGS = frozenset(
    {
        "--host",
        "-h",
        "--port",
        "-p",
        "--bind",
        "-b",
        "--workers",
        "-w",
        "--worker-class",
        "-k",
        "--app-dir",
        "--chdir",
        "--pythonpath",
        "--log-level",
        "--root-path",
        "--env-file",
        "--timeout",
        "-t",
        "-A",
        "--app",
        "-c",
        "--config",
        "--forwarded-allow-ips",
        "-Q",
        "--queues",
        "--concurrency",
        "--loglevel",
        "-l",
        "--uds",
        "--fd",
        "--lifespan",
        "--threads",
        "--reload-dir",
        "--interface",
    }
)


@dataclass(frozen=True, slots=True)
class ServerCommand:
    """What one command line starts (see `read_server`)."""

    server: str  # "uvicorn", "gunicorn", …, "celery", or "python" for a script or module
    target: str | None  # "app.main:app"; for `python x.py` the script path
    module: str | None  # "app.main"
    attribute: str | None  # "app"
    host: str | None  # as given; None when the command sets none (the server's default)
    port: int | None  # as given, else the server's default
    port_text: str | None  # as written, e.g. "${PORT}" before lookup
    flags: tuple[str, ...]  # every option name given
    dev_flags: tuple[str, ...]  # `--reload`, `--debug`, … and "fastapi dev"
    subcommand: str | None = None  # celery's `worker`, `beat`, `flower` …


def split_command(value: object) -> tuple[tuple[str, ...], bool]:
    """(argv, shell form?) for a compose/Dockerfile command given as a string or a list."""
    if isinstance(value, list):
        return tuple(str(v) for v in value), False
    return tuple(_words(str(value))), True


def instruction_command(instruction: Instruction, path: str, origin: str) -> Command:
    """A Dockerfile `CMD`/`ENTRYPOINT` as a Command (exec form, else shell form)."""
    words = parse_exec_form(instruction.value)
    argv, shell = split_command(words if words is not None else instruction.value)
    return Command(argv, instruction.value, path, instruction.line, origin, shell)


def parse_exec_form(text: str) -> list[str] | None:
    """The JSON array of an exec-form `CMD`/`ENTRYPOINT`/`RUN`/`HEALTHCHECK CMD`, else None."""
    text = text.strip()
    if not text.startswith("["):
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
        return parsed
    return None


def entry_point(
    command: Command | None, entrypoint: Command | None, env: Mapping[str, str | None]
) -> EntryPoint | None:
    """The server a service runs, from its ENTRYPOINT + CMD (compose or Dockerfile)."""
    where = command or entrypoint
    if where is None:
        return None
    argv = [*(entrypoint.argv if entrypoint else ()), *(command.argv if command else ())]
    found = read_server(argv, env)
    if found is None:
        return None
    return EntryPoint(
        server=found.server,
        target=found.target,
        module=found.module,
        attribute=found.attribute,
        host=found.host,
        port=found.port,
        port_text=found.port_text,
        flags=found.flags,
        path=where.path,
        line=where.line,
        dev_flags=found.dev_flags,
        subcommand=found.subcommand,
    )


def read_server(
    argv: Sequence[str] | str, env: Mapping[str, str | None] | None = None
) -> ServerCommand | None:
    """The server a command line starts (the last one, in a chain), or None."""
    words = _words(argv) if isinstance(argv, str) else list(argv)
    values = {k: v for k, v in (env or {}).items() if v is not None}
    for segment in reversed(_segments(words)):
        found = _read_segment(segment, values)
        if found is not None:
            return found
    return None


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _segments(words: list[str], depth: int = 0) -> list[list[str]]:
    """Split `sh -c "a && b; c"` and plain `a && b` into simple commands."""
    stripped = _strip_prefix(words)
    if depth < 3 and stripped and stripped[0].rsplit("/", 1)[-1] in _SHELLS:
        script = _shell_script(stripped[1:])
        if script is not None:
            return _segments(_words(script), depth + 1)
    segments: list[list[str]] = [[]]
    for word in words:
        if word in _SEPARATORS:
            segments.append([])
        elif word.endswith(";") and len(word) > 1:
            segments[-1].append(word[:-1])
            segments.append([])
        else:
            segments[-1].append(word)
    return [s for s in segments if s]


def _shell_script(args: list[str]) -> str | None:
    """The script of `sh [-e] -c SCRIPT` (also `-ec`, `-lc`), else None."""
    for index, word in enumerate(args):
        if not word.startswith("-") or word.startswith("--"):
            return None
        if "c" in word[1:]:
            return args[index + 1] if index + 1 < len(args) else ""
    return None


def _strip_prefix(words: list[str]) -> list[str]:
    while words and (
        words[0].rsplit("/", 1)[-1] in _LAUNCHERS or _ASSIGNMENT.match(words[0]) is not None
    ):
        words = words[1:]
    return words


def _server_index(words: list[str]) -> int | None:
    """Where the server starts: `opentelemetry-instrument uvicorn …`, `poetry run gunicorn …`."""
    for index, word in enumerate(words[:4]):
        base = word.rsplit("/", 1)[-1]
        if base in _SERVERS or re.fullmatch(r"python[0-9.]*", base):
            return index
    return None


def _read_segment(segment: list[str], env: Mapping[str, str]) -> ServerCommand | None:
    words = _strip_prefix(segment)
    start = _server_index(words)
    if start is None:
        return None
    server = words[start].rsplit("/", 1)[-1]
    rest = words[start + 1 :]
    if server.startswith("python"):
        if rest[:1] == ["-m"] and len(rest) > 1:
            if rest[1] not in _SERVERS:
                return _python(rest[1], rest[1], rest[2:])
            server, rest = rest[1], rest[2:]
        elif rest and rest[0].endswith(".py"):
            script = rest[0]
            return _python(script, script[:-3].lstrip("./").replace("/", "."), rest[1:])
        else:
            return None
    dev_flags: list[str] = []
    if server in ("flask", "fastapi"):
        # `flask [--app X] run …`, `fastapi run|dev …`: only these start a server.
        subcommands = [w for w in rest if w in ("run", "dev")]
        if not subcommands or (server == "flask" and subcommands[0] != "run"):
            return None
        if subcommands[0] == "dev":
            dev_flags.append("fastapi dev")
        position = rest.index(subcommands[0])
        rest = rest[:position] + rest[position + 1 :]
    return _read_options(server, rest, env, dev_flags)


def _python(target: str, module: str, rest: list[str]) -> ServerCommand:
    flags = tuple(w for w in rest if w.startswith("-"))
    return ServerCommand("python", target, module, None, None, None, None, flags, ())


def _read_options(
    server: str, rest: list[str], env: Mapping[str, str], dev_flags: list[str]
) -> ServerCommand:
    positional: list[str] = []
    options: dict[str, str] = {}
    flags: list[str] = []
    index = 0
    while index < len(rest):
        word = rest[index]
        index += 1
        if not word.startswith("-"):
            positional.append(word)
            continue
        name, eq, value = word.partition("=")
        flags.append(name)
        if name in DEV_FLAGS:
            dev_flags.append(name)
        if eq:
            options[name] = value
        elif name in _VALUE_FLAGS and index < len(rest):
            options[name] = rest[index]
            index += 1
    target: str | None
    if server == "celery":
        target = options.get("-A") or options.get("--app")
    elif server == "flask":
        target = options.get("--app") or env.get("FLASK_APP")
    else:
        target = positional[0] if positional else options.get("--app")
    host = options.get("--host") or options.get("-h")
    port_text = options.get("--port") or options.get("-p")
    bind = options.get("--bind") or options.get("-b")
    if bind and "$" in bind:
        bind = _substituted(bind, env) or bind
    if bind and not bind.startswith(("unix:", "fd://")):
        bind_host, _, bind_port = bind.rpartition(":")
        host = host or bind_host or None
        port_text = port_text or bind_port
    # Servers that read their address from the environment when no option gives it.
    host_variable, port_variable = _ADDRESS_VARIABLES.get(server, (None, None))
    if host is None and host_variable and env.get(host_variable):
        host = env[host_variable]
    if port_text is None and port_variable and env.get(port_variable):
        port_text = env[port_variable]
    if host is not None and "$" in host:
        host = _substituted(host, env) or host
    module, attribute = _split_target(target)
    port = _port(port_text, env)
    if port is None and port_text is None:
        port = DEFAULT_PORTS.get(server)
    subcommand = next((w for w in positional if w in _CELERY_COMMANDS), None)
    return ServerCommand(
        server=server,
        target=target,
        module=module,
        attribute=attribute,
        host=host,
        port=port,
        port_text=port_text,
        flags=tuple(flags),
        dev_flags=tuple(dev_flags),
        subcommand=subcommand if server == "celery" else None,
    )


def _split_target(target: str | None) -> tuple[str | None, str | None]:
    if not target:
        return None, None
    if target.endswith(".py"):
        return target[:-3].lstrip("./").replace("/", "."), None
    module, _, attribute = target.partition(":")
    attribute = attribute.split("(", 1)[0] if attribute else ""
    return module or None, attribute or None


def _substituted(text: str, env: Mapping[str, str]) -> str | None:
    try:
        return interpolate(text, env)
    except TemplateError:
        return None


def _port(text: str | None, env: Mapping[str, str]) -> int | None:
    if text is None:
        return None
    value = _substituted(text, env) if "$" in text else text
    if value is None:
        return None
    try:
        port = int(value)
    except ValueError:
        return None
    return port if 0 < port < 65536 else None


def code_port(tree: ast.Module, env: Mapping[str, str | None]) -> tuple[int, int] | None:
    """(port, line) passed to `uvicorn.run(…, port=…)` in a module, resolving env defaults."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name != "run":
            continue
        for keyword in node.keywords:
            if keyword.arg == "port":
                port = _port_value(keyword.value, env)
                if port is not None:
                    return port, node.lineno
    return None


def _port_value(node: ast.expr, env: Mapping[str, str | None]) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | str):
        try:
            return int(node.value)
        except ValueError:
            return None
    if isinstance(node, ast.Call):
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if fname == "int" and node.args:
            return _port_value(node.args[0], env)
        if fname in ("getenv", "get") and node.args:
            key = node.args[0]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                value = env.get(key.value)
                if value:
                    try:
                        return int(value)
                    except ValueError:
                        return None
            default = node.args[1] if len(node.args) > 1 else None
            for keyword in node.keywords:
                if keyword.arg == "default":
                    default = keyword.value
            return _port_value(default, env) if default is not None else None
    if isinstance(node, ast.Attribute | ast.Name):
        # `port=Config.PORT`, `port=settings.port`: a configuration attribute named after the
        # variable it is read from, which the container's environment sets.
        attribute = node.attr if isinstance(node, ast.Attribute) else node.id
        value = env.get(attribute.upper()) if "PORT" in attribute.upper() else None
        if value and value.isdigit():
            return int(value)
    return None
