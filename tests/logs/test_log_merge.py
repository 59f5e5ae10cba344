"""Re-importing a log is a three-way merge: the log then, the desk now, the log now.

Each case on both databases: a field changed only in the log is applied, one changed only on the
desk is kept, one changed in both is a conflict reported with file:line and issue (the desk's
value kept unless the import prefers the log's), and an issue gone from the log is reported and
kept.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete

from passmuster.core.issues import Severity, Status
from passmuster.logs.model import ImportReport
from passmuster.storage.import_tables import import_records
from passmuster.usecases.desk import Desk
from passmuster.usecases.importing import import_logs

LOG = """# Checkout platform issues

## Issue #001 - Cart loses items on refresh
**Status**: In Progress
**Severity**: High
**Description**: The cart service keeps the basket in process memory.

## Issue #002 - Invoice PDF has the wrong VAT
**Status**: Open
**Severity**: Medium

## Stock sync runs twice
**Status**: Open
**Severity**: Low
"""


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "ISSUES.md"
    path.write_text(LOG, encoding="utf-8")
    return path


def reimport(desk: Desk, log: Path, text: str, *, prefer: str = "desk") -> ImportReport:
    log.write_text(text, encoding="utf-8")
    return import_logs(desk, [log], actor="log", root=log.parent, prefer=prefer)


def first_import(desk: Desk, log: Path) -> None:
    import_logs(desk, [log], actor="log", root=log.parent)


def test_a_field_changed_only_in_the_log_is_applied(desk: Desk, log: Path) -> None:
    first_import(desk, log)
    report = reimport(desk, log, LOG.replace("**Severity**: Medium", "**Severity**: Critical"))
    assert desk.get(2).severity is Severity.CRITICAL
    entry = next(e for e in report.issues if e.number == 2)
    assert (entry.action, entry.changed) == ("updated", ["severity"])
    assert report.conflicts == []


def test_work_done_on_the_desk_survives_a_reimport_of_the_unchanged_log(
    desk: Desk, log: Path
) -> None:
    first_import(desk, log)
    desk.transition(
        1,
        Status.RESOLVED,
        actor="ana",
        fields={"resolution": "The basket lives in Redis now.", "root_cause": "Process memory."},
    )
    desk.update(2, {"severity": "low"}, actor="ana")
    report = import_logs(desk, [log], actor="log", root=log.parent)
    cart = desk.get(1)
    assert cart.status is Status.RESOLVED
    assert (cart.resolution, cart.root_cause) == (
        "The basket lives in Redis now.",
        "Process memory.",
    )
    assert desk.get(2).severity is Severity.LOW
    assert {e.number: e.action for e in report.issues} == {
        1: "unchanged",
        2: "unchanged",
        3: "unchanged",
    }
    assert report.conflicts == []


def test_a_desk_change_is_kept_while_the_log_changes_another_field(desk: Desk, log: Path) -> None:
    first_import(desk, log)
    desk.transition(1, Status.RESOLVED, actor="ana", fields={"resolution": "Moved to Redis."})
    edited = LOG.replace(
        "keeps the basket in process memory.", "keeps the basket in process memory only."
    )
    report = reimport(desk, log, edited)
    cart = desk.get(1)
    assert cart.description.endswith("process memory only.")
    assert (cart.status, cart.resolution) == (Status.RESOLVED, "Moved to Redis.")
    entry = next(e for e in report.issues if e.number == 1)
    assert entry.changed == ["description"]
    assert {"status", "resolution"} <= set(entry.kept)


def test_a_field_changed_in_both_is_a_conflict_and_the_desk_value_is_kept(
    desk: Desk, log: Path
) -> None:
    first_import(desk, log)
    desk.update(2, {"severity": "low"}, actor="ana")
    report = reimport(desk, log, LOG.replace("**Severity**: Medium", "**Severity**: Critical"))
    assert desk.get(2).severity is Severity.LOW
    (conflict,) = report.conflicts
    assert (conflict.number, conflict.field, conflict.desk, conflict.log, conflict.taken) == (
        2,
        "severity",
        "low",
        "critical",
        "desk",
    )
    assert (Path(conflict.path).name, conflict.line) == ("ISSUES.md", 8)
    assert any(w.line == 8 and "severity changed on the desk" in w.message for w in report.warnings)
    # Reported once: the log now says critical, and a later import of it finds nothing new.
    again = import_logs(desk, [log], actor="log", root=log.parent)
    assert again.conflicts == [] and desk.get(2).severity is Severity.LOW


def test_prefer_log_takes_the_logs_value_in_a_conflict(desk: Desk, log: Path) -> None:
    first_import(desk, log)
    desk.transition(1, Status.RESOLVED, actor="ana", fields={"resolution": "Moved to Redis."})
    report = reimport(
        desk, log, LOG.replace("**Status**: In Progress", "**Status**: Blocked"), prefer="log"
    )
    assert desk.get(1).status is Status.BLOCKED
    (conflict,) = report.conflicts
    assert (conflict.field, conflict.desk, conflict.log, conflict.taken) == (
        "status",
        "resolved",
        "blocked",
        "log",
    )


def test_the_same_change_on_both_sides_is_no_conflict(desk: Desk, log: Path) -> None:
    first_import(desk, log)
    desk.update(3, {"severity": "high"}, actor="ana")
    report = reimport(desk, log, LOG.replace("**Severity**: Low", "**Severity**: High"))
    assert report.conflicts == [] and desk.get(3).severity is Severity.HIGH
    assert next(e for e in report.issues if e.number == 3).action == "unchanged"


def test_an_issue_removed_from_the_log_is_reported_and_kept_each_time(
    desk: Desk, log: Path
) -> None:
    first_import(desk, log)
    without = LOG.split("## Stock sync runs twice")[0]
    report = reimport(desk, log, without)
    assert [(Path(r.path).name, r.number, r.title) for r in report.removed] == [
        ("ISSUES.md", 3, "Stock sync runs twice")
    ]
    assert any(
        "#003" in w.message and "no longer in this log" in w.message for w in report.warnings
    )
    assert desk.get(3).title == "Stock sync runs twice"
    assert [r.number for r in import_logs(desk, [log], actor="log", root=log.parent).removed] == [3]


def test_an_issue_renamed_on_the_desk_is_still_the_logs_issue(desk: Desk, log: Path) -> None:
    first_import(desk, log)
    desk.update(3, {"title": "Stock sync job runs twice a night"}, actor="ana")
    report = reimport(desk, log, LOG.replace("**Severity**: Low", "**Severity**: Medium"))
    assert desk.count() == 3
    assert desk.get(3).title == "Stock sync job runs twice a night"
    assert desk.get(3).severity is Severity.MEDIUM
    assert report.removed == []


def test_issues_imported_before_the_desk_remembered_logs_take_the_logs_changes(
    desk: Desk, log: Path
) -> None:
    first_import(desk, log)
    with desk.engine.begin() as connection:
        connection.execute(delete(import_records))
    desk.update(2, {"severity": "low"}, actor="ana")
    report = reimport(desk, log, LOG.replace("**Severity**: Medium", "**Severity**: Critical"))
    # Without a record the desk's values stand for the log's last ones: the log's change wins.
    assert desk.get(2).severity is Severity.CRITICAL and report.conflicts == []
    # From now on the desk remembers: a desk edit survives the next import.
    desk.update(2, {"severity": "low"}, actor="ana")
    import_logs(desk, [log], actor="log", root=log.parent)
    assert desk.get(2).severity is Severity.LOW


def test_a_dry_run_remembers_nothing(desk: Desk, log: Path) -> None:
    first_import(desk, log)
    log.write_text(LOG.replace("**Severity**: Medium", "**Severity**: Critical"), encoding="utf-8")
    preview = import_logs(desk, [log], actor="log", root=log.parent, dry_run=True)
    assert next(e for e in preview.issues if e.number == 2).action == "would be updated"
    desk.update(2, {"severity": "low"}, actor="ana")
    report = import_logs(desk, [log], actor="log", root=log.parent)
    # The dry run did not move the baseline: the log's change is still a change, now a conflict.
    assert [c.field for c in report.conflicts] == ["severity"]
