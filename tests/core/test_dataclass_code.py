"""The methods `@dataclass` writes for the classes the frequent commands import are compiled
ahead (core/_dataclass.py): the file holding them is current, its code is what `exec` compiles
from the same source, and the classes behave as dataclasses' own."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import CodeType

import pytest

import passmuster
from passmuster.core import _dataclass, _dataclass_code
from passmuster.core._dataclass import dataclass
from passmuster.core.issues import Issue, Link, LinkKind, Task

SOURCE = str(Path(passmuster.__file__).resolve().parents[1])
SAME_PYTHON = sys.version_info[:2] == _dataclass_code.PYTHON


@pytest.mark.skipif(not SAME_PYTHON, reason="the file holds the source another Python writes")
def test_the_compiled_methods_are_current() -> None:
    from passmuster.cli.codegen import TARGET, dataclass_code

    assert TARGET.read_text(encoding="utf-8") == dataclass_code(), (
        "src/passmuster/core/_dataclass_code.py is stale: run `python -m passmuster.cli.codegen`"
    )


def test_each_compiled_method_is_the_code_exec_compiles_from_its_source() -> None:
    assert _dataclass_code.CODE
    for source, code in _dataclass_code.CODE.items():
        namespace: dict[str, object] = {}
        # As dataclasses compiles it: without this module's `from __future__` flags.
        exec(compile(source, "<string>", "exec", dont_inherit=True), {}, namespace)
        compiled = namespace["__create_fn__"].__code__  # type: ignore[attr-defined]
        assert _described(_dataclass._as_if_from_exec(code)) == _described(compiled), source


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


@pytest.mark.skipif(not SAME_PYTHON, reason="the file holds the source another Python writes")
def test_importing_the_frequent_commands_classes_compiles_no_method() -> None:
    probe = (
        "import builtins, importlib, json, sys\n"
        "compiled = []\n"
        "real = builtins.exec\n"
        "def counting(source, *args):\n"
        "    if isinstance(source, str) and source.startswith('def __create_fn__'):\n"
        "        compiled.append(source)\n"
        "    return real(source, *args)\n"
        "builtins.exec = counting\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(compiled))\n"
    )
    env = {**os.environ, "PYTHONPATH": SOURCE}
    done = subprocess.run(
        [sys.executable, "-c", probe, *_dataclass.PRECOMPILED],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert json.loads(done.stdout) == []


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

    assert Probe("a") < Probe("b")
    assert repr(Probe("a", 2)).endswith("Probe(name='a', count=2)")
    assert hash(Probe("a")) == hash(Probe("a"))
    assert "exec" not in vars(dataclasses)  # dataclasses' own name for exec is restored
