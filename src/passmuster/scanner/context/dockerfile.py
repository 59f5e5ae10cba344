"""Dockerfiles read statically: stages, instructions with lines, system packages, pip installs.

Handles continuation lines, the `# escape=` directive, comments inside continuations, ARG
substitution in FROM, and stages built on earlier stages (which inherit their packages).
"""

from __future__ import annotations

import contextlib
import re

from passmuster.scanner.context.interpolate import TemplateError, interpolate
from passmuster.scanner.context.model import (
    Dockerfile,
    Instruction,
    ParseProblem,
    PipInstall,
    Stage,
)

_KEYWORDS = frozenset(
    [
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    ]
)
_FROM = re.compile(r"^(?:--\S+\s+)*(?P<image>\S+)(?:\s+AS\s+(?P<name>\S+))?\s*$", re.IGNORECASE)
# `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` (not `<<<`, a here-string).
_HEREDOC = re.compile(r"(?<!<)<<(-?)[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&"})
_SPLIT = re.compile(r"(&&|\|\||;|\||&)")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_RUN_WORDS = ("pip", "apt", "apk", "yum", "dnf")
_INSTALLERS = {
    ("apt-get", "install"),
    ("apt", "install"),
    ("apk", "add"),
    ("yum", "install"),
    ("dnf", "install"),
    ("microdnf", "install"),
}


def parse_dockerfile(text: str, path: str) -> Dockerfile:
    result = Dockerfile(path)
    escape = "\\"
    lines = text.splitlines()
    for raw in lines[:5]:
        directive = re.match(r"^#\s*escape\s*=\s*(\S)", raw.strip())
        if directive:
            escape = directive.group(1)
    index = 0
    stage: Stage | None = None
    stages_by_name: dict[str, Stage] = {}
    while index < len(lines):
        start = index + 1
        raw = lines[index]
        index += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        body = raw.rstrip()
        parts: list[str] = []
        while body.endswith(escape) and index <= len(lines):
            parts.append(body[: -len(escape)])
            if index >= len(lines):
                body = ""
                break
            body = lines[index].rstrip()
            index += 1
            while body.strip().startswith("#") and index < len(lines):
                body = lines[index].rstrip()
                index += 1
        parts.append(body)
        joined = " ".join(p.strip() for p in parts if p.strip())
        # BuildKit heredocs (`RUN <<EOF` … `EOF`): the lines up to each delimiter belong to
        # this instruction; a RUN script's lines are commands, as if joined by `;`, and a
        # COPY's are the content of the file it writes (no build-context source).
        for strip_tabs, delimiter in _HEREDOC.findall(joined):
            lines_in: list[str] = []
            while index < len(lines):
                line = lines[index]
                index += 1
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
                lines_in.append(line)
            if joined.split(None, 1)[0].upper() == "RUN":
                joined += " ; " + " ; ".join(line.strip() for line in lines_in if line.strip())
        keyword, _, value = joined.partition(" ")
        keyword = keyword.upper()
        if keyword not in _KEYWORDS:
            result.problems.append(ParseProblem(path, start, f"unknown instruction {keyword!r}"))
            continue
        value = value.strip()
        flags: tuple[str, ...] = ()
        if keyword in ("COPY", "ADD"):
            tokens = value.split()
            flags = tuple(t for t in tokens if t.startswith("--"))
            value = " ".join(t for t in tokens if not t.startswith("--"))
        if keyword == "ARG" and stage is None:
            name, _, default = value.partition("=")
            result.args[name.strip()] = default.strip().strip('"').strip("'")
        if keyword == "FROM":
            match = _FROM.match(value)
            if not match:
                result.problems.append(ParseProblem(path, start, f"cannot read FROM {value!r}"))
                continue
            image = match.group("image")
            with contextlib.suppress(TemplateError):
                image = interpolate(image, result.args)
            name = match.group("name")
            stage = Stage(len(result.stages), image, name, start)
            parent = stages_by_name.get(image.lower())
            if parent is not None:
                stage.base = parent.base
                stage.system_packages |= parent.system_packages
            result.stages.append(stage)
            if name:
                stages_by_name[name.lower()] = stage
        if stage is None:
            if keyword not in ("ARG",):
                result.problems.append(
                    ParseProblem(path, start, f"{keyword} before the first FROM")
                )
            continue
        instruction = Instruction(keyword, value, start, index, stage.index, flags)
        stage.instructions.append(instruction)
        if keyword == "RUN":
            _read_run(result, stage, instruction)
    if not result.stages and not result.problems:
        result.problems.append(ParseProblem(path, 1, "no FROM instruction"))
    return result


def _read_run(dockerfile: Dockerfile, stage: Stage, instruction: Instruction) -> None:
    exec_form = instruction.exec_form()
    script = " ".join(exec_form) if exec_form is not None else instruction.value
    if not any(word in script for word in _RUN_WORDS):
        return  # nothing installed here; skip the (slow) shell tokenising
    for command in _commands(script):
        if not command:
            continue
        words = list(command)
        # Leading `VAR=value` assignments and wrappers; `pkg==1.0` later on is an argument.
        while words and (
            words[0] in ("sudo", "exec", "env") or _ASSIGNMENT.match(words[0]) is not None
        ):
            words = words[1:]
        if len(words) >= 2 and (words[0], words[1]) in _INSTALLERS:
            stage.system_packages.update(
                _package_name(w) for w in words[2:] if not w.startswith("-")
            )
            continue
        pip = _pip_args(words)
        if pip is not None:
            files: list[str] = []
            packages: list[str] = []
            i = 0
            while i < len(pip):
                word = pip[i]
                if word in ("-r", "--requirement", "-c", "--constraint") and i + 1 < len(pip):
                    if word in ("-r", "--requirement"):
                        files.append(pip[i + 1])
                    i += 2
                    continue
                if word.startswith("-r") and len(word) > 2 and not word.startswith("--"):
                    files.append(word[2:])
                elif word.startswith("--requirement="):
                    files.append(word.split("=", 1)[1])
                elif not word.startswith("-") and word not in (".",):
                    packages.append(word)
                i += 1
            dockerfile.pip_installs.append(
                PipInstall(
                    tuple(files),
                    tuple(packages),
                    instruction.line,
                    stage.index,
                    user="--user" in pip,
                )
            )


def _pip_args(words: list[str]) -> list[str] | None:
    """The arguments after `pip install` (pip, pip3, python -m pip, uv pip), else None."""
    for i, word in enumerate(words):
        base = word.rsplit("/", 1)[-1]
        if base in ("pip", "pip3") or re.fullmatch(r"pip3\.\d+", base):
            rest = words[i + 1 :]
            if rest[:1] == ["install"]:
                return rest[1:]
            return None
        if base.startswith("python") and words[i + 1 : i + 3] == ["-m", "pip"]:
            rest = words[i + 3 :]
            return rest[1:] if rest[:1] == ["install"] else None
    return None


def _commands(script: str) -> list[list[str]]:
    """Split a shell script into simple commands: good enough for install lines, and ~20x
    faster than shlex (Dockerfiles of a large platform are read in bulk)."""
    commands: list[list[str]] = []
    for part in _SPLIT.split(script):
        if part in _SEPARATORS:
            continue
        words = [w.strip("'\"") for w in part.split()]
        commands.append([w for w in words if w])
    return commands


def _package_name(word: str) -> str:
    """`libpq-dev=15.3-0` → `libpq-dev`."""
    return re.split(r"[=<>]", word, maxsplit=1)[0]
