"""Inline suppressions work in every file type the scanner reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from passmuster.core.findings import Finding
from passmuster.scanner import meta
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.context import Platform
from passmuster.scanner.engine import find_suppressions, scan
from passmuster.scanner.registry import Registry
from passmuster.scanner.rule import Rule
from tests.scanner.helpers import WriteTree


class MarkedLines(Rule):
    """## What it does
    Test rule: flags every line containing the word MARK in any file the scan read.

    ## Why is this bad?
    It exercises suppressions in each file type.

    ## Example
    `x = 1  # MARK`
    """

    code = "TST020"
    name = "marked-lines"

    def check(self, platform: Platform) -> Iterator[Finding]:
        for path, text in sorted(platform.texts.items()):
            for number, line in enumerate(text.splitlines(), start=1):
                if "MARK" in line:
                    yield self.finding("marked", path, number, key=f"{path}:{number}")


FILES = {
    "docker-compose.yml": """
        services:
          api:
            build: ./api
            env_file: api/.env
            environment:
              A: "MARK"  # passmuster: ignore[TST020] yaml, same line
              B: "MARK"
        """,
    "api/Dockerfile": """
        FROM python:3.11-slim
        # passmuster: ignore[TST020] dockerfile comments stand alone
        ENV MARK=1
        ENV OTHER=MARK
        COPY requirements.txt .
        RUN pip install -r requirements.txt
        """,
    "api/requirements.txt": """
        fastapi==0.115.0  # MARK  # passmuster: ignore[TST] prefix works
        httpx==0.28.1  # MARK
        """,
    "api/.env": """
        # passmuster: ignore[TST020] env file, line before
        TOKEN=MARK
        LEVEL=MARK
        """,
    "api/app.py": """
        x = "MARK"  # passmuster: ignore[TST020] python
        y = "MARK"
        """,
}


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.register_module(meta)
    registry.register(MarkedLines)
    return registry


def test_each_file_type_honours_its_suppressions(write_tree: WriteTree, registry: Registry) -> None:
    root = write_tree(FILES)
    result = scan(root, ScanConfig(select=["TST020", "PM002"]), registry=registry)
    reported = sorted((f.path, f.line) for f in result.findings)
    suppressed = sorted((f.path, f.line) for f in result.suppressed)
    assert suppressed == [
        ("api/.env", 2),
        ("api/Dockerfile", 3),
        ("api/app.py", 1),
        ("api/requirements.txt", 1),
        ("docker-compose.yml", 6),
    ]
    assert reported == [
        ("api/.env", 3),
        ("api/Dockerfile", 4),
        ("api/app.py", 2),
        ("api/requirements.txt", 2),
        ("docker-compose.yml", 7),
    ]


def test_suppressions_keep_their_reason(write_tree: WriteTree) -> None:
    from passmuster.scanner.context import discover

    platform = discover(write_tree(FILES))
    reasons = {(s.path, s.line): (s.codes, s.reason) for s in find_suppressions(platform)}
    assert reasons[("api/Dockerfile", 2)] == (("TST020",), "dockerfile comments stand alone")
    assert reasons[("api/requirements.txt", 1)] == (("TST",), "prefix works")
