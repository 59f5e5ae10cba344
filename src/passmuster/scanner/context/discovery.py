"""Read a platform repository once into a `Platform`.

One walk sorts the files (tree.py); compose files become projects and services (compose.py,
with one reader per compose key in compose_keys.py); a folder whose Python Dockerfile no compose
file uses becomes a service of its own (unwired.py); each service is completed from its
Dockerfile, command, code and requirements (services.py); every env and requirements file of
the repository is read too, whether or not a service loads it. Problems with a file become
`ParseProblem`s; discovery goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from passmuster.errors import ParseError
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.context.compose import ComposeReader
from passmuster.scanner.context.dockerfile import parse_dockerfile
from passmuster.scanner.context.envfile import parse_env_file
from passmuster.scanner.context.model import Dockerfile, EnvFile, Platform
from passmuster.scanner.context.reading import Deadline, RepoReader
from passmuster.scanner.context.requirements import parse_requirements
from passmuster.scanner.context.services import ServiceCompleter
from passmuster.scanner.context.tree import RepositoryTree, has_credential_marker, inside
from passmuster.scanner.context.unwired import unwired_services

ParsedT = TypeVar("ParsedT", EnvFile, Dockerfile)

_DOCUMENT_BUDGET = 16 * 1024 * 1024  # characters of documentation read at most
_DOCUMENT_COUNT = 400


def discover(
    root: Path, config: ScanConfig | None = None, *, deadline: Deadline | None = None
) -> Platform:
    """Parse the platform under `root`. Never raises for a bad scanned file; see `problems`.

    Without `config`, the platform's own passmuster.toml (or [tool.passmuster]) is read.
    Raises ScanTimeout past `deadline` (by default `config.timeout` from now).
    """
    root = root.resolve()
    if not root.is_dir():
        raise ParseError(root, None, "not a folder")
    if config is None:
        from passmuster.settings import find_config

        config = ScanConfig.from_project(find_config(root))
    return _Discovery(root, config, deadline).run()


class _Discovery:
    def __init__(self, root: Path, config: ScanConfig, deadline: Deadline | None) -> None:
        self.config = config
        self.platform = Platform(root=root, options=dict(config.options))
        reader = RepoReader(
            str(root),
            max_bytes=config.max_file_bytes,
            deadline=deadline or Deadline.after(config.timeout),
        )
        self.tree = RepositoryTree(root, self.platform.texts, self.platform.problems, reader)

    def run(self) -> Platform:
        self.tree.walk(self.config.exclude, respect_gitignore=self.config.respect_gitignore)
        self.platform.gitignored = self.tree.gitignored
        self.platform.python_paths = frozenset(
            path for paths in self.tree.python_by_dir.values() for path in paths
        )
        self.platform.absent_submodules = self.tree.absent_submodules()
        ComposeReader(self.tree, self.platform, self.config.compose, self.env_file).read()
        completer = ServiceCompleter(
            self.tree, self.platform, self.config, self.dockerfile, self.requirements
        )
        completer.apply_overrides()
        for service in self.platform.services:
            completer.complete(service)
        self.platform.unwired = unwired_services(
            self.tree, self.platform.services, self.platform.root.name
        )
        for service in self.platform.unwired:
            completer.complete(service)
        for path in sorted(self.tree.env_files):
            self.env_file(path)
        for path in sorted(self.tree.requirements):
            self.requirements(path)
        self._documents()
        self._credential_texts()
        return self.platform

    def _credential_texts(self) -> None:
        """Key files, configuration and Python code outside what the services run, kept when
        they hold a credential's marker. Read without judging the file (`remember=False`): a
        binary `.key` or a Latin-1 YAML is no parse problem of the platform."""
        python = (path for paths in self.tree.python_by_dir.values() for path in paths)
        for path in sorted({*self.tree.credential_files, *python}):
            if path in self.platform.texts:
                continue  # read as the platform's own file; rules see it in `texts`
            text = self.tree.text(path, remember=False)
            if text is not None and has_credential_marker(text):
                self.platform.credential_texts[path] = text

    def _documents(self) -> None:
        """The documentation, shallowest first, within a budget: a docs site of thousands of
        pages says little more about the variables a compose file needs than its README."""
        budget = _DOCUMENT_BUDGET
        for path in sorted(self.tree.documents, key=lambda p: (p.count("/"), p)):
            if budget <= 0 or len(self.platform.documents) >= _DOCUMENT_COUNT:
                break
            text = self.tree.text(path, remember=False)
            if text is not None:
                self.platform.documents[path] = text
                budget -= len(text)

    def env_file(self, path: str) -> EnvFile:
        return self._parsed(self.platform.env_files, path, parse_env_file)

    def dockerfile(self, path: str) -> Dockerfile:
        return self._parsed(self.platform.dockerfiles, path, parse_dockerfile)

    def _parsed(
        self, cache: dict[str, ParsedT], path: str, parse: Callable[[str, str], ParsedT]
    ) -> ParsedT:
        """The file at `path`, parsed once a scan; its problems join the platform's."""
        parsed = cache.get(path)
        if parsed is None:
            parsed = cache[path] = parse(self.tree.text(path) or "", path)
            self.platform.problems.extend(parsed.problems)
        return parsed

    def requirements(self, path: str) -> None:
        if path in self.platform.requirements_files:
            return
        text = self.tree.text(path)
        if text is None:
            return
        self.platform.requirements_files[path] = parse_requirements(
            text, path, exists=lambda p: p in self.tree.all_files, inside=inside
        )
