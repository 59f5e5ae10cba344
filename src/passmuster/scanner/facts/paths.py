"""Root-relative paths (`/`-separated) and what a file's name says about it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import PurePosixPath


def is_under(path: str, folder: str | None) -> bool:
    """Whether root-relative `path` lies inside root-relative `folder` ("." is the root)."""
    if folder is None:
        return False
    if folder in ("", "."):
        return not path.startswith("../")
    return PurePosixPath(path).is_relative_to(PurePosixPath(folder))


def relative(from_dir: str, to_path: str) -> str:
    """A relative path from a root-relative folder to a root-relative file, with `..`."""
    src = [p for p in PurePosixPath(from_dir).parts if p not in ("", ".")]
    dst = [p for p in PurePosixPath(to_path).parts if p not in ("", ".")]
    common = 0
    while common < min(len(src), len(dst) - 1) and src[common] == dst[common]:
        common += 1
    return "/".join([".."] * (len(src) - common) + dst[common:]) or "."


def parent(path: str) -> str:
    folder = str(PurePosixPath(path).parent)
    return "." if folder in ("", ".") else folder


def is_dev_file(path: str) -> bool:
    """Compose or Dockerfiles meant for development or CI: `*.dev.yml`, `*override*`,
    `local`, `docker-compose.ci.yml`, …"""
    name = PurePosixPath(path).name.lower()
    return bool(
        re.search(r"(^|[._-])(dev|develop|development|local|override|debug|test|ci)([._-]|$)", name)
    )


_TEST_FOLDERS = frozenset({"tests", "test", "e2e", "smoke", "smoke_tests", "integration_tests"})
_TEST_NAME = re.compile(r"^(test_.*|.*_test\.py|conftest\.py|smoke(_.*)?\.py|.*_smoke\.py)$")


@cache
def is_test_file(path: str) -> bool:
    """Test code (unit, end-to-end, smoke): run by a person or CI against the platform,
    never when a service starts."""
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else ""
    return any(p in _TEST_FOLDERS for p in parts[:-1]) or _TEST_NAME.match(name) is not None


_TEST_SETUP_NAME = re.compile(r"(^|[._-])(test|tests|e2e|ci|integration)([._-]|$)")


def is_test_setup(path: str) -> bool:
    """A compose file (or Dockerfile) for running tests against the platform: in a test folder
    (`tests/e2e/docker-compose.yml`) or named so (`docker-compose.test.yml`, `compose.ci.yaml`).
    Its databases and users are the test run's own."""
    parts = PurePosixPath(path).parts
    name = parts[-1].lower() if parts else ""
    return any(p in _TEST_FOLDERS for p in parts[:-1]) or bool(_TEST_SETUP_NAME.search(name))
