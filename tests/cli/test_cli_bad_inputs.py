"""Every command in docs/cli.md, given the bad inputs its documentation names, answers with one
line and a documented exit code: never a traceback.

The commands, their arguments and their options (with the kind of value each takes: INTEGER,
PATH, TEXT and the choices its help lists) are read from docs/cli.md itself, so a command added
to the CLI (and so to the generated reference) is walked too. For each command the walk tries:
an unknown option; each option with a value of the wrong kind (a word for a number, a missing
file or a folder for a path, a value outside the listed choices, an empty text, text that is not
Unicode); each argument likewise; no arguments at all; and the command on no desk and on a
corrupt desk. Long-running commands are bounded: `monitor` runs with `--once`, `demo` with
`--no-serve`, and `serve` in a child process that must refuse (and exit) within seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from passmuster.cli.main import main
from passmuster.core.issues import IssueDraft, Task
from passmuster.usecases.desk import Desk

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
DOCUMENTED_EXITS = {0, 1, 2, 3, 4, 5, 6, 130}
# Text a shell hands over for bytes that are not UTF-8 (Python decodes them as lone surrogates).
NOT_UNICODE = "caf\udce9"


@dataclass
class Param:
    name: str  # `--severity` for an option, `NUMBER` for an argument
    metavar: str | None  # INTEGER, PATH, TEXT …; None for a flag
    help: str
    option: bool
    optional: bool = True
    many: bool = False

    def choices(self) -> list[str]:
        """The values the help lists ("critical, high, medium, low, info."), if it lists some."""
        words = re.split(r",\s*|\s+or\s+", self.help.rstrip(".").split(" (")[0])
        if len(words) >= 3 and all(re.fullmatch(r"[a-z][a-z_-]*", w) for w in words):
            return words
        return []


@dataclass
class Command:
    words: list[str]
    params: list[Param] = field(default_factory=list)

    @property
    def name(self) -> str:
        return " ".join(self.words)


def documented_commands() -> list[Command]:
    commands: list[Command] = []
    current: Command | None = None
    table: str | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^#{3,4} `passmuster ([a-z -]+)`$", line)
        if heading:
            current = Command(heading.group(1).split())
            commands.append(current)
            table = None
            continue
        if current is None:
            continue
        if line.startswith("| Argument |"):
            table = "argument"
        elif line.startswith("| Option |"):
            table = "option"
        elif line.startswith("| `") and table is not None:
            cells = [c.strip() for c in line.strip("|").split("|")]
            spec = re.match(r"`([^`]+)`(.*)", cells[0])
            assert spec is not None, line
            text, rest = spec.group(1), spec.group(2)
            if table == "option":
                *flags, last = text.split(", ")
                last, _, metavar = last.partition(" ")
                long = next(f for f in [*flags, last] if f.startswith("--"))
                current.params.append(Param(long, metavar or None, cells[1], option=True))
            else:
                current.params.append(
                    Param(
                        text.split()[0],
                        None,
                        cells[1],
                        option=False,
                        optional="(optional)" in rest,
                        many="..." in text,
                    )
                )
        elif line.startswith("#"):
            table = None
    # A group heading (`passmuster token`) is followed by its subcommands.
    return [
        c
        for c in commands
        if not any(
            o.words[: len(c.words)] == c.words and o is not c and len(o.words) > len(c.words)
            for o in commands
        )
    ]


@pytest.fixture(scope="module")
def commands() -> list[Command]:
    found = documented_commands()
    assert len(found) > 30 and any(c.name == "service add" for c in found)
    return found


# A value of the right kind for each argument, so a bad option is what the command meets.
def good_argument(param: Param, folder: Path) -> str:
    return {
        "NUMBER": "1",
        "TARGET": "2",
        "KIND": "relates_to",
        "NAME": "identity",
        "CODE": "ENV003",
        "TITLE": "A title",
        "BODY": "A comment",
        "WORDS": "word",
        "PATHS": str(folder / "log.md"),
        "PATH": str(folder / "platform"),
    }.get(param.name, "x")


def bad_values(param: Param, folder: Path) -> list[str]:
    metavar = param.metavar or param.name
    if metavar == "INTEGER" or param.name in ("NUMBER", "TARGET"):
        return ["many", "-5", "99999"]
    if metavar in ("PATH", "PATHS", "DIR"):
        return [str(folder / "missing" / "file.md"), str(folder / "a-file.txt"), str(folder)]
    values = ["", NOT_UNICODE]
    if param.choices() or param.name == "KIND":
        values.append("nope")
    return values


def valid_inputs(folder: Path) -> set[tuple[str, str, str]]:
    """Values of the walk that are good input for an option: a new folder for the demo, a
    folder to serve. They would run the demo or start a server, not be refused."""
    return {
        ("demo", "--dir", str(folder / "missing" / "file.md")),
        ("serve", "--platform", str(folder)),
    }


def base_arguments(command: Command, folder: Path) -> list[str]:
    args = [
        good_argument(p, folder)
        for p in command.params
        if not p.option and (not p.optional or p.name == "TITLE")
    ]
    if command.name == "monitor":
        args.append("--once")
    if command.name == "demo":
        args.append("--no-serve")
    return args


def cases(command: Command, folder: Path) -> list[list[str]]:
    base = base_arguments(command, folder)
    found = [[*base, "--no-such-option"]]
    if any(not p.option and not p.optional for p in command.params):
        found.append([])  # a required argument left out
    for param in command.params:
        if param.option and param.metavar is not None:
            found += [
                [*base, param.name, value]
                for value in bad_values(param, folder)
                if (command.name, param.name, value) not in valid_inputs(folder)
            ]
        elif not param.option:
            position = [p for p in command.params if not p.option].index(param)
            for value in bad_values(param, folder):
                args = [good_argument(p, folder) for p in command.params if not p.option]
                args[position] = value
                found.append(
                    args
                    + base[len([p for p in command.params if not p.option and not p.optional]) :]
                )
    return found


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    monkeypatch.setenv("PASSMUSTER_ACTOR", "ana")
    monkeypatch.setenv("EDITOR", "false")  # `new` without a title must not wait on an editor
    (tmp_path / "a-file.txt").write_text("not a folder\n", encoding="utf-8")
    (tmp_path / "log.md").write_text("## Issue #1 - Logged\n**Status**: Open\n", encoding="utf-8")
    (tmp_path / "platform").mkdir()
    (tmp_path / "platform" / "compose.yaml").write_text(
        "services:\n  api:\n    image: example/api:1\n", encoding="utf-8"
    )
    return tmp_path


def with_desk(folder: Path) -> None:
    with Desk.init(folder) as desk:
        desk.file(IssueDraft(title="First", tasks=[Task("one")]), actor="ana")
        desk.file(IssueDraft(title="Second"), actor="ana")


def run_in_process(args: list[str]) -> tuple[int, str]:
    """`passmuster ARGS` through its real entry point (`main`, which turns errors into one line),
    in this process, with stdin empty and the output captured."""
    import traceback

    with CliRunner().isolation(input="") as (_, _, output):
        try:
            main(list(args))
            code = 0
        except SystemExit as exited:
            code = (
                exited.code if isinstance(exited.code, int) else (0 if exited.code is None else 1)
            )
        except BaseException:  # what a user would see as a traceback
            code = -2
            sys.stderr.write(traceback.format_exc())
        text = output.getvalue().decode("utf-8", "replace")
    return code, text


def run_in_child(args: list[str], cwd: Path) -> tuple[int, str]:
    """For `serve`: a bad input must be refused before anything listens, within seconds."""
    env = {**os.environ, "PASSMUSTER_ACTOR": "ana"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "passmuster", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return -1, f"passmuster {' '.join(args)} started instead of refusing its input"
    return done.returncode, done.stdout + done.stderr


def check(command: Command, args: list[str], folder: Path) -> list[str]:
    full = [*command.words, *args]
    if command.name == "serve":
        if NOT_UNICODE in args:
            return []  # no child process can be handed a lone surrogate in its argv
        code, output = run_in_child(full, folder)
    else:
        code, output = run_in_process(full)
    # A command may have made the missing path (init --dir makes its folder): the next one must
    # meet it missing again.
    shutil.rmtree(folder / "missing", ignore_errors=True)
    problems = []
    if "Traceback" in output:
        problems.append(f"passmuster {' '.join(full)!r}: traceback\n{output[-1500:]}")
    elif code not in DOCUMENTED_EXITS:
        problems.append(f"passmuster {' '.join(full)!r}: exit {code}\n{output[-500:]}")
    elif "--no-such-option" in args and code != 2:
        problems.append(f"passmuster {' '.join(full)!r}: an unknown option is exit 2, not {code}")
    return problems


@pytest.mark.slow
def test_no_documented_command_prints_a_traceback_on_bad_input(
    commands: list[Command], folder: Path
) -> None:
    with_desk(folder)
    problems: list[str] = []
    for command in commands:
        for args in cases(command, folder):
            problems += check(command, args, folder)
    assert problems == [], "\n\n".join(problems)


@pytest.mark.parametrize("desk", ["no desk", "a corrupt desk"])
def test_every_documented_command_without_a_usable_desk_says_so_in_one_line(
    commands: list[Command], folder: Path, desk: str
) -> None:
    if desk == "a corrupt desk":
        (folder / ".passmuster").mkdir()
        (folder / ".passmuster" / "desk.db").write_bytes(b"this is not a database" * 100)
    problems: list[str] = []
    for command in commands:
        if command.name in ("serve", "demo", "init"):
            continue  # serve and demo make or need a desk of their own; init creates one
        problems += check(command, base_arguments(command, folder), folder)
    assert problems == [], "\n\n".join(problems)
