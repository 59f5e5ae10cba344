"""Failure classifiers: read a failed attempt's output and logs and name the failure's class.

A classifier describes itself like a scanner rule: a kebab-case `name`, the `title` of the
deployment issue its failures go into, a `severity`, the scanner rules that predict it
(`predicted_by`), and a docstring whose headings (`## What it catches`, `## Why it happens`,
`## How to fix it`) are its documentation and the known fix the issue shows.

    class PortInUse(Classifier):
        \"\"\"## What it catches ...\"\"\"

        name = "port-in-use"
        title = "Services cannot bind their port"
        order = 10

        def match(self, evidence: Evidence) -> Match | None: ...

Classifiers run in `order`; the first that matches names the class, so the specific ones
(a port taken, an import error) come before the general ones (health never ready). Built-ins
live one per module in `passmuster.core.deploy.classifiers` and register exactly as a plugin's
do, through `Classifiers.register_module`. Everything here is text in, text out: no I/O.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType
from typing import ClassVar

from passmuster.core.deploy.attempts import Result
from passmuster.core.issues import Severity
from passmuster.core.plugins import description_problems, register_defined
from passmuster.errors import ConfigError, NotFound

REQUIRED_HEADINGS = ("## What it catches", "## Why it happens", "## How to fix it")
EXCERPT_LINES = 15
EXCERPT_CHARS = 4_000


@dataclass(frozen=True, slots=True)
class PythonError:
    """The last exception a Python traceback in the text ends with."""

    type: str  # the class name without its module: `ModuleNotFoundError`
    qualified: str  # as printed: `sqlalchemy.exc.OperationalError`
    message: str  # the rest of its line
    frames: str  # the traceback's frame lines (code lines included)
    start: int  # offset of the traceback in the text
    end: int  # offset just past the exception line


@dataclass(frozen=True)
class Evidence:
    """What is known about one failed attempt."""

    service: str
    result: Result
    exit_code: int | None = None
    output: str = ""  # the command's output (its last lines)
    logs: str = ""  # the service's own logs, when the runner has them apart from the output
    reason: str = ""  # the runner's account: "no passing probe within 120s (HTTP 404)"
    probe_reason: str | None = None  # the last health probe's failure, when one was tried
    killed_by_deploy: bool = False  # the deploy sent the signal (timeout, Ctrl-C)
    unhealthy_dependencies: tuple[str, ...] = ()  # dependencies that failed their probe first
    hosts: Mapping[str, str] = field(default_factory=dict)  # host or host:port -> service

    @cached_property
    def text(self) -> str:
        """Output and logs as one text (once when the runner gives the same lines twice)."""
        parts = [self.output]
        if self.logs and self.logs != self.output:
            parts.append(self.logs)
        return "\n".join(p for p in parts if p)

    @cached_property
    def python_error(self) -> PythonError | None:
        return last_python_error(self.text)


@dataclass(frozen=True, slots=True)
class Match:
    summary: str  # one line: what went wrong
    excerpt: str  # the lines that show it
    subject: str | None = None  # what it is about: a port, a module, a name, a variable


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified failure: the class and what this attempt showed of it."""

    name: str
    title: str
    severity: Severity
    summary: str
    excerpt: str
    subject: str | None
    predicted_by: tuple[str, ...]


class Classifier:
    """Base of every failure classifier; subclasses set the attributes and implement `match`."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.HIGH
    order: ClassVar[int] = 500
    predicted_by: ClassVar[tuple[str, ...]] = ()

    def match(self, evidence: Evidence) -> Match | None:
        raise NotImplementedError

    @classmethod
    def docs(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def section(cls, heading: str) -> str:
        """The text under `## heading` of the docstring."""
        text = cls.docs()
        marker = f"## {heading}"
        if marker not in text:
            return ""
        body = text.split(marker, 1)[1]
        return body.split("\n## ", 1)[0].strip()

    @classmethod
    def summary(cls) -> str:
        return " ".join(cls.section("What it catches").split("\n\n", 1)[0].split())

    @classmethod
    def problems(cls) -> list[str]:
        found = description_problems(cls.name, cls.severity, cls.docs(), REQUIRED_HEADINGS)
        return found if cls.title else [*found, "no title"]

    def failure(self, found: Match) -> Failure:
        return Failure(
            self.name,
            self.title,
            self.severity,
            found.summary,
            found.excerpt,
            found.subject,
            self.predicted_by,
        )


class Classifiers:
    """The catalogue: classifiers by name, tried in order."""

    def __init__(self) -> None:
        self._by_name: dict[str, type[Classifier]] = {}
        self._ordered: list[Classifier] = []

    def register(self, classifier: type[Classifier]) -> type[Classifier]:
        problems = classifier.problems()
        where = f"{classifier.__module__}.{classifier.__qualname__}"
        if problems:
            raise ConfigError(f"failure classifier {where}: {'; '.join(problems)}")
        existing = self._by_name.get(classifier.name)
        if existing is not None and existing is not classifier:
            raise ConfigError(f"failure classifier name {classifier.name!r} is registered twice")
        if existing is None:
            self._by_name[classifier.name] = classifier
            self._ordered.append(classifier())
            self._ordered.sort(key=lambda c: (c.order, c.name))
        return classifier

    def register_module(self, module: ModuleType) -> list[type[Classifier]]:
        """Register every Classifier subclass `module` defines (not merely imports)."""
        return register_defined(module, Classifier, named_by="name", register=self.register)

    def all(self) -> list[type[Classifier]]:
        return [type(c) for c in self._ordered]

    def __len__(self) -> int:
        return len(self._ordered)

    def get(self, name: str) -> type[Classifier]:
        found = self._by_name.get(name.strip().lower())
        if found is None:
            raise NotFound(f"no failure class {name!r}; `passmuster deploy classes` lists them")
        return found

    def classify(self, evidence: Evidence) -> Failure:
        """The first classifier's verdict; the catalogue ends with a catch-all, so one always
        answers (a catalogue without one answers `unclassified` itself)."""
        for classifier in self._ordered:
            found = classifier.match(evidence)
            if found is not None:
                return classifier.failure(found)
        return Failure(
            "unclassified",
            "Services fail to start for a reason no classifier recognises",
            Severity.HIGH,
            evidence.reason or "failed",
            last_lines(evidence.text, EXCERPT_LINES),
            None,
            (),
        )


# --- reading output ---------------------------------------------------------------------------

_TRACEBACK = "Traceback (most recent call last):"
# What log collectors put before every line: compose's `billing-1  | `, a `[container] ` name,
# a time stamp (`2024-08-04 15:32:36 `, `2026-04-18T07:24:32.389Z `, `… 11:12:53.699 | `).
# One separating space each: what follows may be a traceback's indentation. The systemd journal's
# and syslog's `Aug 31 20:53:12 host gunicorn[1932]: ` (the month in any language) comes first.
_PREFIX = re.compile(
    r"^(?:\S+ +\d{1,2} \d\d:\d\d:\d\d [\w.-]+ [\w./@-]+(?:\[\d+\])?: )?"
    r"(?:\[[\w.-]+\]\s+)?"
    r"(?:\d\d:\d\d:\d\d\s+)?"  # honcho and foreman: `13:58:01 web.1  | `
    r"(?:[\w.-]+\s+\| ?)?"
    r"(?:\d{4}-\d\d-\d\d[T ][\d:.,]+(?:Z|[+-]\d\d:?\d\d)? (?:\| ?)?)?"
)


# Before an exception line printed without its traceback (or with a head the tail cut off):
# nothing, or anything ending in a separator a collector leaves (compose's `| `, a journal's
# `gunicorn[1932]: `, balena's ` gunicorn  `).
LINE_PREFIX = r"^(?:.*[ \t|:\]>])?"  # not \s: a match must not start on the line above


def strip_prefix(line: str) -> str:
    """A log line without its collector's prefix (see _PREFIX)."""
    found = _PREFIX.match(line)
    return line[found.end() :] if found and found.end() else line


def lines_after(text: str, pos: int, count: int) -> list[str]:
    """Up to `count` non-blank lines after `pos`, without their collectors' prefixes."""
    out: list[str] = []
    for raw in text[pos:].splitlines():
        line = strip_prefix(raw)
        if line.strip():
            out.append(line)
            if len(out) >= count:
                break
    return out


def last_python_error(text: str) -> PythonError | None:
    """The exception the last traceback in `text` ends with, or None when there is none."""
    start = text.rfind(_TRACEBACK)
    if start < 0:
        return None
    line_start = text.rfind("\n", 0, start) + 1
    prefixed = bool(text[line_start:start].strip())
    pos = text.find("\n", start)
    frames: list[str] = []
    while pos >= 0:
        nxt = text.find("\n", pos + 1)
        line = text[pos + 1 : nxt if nxt >= 0 else len(text)]
        if prefixed:
            line = strip_prefix(line)
        if not line.strip():
            pos = nxt
            continue
        if line.startswith((" ", "\t")):
            frames.append(line)
            pos = nxt
            continue
        qualified, sep, message = line.partition(":")
        qualified = qualified.strip()
        if not re.fullmatch(r"[A-Za-z_][\w.]*", qualified):
            return None
        return PythonError(
            qualified.rsplit(".", 1)[-1],
            qualified,
            message.strip() if sep else "",
            "\n".join(frames),
            line_start,
            nxt if nxt >= 0 else len(text),
        )
    return None


def last_lines(text: str, count: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-count:])


def traceback_excerpt(text: str, error: PythonError, *, extra: int = 2) -> str:
    """The end of the traceback: its last frames (without the interpreter's own import
    machinery and the `^^^` markers), the exception line and a few lines after it."""
    body = text[error.start : error.end].splitlines()
    if not body:
        return ""
    frames: list[list[str]] = []
    for line in body[1:-1]:
        stripped = line.strip()
        if stripped.startswith("File "):
            frames.append([line])
        elif frames and stripped and set(stripped) - set("^~ "):
            frames[-1].append(line)
    kept = [f for f in frames if "<frozen " not in f[0]]
    lines = [body[0]]
    room = EXCERPT_LINES - 2 - extra
    chosen: list[str] = []
    for frame in reversed(kept):
        if len(chosen) + len(frame) > room:
            break
        chosen[:0] = frame
    after = text[error.end :].splitlines()[1 : 1 + extra]
    return _clip("\n".join([*lines, *chosen, body[-1], *after]))


def around(text: str, start: int, end: int, *, before: int = 3, after: int = 3) -> str:
    """The lines holding text[start:end], with a few lines of context either side."""
    first, last = _lines_window(text, start, end, before, after)
    return _clip(text[first:last].strip("\n"))


def _lines_window(text: str, start: int, end: int, before: int, after: int) -> tuple[int, int]:
    """Offsets of the start of the line `before` lines above `start` and of the end of the
    line `after` lines below `end` (or the text's ends)."""
    first = start
    for _ in range(before + 1):
        first = text.rfind("\n", 0, first)
        if first < 0:
            break
    last = end
    for _ in range(after + 1):
        last = text.find("\n", last + 1)
        if last < 0:
            last = len(text)
            break
    return first + 1, last


def last_match(
    pattern: re.Pattern[str], text: str, needles: tuple[str, ...] = ()
) -> re.Match[str] | None:
    """The last match of `pattern` in `text`: the most recent occurrence is the one that counts
    when a service retried or a log holds an older run.

    `needles` are plain strings one of which every match contains. With them the pattern runs
    only on the lines around their occurrences, latest first: finding a string is a memchr-speed
    scan, while a pattern of many alternatives tries each at every position of the text.
    """
    if not needles:
        found = None
        for found in pattern.finditer(text):  # noqa: B007 - the loop keeps the last one
            pass
        return found
    # Each needle's latest occurrence, found once; after a window that holds no match only the
    # needles that reached past its start are looked for again, further back. (Looking every
    # needle up again on each round cost a scan of the text per needle per round.)
    positions = [text.rfind(needle) for needle in needles]
    while True:
        hit = max(positions)
        if hit < 0:
            return None
        start, stop = _lines_window(text, hit, hit, _WINDOW, _WINDOW)
        found = None
        for found in pattern.finditer(text, start, stop):  # noqa: B007
            pass
        if found is not None:
            return found
        for index, (needle, position) in enumerate(zip(needles, positions, strict=True)):
            if position >= 0 and position + len(needle) > hit:
                positions[index] = text.rfind(needle, 0, hit)


# Lines either side of a needle the pattern looks at: longer than any pattern's match.
_WINDOW = 8


def _clip(text: str) -> str:
    lines = text.splitlines()[-EXCERPT_LINES:]
    out = "\n".join(line if len(line) <= 500 else line[:497] + "..." for line in lines)
    return out[-EXCERPT_CHARS:]


def service_for(hosts: Mapping[str, str], text: str) -> str | None:
    """The service a host, `host:port` or URL in `text` names, if any."""
    for match in re.finditer(r"([A-Za-z0-9][A-Za-z0-9_.-]*)(?::(\d{1,5}))?", text):
        host, port = match.group(1), match.group(2)
        if port and f"{host}:{port}" in hosts:
            return hosts[f"{host}:{port}"]
        if host in hosts and not host.replace(".", "").isdigit():
            return hosts[host]
    return None
