"""The Rule base class: a rule describes itself, and its docstring is its documentation.

    class WorkerEnvDrift(Rule):
        \"\"\"## What it does
        Flags a worker whose sibling API service sets env vars the worker lacks.

        ## Why is this bad?
        …

        ## Example
        …
        \"\"\"

        code = "ENV005"
        name = "worker-env-drift"
        severity = Severity.MEDIUM
        fix = Fix.NONE

        def check(self, platform: Platform) -> Iterator[Finding]:
            for service in platform.services:
                yield self.finding("…", service.path, service.line, service=service.name)

Rules read the parsed `Platform` only; they never open files, import or run scanned code.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, Protocol, TypeVar

from passmuster.core.findings import Finding, Fix, Fixit, Location
from passmuster.core.issues import Severity
from passmuster.core.plugins import description_problems
from passmuster.scanner.context.model import Platform, ServiceDef

CODE_PATTERN = re.compile(r"^[A-Z]{2,5}[0-9]{3}$")
REQUIRED_HEADINGS = ("## What it does", "## Why is this bad?", "## Example")
RuleT = TypeVar("RuleT", bound="Rule")


class Placed(Protocol):
    """Anything read from a file at a line: a variable, a command, a port, a service."""

    @property
    def path(self) -> str: ...

    @property
    def line(self) -> int | None: ...


PlacedT = TypeVar("PlacedT", bound=Placed)


class Rule:
    """Base of every rule. Subclasses set the class attributes and implement `check`."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.MEDIUM
    fix: ClassVar[Fix] = Fix.NONE
    # Options a user may set under [scan.options.<CODE>] in passmuster.toml, with defaults.
    default_options: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: dict[str, Any] = {**self.default_options, **(options or {})}

    def check(self, platform: Platform) -> Iterable[Finding]:
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers

    def finding(
        self,
        message: str,
        path: str,
        line: int | None = None,
        *,
        service: str | None = None,
        related: Iterable[Location] = (),
        fix: Fixit | None = None,
        key: str | None = None,
        column: int | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this rule; `key` stays the same when lines move (default: message)."""
        return Finding(
            code=self.code,
            message=message,
            path=path,
            line=line,
            severity=severity or self.severity,
            service=service,
            fix=fix,
            related=tuple(related),
            column=column,
            key=key,
        )

    # ------------------------------------------------------------------ self-description

    @classmethod
    def family(cls) -> str:
        """The code's letters: `REQ` for `REQ001`."""
        return cls.code.rstrip("0123456789")

    @classmethod
    def docs(cls) -> str:
        """The rule's documentation page (its docstring), without the indentation."""
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        """The first sentence under "## What it does"."""
        text = cls.docs()
        marker = "## What it does"
        if marker in text:
            text = text.split(marker, 1)[1]
        paragraph = text.strip().split("\n\n", 1)[0]
        return " ".join(paragraph.split())

    @classmethod
    def problems(cls) -> list[str]:
        """What is wrong with this rule's self-description; empty when it is complete."""
        found: list[str] = []
        if not CODE_PATTERN.match(cls.code):
            found.append(f"code {cls.code!r} is not letters followed by three digits")
        found += description_problems(cls.name, cls.severity, cls.docs(), REQUIRED_HEADINGS)
        if not isinstance(cls.fix, Fix):
            found.append("fix is not a Fix")
        return found


def also_at(
    places: Iterable[tuple[ServiceDef, PlacedT]], message: str | Callable[[PlacedT], str]
) -> list[Location]:
    """A finding's related locations: each further (service, place) the same problem stands
    at, with `message` (or `message(place)`)."""
    return [
        Location(
            place.path,
            place.line,
            message=message if isinstance(message, str) else message(place),
            service=service.name,
        )
        for service, place in places
    ]


def reported_once(
    check: Callable[[RuleT, Platform], Iterable[Finding]],
) -> Callable[[RuleT, Platform], Iterator[Finding]]:
    """A rule's `check` whose findings pass through `unique`: each problem once."""

    @functools.wraps(check)
    def check_once(rule: RuleT, platform: Platform) -> Iterator[Finding]:
        return unique(check(rule, platform))

    return check_once


def unique(findings: Iterable[Finding]) -> Iterator[Finding]:
    """Each problem once: siblings built from one context share files (code, Dockerfile,
    requirements), and a problem in a shared file is reported for the first service only."""
    seen: set[tuple[str, int | None, int | None, str]] = set()
    for finding in findings:
        mark = (finding.path, finding.line, finding.column, finding.key or finding.message)
        if mark not in seen:
            seen.add(mark)
            yield finding
