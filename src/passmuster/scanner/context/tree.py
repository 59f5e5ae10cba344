"""The repository as files: one walk sorts them by kind, and each is read at most once.

Committed virtualenvs (any folder holding a `pyvenv.cfg`), node_modules, site-packages, VCS
folders and caches are never entered, nor is anything `[scan] exclude` or a `.gitignore` names.
"""

from __future__ import annotations

import codecs
import fnmatch
import io
import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec
from dulwich.index import read_index

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
# Folders of documentation, examples and test data: what is there shows how, and runs nowhere.
SAMPLE_FOLDERS = frozenset(
    {
        "fixtures",
        "fixture",
        "testdata",
        "test-data",
        "test_data",
        "examples",
        "example",
        "samples",
        "sample",
        "docs",
        "doc",
        "documentation",
        "__tests__",
        "mocks",
    }
)
_COMPOSE = re.compile(r"^(docker-)?compose([._-][\w.-]+)?\.ya?ml$")
_REQUIREMENTS = re.compile(r"^(.*requirements.*|constraints.*)\.(txt|in)$", re.IGNORECASE)

_DOCUMENT_SUFFIXES = (".md", ".rst", ".markdown", ".sh")
# `.env`, `.env.example`, `.env-local`, `env.example`, `api.env`.
_ENV_FILE = re.compile(r"^(\.env([._-][\w.-]*)?|env\.(example|sample|template|dist|local))$")
_Ignores = list[tuple[str, pathspec.GitIgnoreSpec]]
# Substrings every credential ENV008 recognises contains: a file without any is not kept.
_CREDENTIAL_MARKERS = (
    "PRIVATE KEY-----",
    "AKIA",
    "ASIA",
    "AIza",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xox",
    "_live_",
    "SG.",
    "sk-",
    "gsk_",
    "hf_",
)
# Files a credential gets committed in besides env, compose and Python files: key files
# (`private.pem`, `jwt_private.key`, `id_ed25519`) and configuration in the common text formats.
_KEY_FILE = re.compile(r"^(.*\.(pem|key|p8)|id_(rsa|dsa|ecdsa|ed25519))$")
_CONFIG_FILE = re.compile(r"^.*\.(ya?ml|json|toml|ini|cfg|conf|properties|tfvars)$")
# Files machines write, never where someone pastes a key.
_LOCK_FILE = re.compile(r"^(package-lock\.json|.*\.lock|.*-lock\.ya?ml|composer\.lock)$")


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
    documents: list[str] = field(default_factory=list)  # README.md, docs/*.md, …
    # Key files and configuration files, read only for committed credentials (ENV008).
    credential_files: set[str] = field(default_factory=set)
    ignores: _Ignores = field(default_factory=list)  # the .gitignore files read, by folder
    all_files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    _refused: set[str] = field(default_factory=set)

    def walk(self, exclude: Iterable[str] = (), *, respect_gitignore: bool = True) -> None:
        """Sort every file under the root by kind (skipping what is never read)."""
        excludes = list(exclude)
        root = str(self.root)
        ignores = self.ignores
        # Git never ignores a file it tracks: a committed .env listed in .gitignore is read.
        tracked, tracked_dirs = self._tracked() if respect_gitignore else (set(), set())
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
                if _excluded(rel, excludes):
                    continue
                if rel not in tracked_dirs and _ignored(rel + "/", ignores):
                    continue
                kept.append(d)
            dirnames[:] = kept
            self.dirs.add(rel_dir or ".")
            for name in sorted(filenames):
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if _excluded(rel, excludes):
                    continue
                if rel not in tracked and _ignored(rel, ignores):
                    continue
                self._sort(rel_dir, rel, name)

    def _tracked(self) -> tuple[set[str], set[str]]:
        """The files the repository's git index tracks, and the folders holding them; empty
        when there is no readable index (not a git checkout, or a worktree's `.git` file)."""
        try:
            data = self.reader.read(".git/index")
        except Unreadable:
            return set(), set()
        try:
            files = {
                entry.name.decode("utf-8", "replace") for entry in read_index(io.BytesIO(data))
            }
        except Exception:  # a damaged or unknown index format: fall back to .gitignore alone
            return set(), set()
        folders: set[str] = set()
        for path in files:
            folder = posixpath.dirname(path)
            while folder and folder not in folders:
                folders.add(folder)
                folder = posixpath.dirname(folder)
        return files, folders

    def _sort(self, rel_dir: str, rel: str, name: str) -> None:
        self.all_files.add(rel)
        lower = name.lower()
        if (_KEY_FILE.match(lower) or _CONFIG_FILE.match(lower)) and not _LOCK_FILE.match(lower):
            self.credential_files.add(rel)
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
        elif _ENV_FILE.match(lower) or lower.endswith(".env"):
            self.env_files.add(rel)
        elif lower.endswith(".py"):
            self.python_by_dir.setdefault(rel_dir, []).append(rel)
        elif lower.endswith((".md", ".rst", ".markdown", ".sh")) or lower in (
            "makefile",
            "justfile",
        ):
            # Documentation, and the scripts and make targets that write env files or run
            # compose with variables set.
            self.documents.append(rel)

    def _gitignore(self, path: str) -> pathspec.GitIgnoreSpec | None:
        text = self.text(path)
        return None if text is None else pathspec.GitIgnoreSpec.from_lines(text.splitlines())

    def text(self, path: str, *, remember: bool = True) -> str | None:
        """The file's text (read once, a BOM dropped), or None when it cannot be read.

        Every read goes through the safe reader (see reading.py); a file it refuses is a
        problem naming the reason, reported once. `remember=False` reads documentation: kept
        out of the scanned texts, and not judged (a README need not be UTF-8 for the scan).
        """
        cached = self.texts.get(path)
        if cached is not None:
            return cached
        try:
            data = self.reader.read(path)
        except FileMissing:
            return None
        except Unreadable as exc:
            if remember and path not in self._refused:
                self._refused.add(path)
                self.problems.append(ParseProblem(path, None, exc.reason))
            return None
        try:
            text = data.decode(_encoding(data))
        except UnicodeDecodeError as exc:
            if remember:
                self.problems.append(
                    ParseProblem(path, None, f"not UTF-8 text: {exc.reason} at byte {exc.start}")
                )
            text = data.decode("utf-8", errors="replace")
        if text.startswith("\ufeff"):
            text = text[1:]
        if remember:
            self.texts[path] = text
        return text

    def gitignored(self, path: str) -> bool:
        """Whether a .gitignore of the repository ignores `path` (a file that is generated
        or kept out of version control on purpose, such as a local `.env` or `logs/`)."""
        return _ignored(path, self.ignores) or _ignored(path + "/", self.ignores)

    def absent_submodules(self) -> frozenset[str]:
        """The submodules `.gitmodules` declares whose folder holds nothing: a clone made
        without `--recurse-submodules`, where the code is elsewhere, not missing."""
        text = self.text(".gitmodules", remember=False)
        if text is None:
            return frozenset()
        absent: set[str] = set()
        for match in _SUBMODULE_PATH.finditer(text):
            path = inside(match.group(1).strip().strip('"'))
            if path is None:
                continue
            folder = self.root / path
            if not folder.is_dir() or not any(folder.iterdir()):
                absent.add(path)
        return frozenset(absent)

    def exists(self, path: str | None) -> bool:
        if path is None:
            return False
        return path in self.all_files or (self.root / path).exists()

    def is_dir(self, path: str) -> bool:
        return path in self.dirs or (self.root / path).is_dir()


# Byte-order marks, longest first (UTF-32's starts like UTF-16's): `pip freeze > file` in
# Windows PowerShell writes UTF-16, which pip, Python and compose all read.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# `path = services/auth` inside a `[submodule "…"]` section of .gitmodules (git-config syntax).
_SUBMODULE_PATH = re.compile(r"^\s*path\s*=\s*(.+?)\s*$", re.MULTILINE)


def _encoding(data: bytes) -> str:
    """The encoding a file's byte-order mark names, else UTF-8."""
    return next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")


def has_credential_marker(text: str) -> bool:
    """Whether `text` may hold a credential ENV008 recognises (a cheap test before its
    patterns run)."""
    return any(marker in text for marker in _CREDENTIAL_MARKERS)


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
