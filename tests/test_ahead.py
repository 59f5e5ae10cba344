"""Functions libraries write as source are compiled ahead (passmuster/core/_ahead.py): the generated
files are current, each function they hold comes out exactly as `exec` makes it from the same
source, and anything they do not hold is made by `exec` as before."""

from __future__ import annotations
import __future__

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import CodeType, FunctionType
from typing import Any

import pytest

import passmuster
from passmuster.cli import _regex_code, _sqlalchemy_code
from passmuster.core import _ahead, _dataclass, _dataclass_code
from passmuster.core._dataclass import dataclass
from passmuster.core.issues import Issue, Link, LinkKind, Task

SOURCE = str(Path(passmuster.__file__).resolve().parents[1])
ANNOTATIONS = __future__.annotations.compiler_flag
# (the generated functions, the compiler flags their sources are executed with)
FILES = [(_dataclass_code.FUNCTIONS, 0), (_sqlalchemy_code.FUNCTIONS, ANNOTATIONS)]
SAME_PYTHON = sys.version_info[:2] == _dataclass_code.PYTHON == _sqlalchemy_code.PYTHON


@pytest.mark.skipif(not SAME_PYTHON, reason="the files hold the source another Python writes")
def test_the_generated_files_are_current() -> None:
    from passmuster.cli import codegen

    stale = "is stale: run `python -m passmuster.cli.codegen`"
    assert codegen.DATACLASS_CODE.read_text(encoding="utf-8") == codegen.dataclass_code(), stale
    assert codegen.SQLALCHEMY_CODE.read_text(encoding="utf-8") == codegen.sqlalchemy_code(), stale
    assert codegen.REGEX_CODE.read_text(encoding="utf-8") == codegen.regex_code(), stale


def _described(code: CodeType) -> dict[str, object]:
    """Everything a code object holds, nested code objects described the same way (code
    objects compare nested ones by identity)."""
    return {
        name: (
            tuple(_described(c) if isinstance(c, CodeType) else c for c in value)
            if name == "co_consts"
            else value
        )
        for name in dir(code)
        if name.startswith("co_") and not callable(value := getattr(code, name))
    }


def _function(namespace: Mapping[str, Any]) -> dict[str, object]:
    (name,) = [key for key in namespace if key not in ("__builtins__", "__name__")]
    function = namespace[name]
    assert isinstance(function, FunctionType)
    return {
        "key": name,
        "code": _described(function.__code__),
        **{
            attribute: getattr(function, attribute)
            for attribute in (
                "__name__",
                "__qualname__",
                "__module__",
                "__doc__",
                "__defaults__",
                "__kwdefaults__",
                "__annotations__",
                "__closure__",
                "__dict__",
            )
        },
        "globals": function.__globals__ is namespace or function.__globals__.get("__name__"),
    }


@pytest.mark.parametrize(("functions", "flags"), FILES, ids=["dataclasses", "sqlalchemy"])
def test_each_function_comes_out_as_exec_makes_it(
    functions: Mapping[str, FunctionType], flags: int
) -> None:
    assert functions
    run = _ahead.ahead_exec(functions, flags)
    for source in functions:
        made: dict[str, Any] = {"__name__": "some.module"}
        # As the library runs it, with its module's `__future__` features.
        exec(compile(source, "<string>", "exec", flags=flags, dont_inherit=True), made)
        ahead: dict[str, Any] = {"__name__": "some.module"}
        caller = compile("run(source, ahead)", "<library>", "exec", flags=flags, dont_inherit=True)
        exec(caller, {"run": run, "source": source, "ahead": ahead})
        assert _function(ahead) == _function(made), source
        assert set(ahead) == set(made) == {"__name__", "__builtins__", _function(made)["key"]}


def test_a_source_not_held_is_executed_as_exec_executes_it() -> None:
    run = _ahead.ahead_exec({}, ANNOTATIONS)
    for flags in (0, ANNOTATIONS):
        source = "def f(x: int, *, y=2):\n    return x + y\n"
        made: dict[str, Any] = {}
        exec(compile(source, "<string>", "exec", flags=flags, dont_inherit=True), made)
        ahead: dict[str, Any] = {}
        caller = compile("run(source, ahead)", "<library>", "exec", flags=flags, dont_inherit=True)
        exec(caller, {"run": run, "source": source, "ahead": ahead})
        assert ahead["f"].__annotations__ == made["f"].__annotations__  # int, or "int"
        assert _function(ahead) == _function(made)


def test_only_a_lone_function_definition_is_held() -> None:
    assert _ahead.definable("def f(a, b=None):\n    return a\n", 0)
    assert not _ahead.definable("def f(a, *, b=None):\n    return a\n", 0)  # keyword default
    assert not _ahead.definable("def f(a: int):\n    return a\n", 0)  # annotations
    assert not _ahead.definable("def f(a=DEFAULT):\n    return a\n", 0)  # a name, not a constant
    assert not _ahead.definable("@wraps\ndef f(a):\n    return a\n", 0)
    assert not _ahead.definable("def f(a):\n    return a\nx = 1\n", 0)


@pytest.mark.skipif(not SAME_PYTHON, reason="the files hold the source another Python writes")
def test_the_frequent_commands_classes_and_sqlalchemy_compile_almost_nothing() -> None:
    probe = (
        "import builtins, importlib, json, sys\n"
        "compiled = []\n"
        "real = builtins.compile\n"
        "def counting(source, *args, **kwargs):\n"
        "    if isinstance(source, str) and source.startswith(('def ', 'async def ')):\n"
        "        compiled.append(source)\n"
        "    return real(source, *args, **kwargs)\n"
        "builtins.compile = counting\n"
        "from passmuster.cli import _startup\n"
        "_startup.enable()\n"
        "_startup.import_sqlalchemy()\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(compiled))\n"
    )
    env = {**os.environ, "PYTHONPATH": SOURCE}
    done = subprocess.run(
        [sys.executable, "-c", probe, *_dataclass.PRECOMPILED],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    compiled = json.loads(done.stdout)
    # Only what cannot be held: SQLAlchemy's wrappers with keyword-only defaults.
    assert all(not _ahead.definable(source, ANNOTATIONS) for source in compiled), compiled
    assert len(compiled) <= 20


def test_the_classes_behave_as_dataclasses_own() -> None:
    at = datetime(2026, 12, 5, tzinfo=UTC)
    issue = Issue(title="Gateway returns 502", number=3, created_at=at, labels=["bench"])
    assert issue == Issue(title="Gateway returns 502", number=3, created_at=at, labels=["bench"])
    assert issue != Issue(title="Gateway returns 502", number=4)
    assert repr(issue).startswith("Issue(title='Gateway returns 502', type=<IssueType.BUG: 'bug'>")
    assert dataclasses.replace(issue, number=5).number == 5
    assert Issue(title="x").labels is not Issue(title="x").labels  # default_factory
    link = Link(LinkKind.BLOCKS, 3)
    assert hash(link) == hash(Link(LinkKind.BLOCKS, 3))
    with pytest.raises(dataclasses.FrozenInstanceError):
        link.target = 4  # type: ignore[misc]
    assert Task("Write it") == Task("Write it", False)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'title'"):
        Issue()  # type: ignore[call-arg]


def test_a_class_not_compiled_ahead_is_made_as_dataclasses_makes_it() -> None:
    @dataclass(frozen=True, order=True)
    class Probe:
        name: str
        count: int = 0

    @dataclasses.dataclass(frozen=True, order=True)
    class Plain:
        name: str
        count: int = 0

    assert Probe("a") < Probe("b")
    assert repr(Probe("a", 2)).endswith("Probe(name='a', count=2)")
    assert hash(Probe("a")) == hash(Probe("a"))
    # The annotations dataclasses gives __init__ are its own (this module's `from __future__
    # import annotations` changes nothing there).
    assert Probe.__init__.__annotations__ == Plain.__init__.__annotations__
    assert "exec" not in vars(dataclasses)  # dataclasses' own name for exec is restored


@pytest.mark.skipif(not SAME_PYTHON, reason="the file holds what another Python compiled")
def test_each_regular_expression_comes_out_as_re_compiles_it() -> None:
    import re
    from re import _compiler  # type: ignore[attr-defined]

    assert _regex_code.PATTERNS
    ahead = _ahead.ahead_compile(_regex_code.PATTERNS, _compiler.compile)
    for pattern, flags in _regex_code.PATTERNS:
        made = _compiler.compile(pattern, flags)
        copy = ahead(pattern, flags)
        assert copy == made, pattern  # pattern, flags and code
        assert (copy.groups, copy.groupindex) == (made.groups, made.groupindex)
    # Anything else is compiled by re.
    assert ahead("x(?P<y>z)", re.I) == _compiler.compile("x(?P<y>z)", re.I)


def test_a_regular_expression_that_warns_is_not_held() -> None:
    import re

    assert _ahead.compiled("[[a]", 0) is None  # FutureWarning: possible nested set
    assert _ahead.compiled("a", re.DEBUG) is None  # prints its listing
    assert _ahead.compiled("(?P<word>\\w+)", 0) is not None
