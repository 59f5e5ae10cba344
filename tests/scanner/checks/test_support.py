"""What rules share: specifier reasoning, commands, URLs, secrets and module facts."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from passmuster.scanner.context.commands import read_server
from passmuster.scanner.context.images import image_flavour, parse_image, python_version
from passmuster.scanner.context.pysource import ModuleFacts
from passmuster.scanner.context.urls import find_urls
from passmuster.scanner.facts import installed_modules as modules
from passmuster.scanner.facts.paths import relative
from passmuster.scanner.facts.secrets import is_secret_name, mask, placeholder_kind
from passmuster.scanner.facts.versions import compatible, likely_version


@pytest.mark.parametrize(
    ("a", "b", "ok"),
    [
        ("==2.32.3", "==2.31.0", False),
        ("==2.32.3", ">=2.31,<3", True),
        (">=2", "<1.5", False),
        (">1.0", "<1.0.1", True),
        ("~=1.4", ">=1.5", True),
        ("~=1.4.2", ">=1.5", False),
        ("==1.*", ">=2", False),
        ("!=2.0", "==2.0", False),
        ("", "==1.0", True),
    ],
)
def test_specifiers_are_compatible_exactly_when_some_version_satisfies_both(
    a: str, b: str, ok: bool
) -> None:
    assert compatible(SpecifierSet(a), SpecifierSet(b)) is ok


def test_likely_version_is_the_pin_or_the_newest_allowed() -> None:
    assert likely_version(SpecifierSet("==6.1.3")) == Version("6.1.3")
    assert likely_version(SpecifierSet("<7.1")) < Version("7.1")  # type: ignore[operator]
    assert likely_version(SpecifierSet(">=4")) == Version("999999")


def test_server_commands_through_shells_launchers_and_variables() -> None:
    shell = read_server(
        'sh -c "alembic upgrade head && exec gunicorn -k uvicorn.workers.UvicornWorker '
        '-b 0.0.0.0:${PORT:-8002} app.main:app"'
    )
    assert shell is not None
    assert (shell.server, shell.target, shell.host, shell.port) == (
        "gunicorn",
        "app.main:app",
        "0.0.0.0",
        8002,
    )
    module = read_server(["python", "-m", "uvicorn", "main:app", "--reload"])
    assert module is not None
    assert (module.host, module.dev_flags) == (None, ("--reload",))
    flask = read_server("flask --app web run --debug -p 5001")
    assert flask is not None and (flask.target, flask.port, flask.dev_flags) == (
        "web",
        5001,
        ("--debug",),
    )
    assert read_server("flask db upgrade") is None
    celery = read_server(["celery", "-A", "app.worker", "worker"])
    assert celery is not None and (celery.server, celery.port, celery.dev_flags) == (
        "celery",
        None,
        (),
    )
    dev = read_server("fastapi dev app/main.py")
    assert dev is not None and dev.dev_flags == ("fastapi dev",)
    launched = read_server("tini -- opentelemetry-instrument uvicorn app.main:app --port 9")
    assert launched is not None and (launched.server, launched.port) == ("uvicorn", 9)


def test_urls_give_driver_host_port_and_keep_the_password_out_of_repr() -> None:
    [db] = find_urls("postgresql+asyncpg://app:s3cret@postgres:5432/app")
    assert (db.scheme, db.driver, db.user, db.host, db.port) == (
        "postgresql",
        "asyncpg",
        "app",
        "postgres",
        5432,
    )
    assert db.password == "s3cret" and "s3cret" not in repr(db)
    [redis] = find_urls("cache at redis://redis/0 please")
    assert (redis.host, redis.port, redis.explicit_port) == ("redis", 6379, False)
    assert [u.host for u in find_urls("http://[::1]:8000/x and https://api.example.com")] == [
        "[::1]",
        "api.example.com",
    ]


def test_placeholder_secrets_are_recognised_and_never_echoed() -> None:
    assert is_secret_name("JWT_SECRET_KEY") and is_secret_name("POSTGRES_PASSWORD")
    assert not is_secret_name("JWT_ALGORITHM") and not is_secret_name("JWT_PUBLIC_KEY")
    assert placeholder_kind("change_me") == "a well-known default"
    assert placeholder_kind("secure_password_change_me") == "a placeholder"
    assert placeholder_kind("Secret!") == "a well-known default"
    assert placeholder_kind("9c1f7e2ab45d8830") is None
    assert placeholder_kind("${JWT_SECRET}") is None
    assert mask("hunter2") == "<7 characters, masked>"


def test_image_flavours_and_python_versions() -> None:
    assert image_flavour("python:3.11-slim") == "slim"
    assert image_flavour("docker.io/library/python:3.12-alpine3.19") == "alpine"
    assert image_flavour("python:3.11") == "full"
    assert image_flavour("ubuntu:24.04") == "slim"
    assert image_flavour("postgres:16") is None
    assert python_version("python:3.12-slim-bookworm") == "3.12"
    assert python_version("node:20") is None
    registry = parse_image("registry.example.org:5000/acme/instances:1.4@sha256:ab")
    assert (registry.registry, registry.repository, registry.tag, registry.digest) == (
        "registry.example.org:5000",
        "acme/instances",
        "1.4",
        "sha256:ab",
    )
    assert not registry.is_official and parse_image("postgres:16").is_official
    assert parse_image("docker.io/library/redis").is_official
    assert relative("services/api", "requirements.shared.txt") == "../../requirements.shared.txt"
    assert relative(".", "shared/reqs.txt") == "shared/reqs.txt"


def test_module_facts_track_guarded_imports_and_dynamic_modules() -> None:
    tree = ast.parse(
        "try:\n    from ujson import dumps\nexcept ImportError:\n    from json import dumps\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.models import User\n"
        "from fastapi import FastAPI\n"
    )
    found = ModuleFacts(tree)
    assert [(i.module, i.guarded) for i in found.from_imports] == [
        ("ujson", True),
        ("json", False),
        ("typing", False),
        ("app.models", True),
        ("fastapi", False),
    ]
    assert ModuleFacts(ast.parse("from os import *\n")).defined is None
    assert ModuleFacts(ast.parse("globals()['X'] = 1\n")).defined is None
    assert ModuleFacts(ast.parse("def __getattr__(name):\n    pass\n")).defined is None
    assert ModuleFacts(ast.parse("if x:\n    A = 1\nelse:\n    B = 2\n")).defined == {"A", "B"}


def test_use_before_definition_covers_decorators_defaults_bases_and_not_bodies() -> None:
    tree = ast.parse(
        "@decorate\ndef f(x=default_value):\n    return later()\n"
        "class C(Base):\n    field = Field()\n"
        "def later():\n    pass\n"
        "def decorate(f):\n    return f\n"
        "default_value = 1\nBase = object\nField = int\n"
    )
    found = {(u.name, u.where) for u in ModuleFacts(tree).early_uses}
    assert found == {
        ("decorate", "decorator"),
        ("default_value", "default"),
        ("Base", "base"),
        ("Field", "statement"),
    }


def test_modules_are_located_without_being_imported() -> None:
    assert "multiprocessing.popen_spawn_posix" not in sys.modules
    found = modules.installed_module("multiprocessing.popen_spawn_posix")
    assert found is not None and found.origin is not None
    assert found.origin.name == "popen_spawn_posix.py"
    assert "multiprocessing.popen_spawn_posix" not in sys.modules
    fastapi = modules.installed_module("fastapi")
    assert fastapi is not None
    assert modules.provides(fastapi, "FastAPI") is True
    assert modules.provides(fastapi, "status") is True  # a submodule
    assert modules.provides(fastapi, "HTTPStatus") is False
    assert modules.installed_module("no_such_module_anywhere") is None


def test_no_false_alarm_on_the_imports_of_fastapi_itself() -> None:
    """Every absolute `from X import Y` in fastapi's own source works (it imports starlette,
    pydantic, typing …), so the checker must accept each one it can judge."""
    import fastapi

    judged = 0
    for package in (fastapi,):
        assert package.__file__ is not None
        # A bounded sample keeps the test quick: parsing every module it imports from costs.
        for path in sorted(Path(package.__file__).parent.glob("*.py"))[:12]:
            tree = ast.parse(path.read_bytes())
            for statement in ModuleFacts(tree).from_imports:
                if statement.level or statement.guarded or statement.module == "__future__":
                    continue
                module = modules.installed_module(statement.module)
                if module is None:
                    continue
                for name in statement.names:
                    if name.name != "*":
                        judged += 1
                        assert modules.provides(module, name.name) is not False, (
                            f"{path}:{name.line} {statement.module}.{name.name}"
                        )
    assert judged > 50
