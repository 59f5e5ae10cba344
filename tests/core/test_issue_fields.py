"""Coercing edits from CLI flags and JSON bodies into issue field types (pure)."""

from __future__ import annotations

import pytest

from passmuster.core.issues import (
    ExtraSection,
    FileChange,
    Priority,
    Severity,
    Task,
    coerce_changes,
    value_text,
)
from passmuster.errors import InvalidValue


def test_edits_arrive_as_text_and_dicts_and_become_field_types() -> None:
    changes = coerce_changes(
        {
            "severity": "High",
            "priority": "short-term",
            "tasks": ["write test", {"text": "ship", "done": True}],
            "files_changed": ["a.py", {"path": "b.py", "note": "renamed"}],
            "extra_sections": [{"name": "Benefits", "body": "- faster"}],
            "labels": ["db", "db", "auth"],
            "assignee": "  ",
            "title": "  Login fails ",
        }
    )
    assert changes["severity"] is Severity.HIGH
    assert changes["priority"] is Priority.SHORT_TERM
    assert changes["tasks"] == [Task("write test"), Task("ship", True)]
    assert changes["files_changed"] == [FileChange("a.py"), FileChange("b.py", "renamed")]
    assert changes["extra_sections"] == [ExtraSection("Benefits", "- faster")]
    assert changes["labels"] == ["db", "auth"]
    assert changes["assignee"] is None
    assert changes["title"] == "Login fails"


def test_bad_edits_name_the_field() -> None:
    with pytest.raises(InvalidValue, match="field 'number'"):
        coerce_changes({"number": 3})
    with pytest.raises(InvalidValue, match="title"):
        coerce_changes({"title": "   "})
    with pytest.raises(InvalidValue, match="tasks"):
        coerce_changes({"tasks": "not a list"})
    with pytest.raises(InvalidValue, match="expected one of critical"):
        coerce_changes({"severity": None})


def test_event_text_is_readable() -> None:
    assert value_text(Severity.HIGH) == "high"
    assert value_text([Task("a", True)]) == '[{"text": "a", "done": true}]'
    assert value_text(None) is None
