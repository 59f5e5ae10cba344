"""Timeline events read as sentences, lists included (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from passmuster.core.issues import Event, ExtraSection, FileChange, Task, value_text
from passmuster.core.timeline import describe_event

AT = datetime(2026, 1, 1, tzinfo=UTC)


def changed(field: str, old: object, new: object) -> str:
    event = Event(1, 1, "ana", AT, "changed", field, value_text(old), value_text(new))
    return describe_event(event)


def test_task_edits_say_what_was_checked_added_or_removed() -> None:
    before = [Task("Create the endpoint"), Task("Write the docs")]
    after = [Task("Create the endpoint", done=True), Task("Add a test")]
    assert changed("tasks", before, after) == (
        "checked 'Create the endpoint'; added task 'Add a test'; removed task 'Write the docs'"
    )
    assert changed("tasks", [], [Task("First")]) == "added task 'First'"
    assert changed("tasks", after, [Task("Create the endpoint"), Task("Add a test")]) == (
        "unchecked 'Create the endpoint'"
    )


def test_other_lists_name_their_entries() -> None:
    assert changed("labels", ["db"], ["db", "auth"]) == "added label 'auth'"
    assert changed("services", ["a", "b"], ["b"]) == "removed service 'a'"
    assert changed("files_changed", [], [FileChange("app.py", "fix")]) == "added file 'app.py'"
    sections = ([ExtraSection("Benefits", "x")], [ExtraSection("Benefits", "y")])
    assert changed("extra_sections", *sections) == "changed section 'Benefits'"
    assert changed("labels", ["a", "b"], ["b", "a"]) == "reordered labels"


def test_plain_fields_and_other_kinds_stay_short() -> None:
    assert changed("severity", "medium", "high") == "severity: medium -> high"
    status = Event(1, 1, "ana", AT, "status", "status", "open", "in_progress")
    assert describe_event(status) == "status open -> in_progress"
    linked = Event(1, 1, "ana", AT, "linked", "caused_by", None, "2")
    assert describe_event(linked) == "linked: caused by #002"
    many = [Task(f"t{n}") for n in range(5)]
    assert changed("tasks", [], many).endswith("(+2 more)")
