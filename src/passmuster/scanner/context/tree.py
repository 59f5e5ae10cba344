"""The repository as files: one walk sorts them by kind, and each is read at most once.

Committed virtualenvs (any folder holding a `pyvenv.cfg`), node_modules, site-packages, VCS
folders and caches are never entered, nor is anything `[scan] exclude` or a `.gitignore` names.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from passmuster.scanner.context.model import ParseProblem
from passmuster.scanner.context.reading import FileMissing, RepoReader, Unreadable

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "site-packages",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".passmuster",
        ".idea",
        ".vscode",
        "dist-packages",
        ".eggs",
    }
)
_COMPOSE = re.compile(r"^(docker-)?compose(\.[\w.-]+)?\.ya?ml$")
_REQUIREMENTS = re.compile(r"^(.*requirements.*|constraints.*)\.(txt|in)$", re.IGNORECASE)

_Ignores = list[tuple[str, pathspec.GitIgnoreSpec]]


@dataclass
class RepositoryTree:
    """The files of one repository by kind, found in one walk, and their texts once read.

    Paths are relative to the root and use `/`. `texts` and `problems` are the platform's own
    (shared), so what is read here is what suppressions and reporters see.
    """

    root: Path
    texts: dict[str, str]
    problems: list[ParseProblem]
    reader: RepoReader
    compose: list[str] = field(default_factory=list)
    dockerfiles: set[str] = field(default_factory=set)
    requirements: set[str] = field(default_factory=set)
    env_files: set[str] = field(default_factory=set)
    python_by_dir: dict[str, list[str]] = field(default_factory=dict)
    all_files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    _refused: set[str] = field(default_factory=set)

    def walk(self, exclude: Iterable[str] = (), *, respect_gitignore: bool = True) -> None:
        """Sort every file under the root by kind (skipping what is never read)."""
        excludes = list(exclude)
        root = str(self.root)
        ignores: _Ignores = []
        for folder, dirnames, filenames in os.walk(root):
            rel_dir = os.path.relpath(folder, root).replace(os.sep, "/")
            rel_dir = "" if rel_dir == "." else rel_dir
            if respect_gitignore and ".gitignore" in filenames:
                spec = self._gitignore(f"{rel_dir}/.gitignore" if rel_dir else ".gitignore")
                if spec is not None:
                    ignores.append((rel_dir, spec))
            kept = []
            for d in sorted(dirnames):
                rel = f"{rel_dir}/{d}" if rel_dir else d
                if d in SKIP_DIRS or d.endswith(".egg-info"):
                    continue
                if os.path.exists(os.path.join(folder, d, "pyvenv.cfg")):
                    continue  # a committed virtualenv under any name
                if _excluded(rel, excludes) or _ignored(rel + "/", ignores):
                    continue
                kept.append(d)
            dirnames[:] = kept
            self.dirs.add(rel_dir or ".")
            for name in sorted(filenames):
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if _excluded(rel, excludes) or _ignored(rel, ignores):
                    continue
                self._sort(rel_dir, rel, name)

    def _sort(self, rel_dir: str, rel: str, name: str) -> None:
        self.all_files.add(rel)
        lower = name.lower()
        if _COMPOSE.match(lower):
            self.compose.append(rel)
        elif (
            lower == "dockerfile"
            or lower.startswith("dockerfile.")
            or lower.endswith(".dockerfile")
        ):
            self.dockerfiles.add(rel)
        elif _REQUIREMENTS.match(name):
            self.requirements.add(rel)
        elif lower == ".env" or lower.startswith(".env.") or lower.endswith(".env"):
            self.env_files.add(rel)
        elif lower.endswith(".py"):
            self.python_by_dir.setdefault(rel_dir, []).append(rel)

    def _gitignore(self, path: str) -> pathspec.GitIgnoreSpec | None:
        text = self.text(path)
        return None if text is None else pathspec.GitIgnoreSpec.from_lines(text.splitlines())

    def text(self, path: str) -> str | None:
        """The file's text (read once, a BOM dropped), or None when it cannot be read.

        Every read goes through the safe reader (see reading.py); a file it refuses is a
        problem naming the reason, reported once.
        """
        cached = self.texts.get(path)
        if cached is not None:
            return cached
        try:
            data = self.reader.read(path)
        except FileMissing:
            return None
        except Unreadable as exc:
            if path not in self._refused:
                self._refused.add(path)
                self.problems.append(ParseProblem(path, None, exc.reason))
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problems.append(
                ParseProblem(path, None, f"not UTF-8 text: {exc.reason} at byte {exc.start}")
            )
            text = data.decode("utf-8", errors="replace")
        if text.startswith("\ufeff"):
            text = text[1:]
        self.texts[path] = text
        return text

    def exists(self, path: str | None) -> bool:
        if path is None:
            return False
        return path in self.all_files or (self.root / path).exists()

    def is_dir(self, path: str) -> bool:
        return path in self.dirs or (self.root / path).is_dir()


def inside(path: str) -> str | None:
    """`path` normalised and relative to the root, or None when it leaves the root."""
    if path.startswith("/") or path.startswith("~"):
        return None
    norm = posixpath.normpath(path)
    if norm == ".." or norm.startswith("../"):
        return None
    return norm


def _ignored(path: str, ignores: _Ignores) -> bool:
    """Whether a .gitignore above `path` ignores it (a trailing `/` marks a folder)."""
    for base, spec in ignores:
        if not base:
            if spec.match_file(path):
                return True
        elif path.startswith(base + "/") and spec.match_file(path[len(base) + 1 :]):
            return True
    return False


def _excluded(path: str, patterns: Iterable[str]) -> bool:
    return any(
        fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.rstrip("/") + "/*")
        for pattern in patterns
    )
