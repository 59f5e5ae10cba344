from __future__ import annotations

import re

from passmuster.core.deploy.classify import Classifier, Evidence, Match, around, last_match

_BUILD = re.compile(
    r"failed to solve|did not complete successfully: exit code|executor failed running|"
    r"Could not find a version that satisfies the requirement\s+(?P<pkg1>[\w.\-\[\]]+)|"
    r"No matching distribution found for\s+(?P<pkg2>[\w.\-\[\]]+)|"
    r"Failed building wheel for\s+(?P<pkg3>[\w.\-]+)|"
    # pip's summary names the packages after its sentence: `Failed to build installable wheels
    # for some pyproject.toml based projects (ruff, levenshtein)`, or under it after `╰─>`.
    r"Failed to build installable wheels for some pyproject\.toml based projects"
    r"(?:[ \t]*\((?P<pkg6>[\w.\-]+)|[ \t]*\n[^\w\n]*(?P<pkg7>[\w.\-]+))?|"
    r"Could not build wheels for (?P<pkg8>[\w.\-]+)|"
    r"Failed to build\s+(?!installable wheels)(?P<pkg4>[\w.\-]+)|"
    r"error: subprocess-exited-with-error|ResolutionImpossible|"
    r"because these package versions have conflicting dependencies|"
    r"pg_config executable not found|error: command '[\w./-]*(?:gcc|cc|g\+\+)' failed|"
    r"COPY failed|failed to compute cache key|failed to read dockerfile|"
    r"unable to prepare context|ERROR: Invalid requirement|"
    r"Service '[\w.-]+' failed to build|target [\w.-]+: failed to solve|"
    # The classic builder: `The command '/bin/sh -c pip install …' returned a non-zero code: 1`.
    r"The command '[^\n]{0,2000}?' returned a non-zero code|"
    # Poetry: `Package docutils (0.21.post1) not found.`, `version solving failed`.
    r"Package (?P<pkg5>[\w.\-\[\]]+) \([^)\n]*\) not found|version solving failed",
)
# Package names alone, for a build whose last error line (BuildKit's `executor failed running`,
# the classic builder's `returned a non-zero code`) names none while pip's lines above it do.
_PACKAGE = re.compile(
    r"(?:Could not find a version that satisfies the requirement|No matching distribution found "
    r"for|Failed building wheel for|Failed to build(?! installable wheels)|Could not build wheels "
    r"for)\s+(?P<pkg>[\w.\-\[\]]+)"
)
# A package built from source that failed (pg_config or a compiler missing): pip names it only
# on its `Collecting psycopg2==2.9.6` line above the build's output.
_FROM_SOURCE = re.compile(
    r"pg_config executable not found|error: subprocess-exited-with-error|"
    r"did not run successfully|Command \"python setup\.py [\w ]+\" failed|"
    r"error: command '[\w./-]*(?:gcc|cc|g\+\+)' failed"
)
_FROM_SOURCE_NEEDLES = (
    "pg_config",
    "subprocess-exited-with-error",
    "did not run",
    "setup.py",
    "error: command '",
)
_COLLECTING = re.compile(r"\bCollecting (?P<pkg>[A-Za-z0-9][\w.\-\[\]]*)")
_PACKAGE_NEEDLES = (
    "Could not find a version that satisfies the requirement",
    "No matching distribution found for",
    "Failed building wheel for",
    "Failed to build",
)

_NEEDLES = (
    "failed to solve",
    "did not complete successfully: exit code",
    "executor failed running",
    "Could not find a version that satisfies the requirement",
    "No matching distribution found for",
    "Failed building wheel for",
    "Failed to build",
    "error: subprocess-exited-with-error",
    "ResolutionImpossible",
    "because these package versions have conflicting dependencies",
    "pg_config executable not found",
    "error: command '",
    "COPY failed",
    "failed to compute cache key",
    "failed to read dockerfile",
    "unable to prepare context",
    "ERROR: Invalid requirement",
    "failed to build",
    "Could not build wheels for",
    "returned a non-zero code",
    ") not found",
    "version solving failed",
)


class BuildFailed(Classifier):
    """## What it catches
    An image that does not build: `failed to solve`, a `RUN pip install` that `did not
    complete successfully` or (classic builder) `returned a non-zero code`, pip's `No matching
    distribution found for …`, `ResolutionImpossible` and conflicting dependencies, Poetry's
    `Package … not found` and `version solving failed`, `Failed building wheel for …`,
    `pg_config executable not found`, a compiler missing (`error: command 'gcc' failed`),
    `COPY failed` or a file missing from the build context.

    ## Why it happens
    Requirements that cannot be installed together (two pins of one package, a package pinned
    to a version that does not exist), a package compiled from source on a slim image without
    build tools, or a Dockerfile copying a file from outside its build context.

    ## How to fix it
    Read the first `ERROR` of the build. Pin versions that exist and agree across the service's
    requirement files and the shared ones (`passmuster scan --select REQ` lists conflicts);
    install `gcc`/`libpq-dev` in the build stage or use binary wheels (`psycopg2-binary`,
    `psycopg[binary]`); keep `COPY` sources inside the build context.
    """

    name = "build-failed"
    title = "Service images fail to build"
    order = 20
    predicted_by = ("IMG001", "REQ003", "REQ004", "REQ006", "REQ007", "REQ008", "REQ009", "REF002")

    def match(self, evidence: Evidence) -> Match | None:
        text = evidence.text
        found = last_match(_BUILD, text, _NEEDLES)
        if found is None:
            return None
        package = next(
            (
                found.group(g)
                for g in ("pkg1", "pkg2", "pkg3", "pkg4", "pkg5", "pkg6", "pkg7", "pkg8")
                if found.group(g)
            ),
            None,
        )
        if package is None:
            earlier = last_match(
                _PACKAGE, text[max(0, found.start() - 4000) : found.start()], _PACKAGE_NEEDLES
            )
            package = earlier.group("pkg") if earlier is not None else None
        if package is None:
            package = _built_from_source(text, found.start())
        line_start = text.rfind("\n", 0, found.start()) + 1
        line_end = text.find("\n", found.end())
        line = text[line_start : line_end if line_end >= 0 else len(text)].strip()
        summary = f"build failed: {line[:200]}"
        return Match(summary, around(text, found.start(), found.end(), before=6), package)


def _built_from_source(text: str, before: int) -> str | None:
    """The package pip was building when a from-source build failed above `before`."""
    window_start = max(0, before - 6000)
    window = text[window_start : before + 200]
    if not any(marker in window for marker in _FROM_SOURCE_NEEDLES):
        return None
    failed = None
    for failed in _FROM_SOURCE.finditer(window):  # noqa: B007 - the loop keeps the last one
        pass
    if failed is None:
        return None
    collecting = None
    for collecting in _COLLECTING.finditer(window, 0, failed.start()):  # noqa: B007
        pass
    return collecting.group("pkg") if collecting is not None else None
