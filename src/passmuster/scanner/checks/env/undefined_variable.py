from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.rule import Rule, reported_once

_EXAMPLE = re.compile(r"(example|sample|template|dist)")
_CI_FOLDER = re.compile(r"(^|/)(\.ci|ci|\.github|\.circleci|\.gitlab)/")
_NAME = re.compile(r"\b[A-Z][A-Z0-9_]{2,}\b")


class UndefinedVariable(Rule):
    """## What it does
    Flags the `${VAR}` (or `$VAR`) uses of a compose file that have no default
    (`${VAR:-default}`), are not required with a message (`${VAR:?message}`), and that
    nothing documents. A variable is documented when the repository's documentation (README
    and other Markdown files), its scripts and Makefile, or the compose file's own comments
    name it; otherwise, when the compose file's project has an example env file
    (`.env.example`, `.env.sample`, `.env.template`, `env.example` in its folder or above),
    it must be in it, and without one, in some env file of the repository (`.env`, any
    `*.env`, tracked even if `.gitignore` lists it). Compose files of a CI system (`.ci/`,
    `.github/`) are fed by it and left alone.

    One finding per compose file lists every such variable and where it is used.

    ## Why is this bad?
    Compose substitutes an empty string and only warns (`The "JWT_SECRET" variable is not
    set. Defaulting to a blank string.`), so the service starts with an empty secret, port
    or URL and fails later in a confusing way; a newcomer copying `.env.example` has no way
    to know the variable exists.

    ## Example
    ```yaml
    services:
      identity:
        environment:
          JWT_SECRET: ${JWT_SECRET}
    ```
    with no `JWT_SECRET=` line in `.env.example`.

    ## How to fix
    Document the variable in `.env.example`, give it a default (`${LOG_LEVEL:-info}`), or make
    it required with a message (`${JWT_SECRET:?set JWT_SECRET in .env}`).
    """

    code = "ENV001"
    name = "undefined-variable"
    severity = Severity.MEDIUM
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        defined: set[str] = set()
        for env_file in platform.env_files.values():
            defined.update(entry.key for entry in env_file.entries)
        documented = platform.derived("documented-names", lambda: _documented(platform))
        for path, compose in sorted(platform.compose_files.items()):
            if _CI_FOLDER.search(path):
                continue  # run by a CI system, which sets its own variables
            # The compose file's own comments document variables too.
            commented = set(_NAME.findall(_comments(platform.texts.get(path, ""))))
            examples = _examples(platform, path)
            example_keys = {e.key for f in examples for e in platform.env_files[f].entries}
            missing: dict[str, int] = {}
            for use, line in compose.variables:
                if use.operator is not None or use.is_set or use.name in missing:
                    continue
                if use.name in commented or use.name in documented:
                    continue
                if examples:
                    if use.name in example_keys:
                        continue
                elif use.name in defined:
                    continue
                missing[use.name] = line
            if not missing:
                continue
            names = list(missing)
            first_line = missing[names[0]]
            where = f"in {', '.join(examples)}" if examples else "in any env file or document"
            yield self.finding(
                f"{_listed(names)} {'has' if len(names) == 1 else 'have'} no default and "
                f"{'is' if len(names) == 1 else 'are'} not defined {where}; compose "
                f"substitutes an empty string",
                path,
                first_line,
                service=_owner(compose.service_lines, first_line),
                related=[Location(path, missing[n], message=f"${{{n}}}") for n in names[1:]],
                key=",".join(sorted(names)),
            )


def _listed(names: list[str]) -> str:
    shown = ", ".join(f"${{{n}}}" for n in names[:8])
    return shown + (f" and {len(names) - 8} more" if len(names) > 8 else "")


def _owner(service_lines: dict[str, int], line: int) -> str | None:
    """The service whose definition starts last before `line`."""
    owner = None
    for name, start in sorted(service_lines.items(), key=lambda item: item[1]):
        if start <= line:
            owner = name
    return owner


def _examples(platform: Platform, compose_path: str) -> list[str]:
    """Example env files in the compose file's folder or a folder above it."""
    folder = posixpath.dirname(compose_path)
    found: list[str] = []
    while True:
        for path in platform.env_files:
            name = posixpath.basename(path).lower()
            if posixpath.dirname(path) == folder and _EXAMPLE.search(name):
                found.append(path)
        if found or not folder:
            return sorted(found)
        folder = posixpath.dirname(folder)


def _comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[1] for line in text.splitlines() if "#" in line)


def _documented(platform: Platform) -> frozenset[str]:
    """Every UPPER_CASE name the repository's documentation mentions."""
    names: set[str] = set()
    for text in platform.documents.values():
        names.update(_NAME.findall(text))
    return frozenset(names)
