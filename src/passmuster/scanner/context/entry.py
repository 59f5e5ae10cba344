"""How a service starts, read from its command: server, app target, host, port and flags.

Also finds the port an app passes to `uvicorn.run(...)` in code, with the default of an
`os.getenv("PORT", "8000")` lookup. Nothing is imported or run.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Mapping

from passmuster.scanner.context.interpolate import TemplateError, interpolate
from passmuster.scanner.context.model import Command, EntryPoint

_DEFAULT_PORTS = {
    "uvicorn": 8000,
    "gunicorn": 8000,
    "hypercorn": 8000,
    "fastapi": 8000,
    "flask": 5000,
    "granian": 8000,
    "daphne": 8000,
}
_SERVERS = (*_DEFAULT_PORTS, "celery", "python", "dramatiq", "rq", "arq")
_SHELLS = frozenset({"sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/env", "ash", "dash"})
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
        "--proxy-headers",
        "-Q",
        "--queues",
        "--concurrency",
        "--loglevel",
        "-l",
        "--uds",
        "--lifespan",
        "--threads",
    }
)


def split_command(value: object) -> tuple[tuple[str, ...], bool]:
    """(argv, shell form?) for a compose/Dockerfile command given as a string or a list."""
    if isinstance(value, list):
        return tuple(str(v) for v in value), False
    text = str(value)
    try:
        return tuple(shlex.split(text)), True
    except ValueError:
        return tuple(text.split()), True


def entry_point(
    command: Command | None, entrypoint: Command | None, env: Mapping[str, str | None]
) -> EntryPoint | None:
    """The app server the service runs, from ENTRYPOINT + CMD (compose or Dockerfile)."""
    argv: list[str] = []
    where = command or entrypoint
    if where is None:
        return None
    if entrypoint is not None:
        argv.extend(entrypoint.argv)
    if command is not None:
        argv.extend(command.argv)
    words = _innermost(argv)
    if not words:
        return None
    values = {k: v for k, v in env.items() if v is not None}
    return _read(words, values, where)


def _innermost(argv: list[str]) -> list[str]:
    """Unwrap `sh -c "…"`, `exec`, env assignments and `&&` chains down to the server command."""
    words = list(argv)
    for _ in range(3):
        if words and words[0].rsplit("/", 1)[-1] in {s.rsplit("/", 1)[-1] for s in _SHELLS}:
            if words[0].endswith("env"):
                words = words[1:]
                continue
            if "-c" in words:
                script = words[words.index("-c") + 1] if words.index("-c") + 1 < len(words) else ""
                try:
                    tokens = shlex.split(script)
                except ValueError:
                    tokens = script.split()
                chunks: list[list[str]] = [[]]
                for token in tokens:
                    if token in ("&&", ";", "||", "|"):
                        chunks.append([])
                    else:
                        chunks[-1].append(token)
                found = [c for c in chunks if c and _server_index(c) is not None]
                words = found[-1] if found else chunks[-1]
                continue
        break
    while words and (words[0] == "exec" or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0])):
        words = words[1:]
    return words


def _server_index(words: list[str]) -> int | None:
    for i, word in enumerate(words[:4]):
        base = word.rsplit("/", 1)[-1]
        if base in _SERVERS or base.startswith("python"):
            return i
    return None


def _read(words: list[str], env: Mapping[str, str], where: Command) -> EntryPoint | None:
    start = _server_index(words)
    if start is None:
        return None
    server = words[start].rsplit("/", 1)[-1]
    rest = words[start + 1 :]
    if server.startswith("python"):
        if rest[:1] == ["-m"] and len(rest) > 1:
            module = rest[1]
            if module in _SERVERS:
                server = module
                rest = rest[2:]
            else:
                return _build("python", module, module, None, None, None, (), where, rest)
        elif rest and rest[0].endswith(".py"):
            script = rest[0]
            module = script[:-3].lstrip("./").replace("/", ".")
            return _build("python", script, module, None, None, None, (), where, rest[1:])
        else:
            return None
    if server == "fastapi" and rest[:1] in (["run"], ["dev"]):
        rest = [*rest[1:], "--reload"] if rest[0] == "dev" else rest[1:]
    if server == "flask" and rest[:1] == ["run"]:
        rest = rest[1:]
    positional: list[str] = []
    options: dict[str, str] = {}
    flags: list[str] = []
    i = 0
    while i < len(rest):
        word = rest[i]
        if word.startswith("-"):
            name, eq, value = word.partition("=")
            if eq:
                options[name] = value
                flags.append(name)
            elif name in _VALUE_FLAGS and i + 1 < len(rest):
                options[name] = rest[i + 1]
                flags.append(name)
                i += 1
            else:
                flags.append(name)
        else:
            positional.append(word)
        i += 1
    target: str | None = None
    if server == "celery":
        target = options.get("-A") or options.get("--app")
    elif server in ("flask",):
        target = options.get("--app") or env.get("FLASK_APP")
    elif positional:
        target = positional[0]
    host: str | None = options.get("--host") or options.get("-h")
    port_text = options.get("--port") or options.get("-p")
    bind = options.get("--bind") or options.get("-b")
    if bind and not bind.startswith("unix:"):
        bind_host, _, bind_port = bind.rpartition(":")
        host = host or bind_host or None
        port_text = port_text or bind_port
    target_module, attribute = _split_target(target)
    port = _port(port_text, env)
    if port is None and port_text is None and server in _DEFAULT_PORTS:
        port = _DEFAULT_PORTS[server]
    return EntryPoint(
        server=server,
        target=target,
        module=target_module,
        attribute=attribute,
        host=host,
        port=port,
        port_text=port_text,
        flags=tuple(flags),
        path=where.path,
        line=where.line,
    )


def _build(
    server: str,
    target: str,
    module: str,
    host: str | None,
    port: int | None,
    port_text: str | None,
    flags: tuple[str, ...],
    where: Command,
    rest: list[str],
) -> EntryPoint:
    extra = tuple(w for w in rest if w.startswith("-"))
    return EntryPoint(
        server,
        target,
        module,
        None,
        host,
        port,
        port_text,
        (*flags, *extra),
        where.path,
        where.line,
    )


def _split_target(target: str | None) -> tuple[str | None, str | None]:
    if not target:
        return None, None
    if target.endswith(".py"):
        return target[:-3].lstrip("./").replace("/", "."), None
    module, _, attribute = target.partition(":")
    attribute = attribute.split("(", 1)[0] if attribute else ""
    return module or None, attribute or None


def _port(text: str | None, env: Mapping[str, str]) -> int | None:
    if text is None:
        return None
    value = text
    if "$" in value:
        try:
            value = interpolate(value, env)
        except TemplateError:
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
    return None
