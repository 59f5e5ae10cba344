"""Reading a service's server, app target, host and port from its command."""

from __future__ import annotations

import ast

import pytest

from passmuster.scanner.context.commands import code_port, entry_point, split_command
from passmuster.scanner.context.model import Command, EntryPoint


def _entry(value: object, env: dict[str, str | None] | None = None) -> EntryPoint | None:
    argv, shell = split_command(value)
    command = Command(argv, str(value), "compose.yaml", 7, "compose-command", shell)
    return entry_point(command, None, env or {})


@pytest.mark.parametrize(
    ("command", "server", "target", "host", "port"),
    [
        (
            "uvicorn app.main:app --host 0.0.0.0 --port 8001",
            "uvicorn",
            "app.main:app",
            "0.0.0.0",
            8001,
        ),
        (["uvicorn", "app.main:app"], "uvicorn", "app.main:app", None, 8000),
        (
            "gunicorn -k uvicorn.workers.UvicornWorker -b 0.0.0.0:9000 svc.api:app",
            "gunicorn",
            "svc.api:app",
            "0.0.0.0",
            9000,
        ),
        (
            "gunicorn --bind=127.0.0.1:7000 wsgi:application",
            "gunicorn",
            "wsgi:application",
            "127.0.0.1",
            7000,
        ),
        ("python -m uvicorn main:app --port=8123", "uvicorn", "main:app", None, 8123),
        ("fastapi run app/main.py --port 8080", "fastapi", "app/main.py", None, 8080),
        ("flask run --host 0.0.0.0", "flask", None, "0.0.0.0", 5000),
        ("celery -A app.worker worker --loglevel=info", "celery", "app.worker", None, None),
        (
            "sh -c 'alembic upgrade head && exec uvicorn app.main:app --port 8002'",
            "uvicorn",
            "app.main:app",
            None,
            8002,
        ),
        ("python app/main.py", "python", "app/main.py", None, None),
    ],
)
def test_it_reads_the_server_from_the_command(
    command: object, server: str, target: str | None, host: str | None, port: int | None
) -> None:
    entry = _entry(command)
    assert entry is not None
    assert (entry.server, entry.target, entry.host, entry.port) == (server, target, host, port)
    assert (entry.path, entry.line) == ("compose.yaml", 7)


def test_a_port_from_the_environment_is_looked_up() -> None:
    entry = _entry("sh -c 'uvicorn app.main:app --port ${PORT:-8000}'", {"PORT": "8005"})
    assert entry is not None and (entry.port, entry.port_text) == (8005, "${PORT:-8000}")
    fallback = _entry("sh -c 'uvicorn app.main:app --port ${PORT:-8000}'")
    assert fallback is not None and fallback.port == 8000


def test_dev_flags_are_kept() -> None:
    entry = _entry("fastapi dev app/main.py")
    assert entry is not None and entry.dev_flags == ("fastapi dev",)
    reload = _entry("uvicorn app.main:app --reload")
    assert reload is not None and reload.dev_flags == ("--reload",)


def test_something_that_is_no_server_gives_no_entry() -> None:
    assert _entry("nginx -g 'daemon off;'") is None


@pytest.mark.parametrize(
    ("source", "env", "expected"),
    [
        ("uvicorn.run(app, port=9001)", {}, 9001),
        ("uvicorn.run(app, port=int(os.getenv('PORT', '8007')))", {}, 8007),
        ("uvicorn.run(app, port=int(os.environ.get('PORT', 8007)))", {"PORT": "9100"}, 9100),
        ("uvicorn.run(app, port=settings.port)", {}, None),
    ],
)
def test_code_defaults_give_a_port(
    source: str, env: dict[str, str | None], expected: int | None
) -> None:
    found = code_port(ast.parse(source), env)
    assert (found[0] if found else None) == expected
