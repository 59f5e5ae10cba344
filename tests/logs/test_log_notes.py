"""Log notes stay on the desk: what a log says besides its issues is not lost to an export."""

from __future__ import annotations

from pathlib import Path

from passmuster.usecases.desk import Desk
from passmuster.usecases.exporting import export_log
from passmuster.usecases.importing import import_logs

LOG = """# Payments coordination log

## Reporting Format
Report an issue with **Status**, **Severity** and a description.

```markdown
### Issue #XXX: [Title]
**Status**: Open / In Progress / Resolved
```

## Issue #001 - Refund worker retries forever
**Status**: Open
**Severity**: High

## Escalation Workflow
1. Try the runbook.
2. Page the payments owner.
"""


def test_an_import_keeps_the_logs_notes_and_a_reimport_replaces_them(
    desk: Desk, tmp_path: Path
) -> None:
    log = tmp_path / "ISSUES.md"
    log.write_text(LOG, encoding="utf-8")
    import_logs(desk, [log], actor="ana", root=tmp_path)
    notes = desk.log_notes("ISSUES.md")
    assert [(n.title, n.line) for n in notes] == [
        ("Reporting Format", 3),
        ("Escalation Workflow", 15),
    ]
    assert "### Issue #XXX: [Title]" in notes[0].body
    log.write_text(LOG.split("## Escalation Workflow")[0], encoding="utf-8")
    import_logs(desk, [log], actor="ana", root=tmp_path)
    assert [n.title for n in desk.log_notes()] == ["Reporting Format"]


def test_a_dry_run_keeps_no_notes(desk: Desk, tmp_path: Path) -> None:
    log = tmp_path / "ISSUES.md"
    log.write_text(LOG, encoding="utf-8")
    import_logs(desk, [log], actor="ana", root=tmp_path, dry_run=True)
    assert desk.log_notes() == []


def test_an_export_with_notes_gives_them_back_to_their_logs_in_a_fresh_desk(
    desk: Desk, tmp_path: Path
) -> None:
    log = tmp_path / "ISSUES.md"
    log.write_text(LOG, encoding="utf-8")
    import_logs(desk, [log], actor="ana", root=tmp_path)
    exported = export_log(desk, notes=True)
    assert "## 📝 Log Notes" in exported and "Page the payments owner." in exported
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "EXPORT.md").write_text(exported, encoding="utf-8")
    with Desk.init(copy) as fresh:
        report = import_logs(fresh, [copy / "EXPORT.md"], actor="bo", root=copy)
        assert report.count("created") == 1
        assert fresh.log_notes() == desk.log_notes()  # each note under ISSUES.md, its log
        assert export_log(fresh, notes=True) == exported


def test_the_sections_an_export_writes_itself_are_no_notes(desk: Desk, tmp_path: Path) -> None:
    log = tmp_path / "ISSUES.md"
    log.write_text(LOG, encoding="utf-8")
    import_logs(desk, [log], actor="ana", root=tmp_path)
    (tmp_path / "EXPORT.md").write_text(export_log(desk), encoding="utf-8")
    report = import_logs(desk, [tmp_path / "EXPORT.md"], actor="ana", root=tmp_path)
    assert report.notes == [] and report.warnings == []
    assert desk.log_notes("EXPORT.md") == []
