"""Reasoning about requirement specifiers without a resolver.

pip picks the newest version a specifier allows, so "which version will this install" is
approximated by the newest candidate the specifier admits, and "can these two specifiers both
hold" by probing the versions they mention and the points just above them: any non-empty
intersection of intervals bounded by those versions contains one of the probes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

# Stands for "the newest release on the index" when a specifier has no upper bound.
LATEST = Version("999999")


def canonical(name: str) -> str:
    """The PEP 503 normalised name: `Psycopg2_Binary` and `psycopg2-binary` are one package."""
    return canonicalize_name(name)


def pinned_version(spec: SpecifierSet) -> str | None:
    """The exact version of an `==X` or `===X` pin (no wildcard), else None."""
    for item in spec:
        if item.operator in ("==", "===") and not item.version.endswith(".*"):
            return item.version
    return None


def _mentioned(specs: Iterable[SpecifierSet]) -> list[Version]:
    found: list[Version] = []
    for spec in specs:
        for item in spec:
            text = item.version.removesuffix(".*")
            try:
                found.append(Version(text))
            except InvalidVersion:
                continue
    return found


def _probes(specs: Iterable[SpecifierSet]) -> list[Version]:
    probes: set[Version] = {Version("0"), LATEST}
    for version in _mentioned(specs):
        release = version.release
        probes.add(version)
        # Just above the boundary: covers `>X` and `!=X` against an upper bound above X.
        probes.add(Version(".".join(map(str, (*release, 0, 0, 0, 1)))))
        # The next minor and major releases cover `~=`, `==X.*` and their upper edges.
        if len(release) >= 2:
            probes.add(Version(f"{release[0]}.{release[1] + 1}"))
        probes.add(Version(f"{release[0] + 1}"))
    return sorted(probes)


def _admits(spec: SpecifierSet, version: Version) -> bool:
    return spec.contains(version, prereleases=True)


def compatible(*specs: SpecifierSet) -> bool:
    """Whether some version satisfies every specifier (probed, so never a false "no")."""
    return any(all(_admits(s, v) for s in specs) for v in _probes(specs))


def likely_version(spec: SpecifierSet) -> Version | None:
    """The version pip would most likely install: the newest probe the specifier admits."""
    return _likely(str(spec))


@cache
def _likely(text: str) -> Version | None:
    spec = SpecifierSet(text)
    admitted = [v for v in _probes([spec]) if _admits(spec, v)]
    return admitted[-1] if admitted else None


def parse_specifier(text: str) -> SpecifierSet | None:
    """A specifier set from table text such as `<7.1`, or None when it is not one."""
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def describe(spec: SpecifierSet) -> str:
    """A specifier as a user wrote it, `any version` when empty."""
    return str(spec) if len(spec) else "any version"


__all__ = [
    "LATEST",
    "Specifier",
    "canonical",
    "compatible",
    "describe",
    "likely_version",
    "parse_specifier",
    "pinned_version",
]


# Tools a developer or CI runs against the code (tests, linters, formatters, type checkers):
# no service imports them while it runs, so services pinning them differently share nothing.
_DEVELOPER_TOOLS = frozenset(
    {
        "pytest",
        "coverage",
        "black",
        "ruff",
        "mypy",
        "flake8",
        "isort",
        "pylint",
        "pre-commit",
        "bandit",
        "tox",
        "nox",
        "autopep8",
        "yapf",
        "pyright",
        "safety",
        "pip-audit",
        "locust",
    }
)
_DEVELOPER_TOOL_PREFIXES = ("pytest-", "flake8-", "types-", "mypy-", "pylint-")


def is_developer_tool(name: str) -> bool:
    """Whether a package is a test runner, linter, formatter or type checker (or a plug-in of
    one): something run on the code, never imported by a running service."""
    canonical_name = canonicalize_name(name)
    return canonical_name in _DEVELOPER_TOOLS or canonical_name.startswith(_DEVELOPER_TOOL_PREFIXES)
