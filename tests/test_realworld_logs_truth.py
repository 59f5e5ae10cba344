"""The hand-counted answer key of real-world issue logs stays consistent with itself.

The logs live outside the repository; these checks read only bench/realworld/logs.toml, so a
mistyped count, status or line is caught before it skews the real-world benchmark.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from passmuster.core.issues import Status

TRUTH = Path(__file__).resolve().parent.parent / "bench" / "realworld" / "logs.toml"
LOG_KEYS = {
    "name",
    "repo",
    "commit",
    "path",
    "input",
    "language",
    "shapes",
    "expected",
    "optional",
    "statuses",
    "traps",
    "notes",
    "issues",
}
ISSUE_KEYS = {"line", "file", "id", "status", "optional", "title"}


def _logs() -> list[dict[str, Any]]:
    with TRUTH.open("rb") as handle:
        data = tomllib.load(handle)
    assert data["schema"] == 1
    logs: list[dict[str, Any]] = data["log"]
    return logs


LOGS = _logs()


def test_the_corpus_is_large_and_multilingual() -> None:
    languages = Counter(log["language"] for log in LOGS)
    assert len(LOGS) >= 30
    assert len(languages) >= 5
    assert sum(1 for lang, count in languages.items() if lang != "en" and count >= 3) >= 4


def test_every_log_is_named_once_and_pinned_to_a_commit() -> None:
    names = [log["name"] for log in LOGS]
    assert len(names) == len(set(names))
    for log in LOGS:
        assert set(log) <= LOG_KEYS, log["name"]
        assert re.fullmatch(r"[0-9a-f]{40}", log["commit"]), log["name"]
        assert log["name"].startswith(log["repo"].replace("/", "__") + "__"), log["name"]


@pytest.mark.parametrize("log", LOGS, ids=[log["name"] for log in LOGS])
def test_counts_and_statuses_add_up(log: dict[str, Any]) -> None:
    issues = log["issues"]
    definite = [issue for issue in issues if not issue.get("optional")]
    # A log may hold no definite issue (only design limitations, "none reported yet"), never
    # nothing at all.
    assert log["expected"] == len(definite)
    assert issues, log["name"]
    assert log["optional"] == len(issues) - len(definite)
    stated = Counter(issue.get("status", "unstated") for issue in definite)
    if "statuses" in log:
        assert log["statuses"] == dict(stated)
    else:
        assert set(stated) <= {"unstated"}
    valid = {status.value for status in Status}
    for issue in issues:
        assert set(issue) <= ISSUE_KEYS, issue
        assert issue["title"].strip() == issue["title"] != ""
        assert issue["line"] >= 1
        assert issue.get("status", "open") in valid, issue


@pytest.mark.parametrize("log", LOGS, ids=[log["name"] for log in LOGS])
def test_issues_are_listed_in_file_order_without_duplicates(log: dict[str, Any]) -> None:
    places = [(issue.get("file", ""), issue["line"]) for issue in log["issues"]]
    assert len(places) == len(set(places))
    by_file: dict[str, list[int]] = {}
    for file, line in places:
        by_file.setdefault(file, []).append(line)
    assert all(lines == sorted(lines) for lines in by_file.values())
