"""Importing logs into a real desk: idempotent, matched, transactional, loud about bad input."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from passmuster.core.issues import IssueQuery, Status
from passmuster.errors import ParseError
from passmuster.usecases.desk import Desk
from passmuster.usecases.importing import PAUSE_ENV, NothingImported, import_logs

LOG = """# Team log

## Issue #001 - Login loop
**Status**: Open
**Severity**: High
**Description**: Users bounce between /login and /home.

## Issue #002 - Slow search
**Status**: Open
**Severity**: Low
"""


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    opened = Desk.init(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "ISSUES.md"
    path.write_text(LOG, encoding="utf-8")
    return path


def test_importing_the_same_log_twice_changes_nothing(
    desk: Desk, log_file: Path, tmp_path: Path
) -> None:
    first = import_logs(desk, [log_file], actor="ana", root=tmp_path)
    assert [e.action for e in first.issues] == ["created", "created"]
    events_before = desk.events(limit=1000)
    second = import_logs(desk, [log_file], actor="ana", root=tmp_path)
    assert [e.action for e in second.issues] == ["unchanged", "unchanged"]
    assert desk.events(limit=1000) == events_before
    assert desk.count() == 2
    issue = desk.get(1)
    assert (issue.source, issue.original_id, issue.title) == ("ISSUES.md", "#001", "Login loop")


def test_an_edited_log_updates_only_the_changed_issue_and_records_events(
    desk: Desk, log_file: Path, tmp_path: Path
) -> None:
    import_logs(desk, [log_file], actor="ana", root=tmp_path)
    slow_search_version = desk.get(2).version
    log_file.write_text(
        LOG.replace(
            "**Status**: Open\n**Severity**: High", "**Status**: ✅ Resolved\n**Severity**: High"
        ).replace("bounce between", "loop between"),
        encoding="utf-8",
    )
    report = import_logs(desk, [log_file], actor="bo", root=tmp_path)
    assert [(e.action, e.changed) for e in report.issues] == [
        ("updated", ["description", "original_values", "status"]),
        ("unchanged", []),
    ]
    login = desk.get(1)
    assert login.status is Status.RESOLVED
    assert login.description == "Users loop between /login and /home."
    assert login.original_values["status"] == "✅ Resolved"
    assert desk.get(2).version == slow_search_version
    kinds = [(e.kind, e.field, e.actor) for e in desk.events(issue=1, limit=100)]
    assert ("changed", "description", "bo") in kinds
    assert ("status", "status", "bo") in kinds
    assert ("imported", "source", "bo") in kinds
    assert desk.events(issue=2, limit=100)[-1].kind == "created"


def test_a_resolved_issue_reopened_in_the_log_moves_back_through_open(
    desk: Desk, tmp_path: Path
) -> None:
    path = tmp_path / "log.md"
    path.write_text("## Issue #1 - A\n**Status**: Resolved\n", encoding="utf-8")
    import_logs(desk, [path], actor="ana", root=tmp_path)
    path.write_text("## Issue #1 - A\n**Status**: In Progress\n", encoding="utf-8")
    import_logs(desk, [path], actor="ana", root=tmp_path)
    assert desk.get(1).status is Status.IN_PROGRESS
    moves = [(e.old, e.new) for e in desk.events(issue=1, limit=100) if e.kind == "status"]
    assert moves == [("resolved", "open"), ("open", "in_progress")]


def test_issues_without_ids_are_matched_by_title(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "known.md"
    path.write_text("## Bugs\n### Flaky test\n- **Status**: Open\n", encoding="utf-8")
    import_logs(desk, [path], actor="ana", root=tmp_path)
    path.write_text("## Bugs\n### Flaky test\n- **Status**: Planned\n", encoding="utf-8")
    report = import_logs(desk, [path], actor="ana", root=tmp_path)
    assert [e.action for e in report.issues] == ["updated"]
    assert desk.count() == 1 and desk.get(1).status is Status.PLANNED


def test_a_dry_run_reports_but_writes_nothing(desk: Desk, log_file: Path, tmp_path: Path) -> None:
    report = import_logs(desk, [log_file], actor="ana", root=tmp_path, dry_run=True)
    assert [e.action for e in report.issues] == ["would be created"] * 2
    assert desk.count() == 0 and desk.events(limit=10) == []


def test_the_fixture_logs_import_into_one_desk_with_their_notes_in_the_report(
    desk: Desk, fixture_logs_dir: Path
) -> None:
    report = import_logs(desk, [fixture_logs_dir], actor="ana", root=fixture_logs_dir)
    assert report.count("created") == 20
    assert desk.count(IssueQuery(source="category-sections.md")) == 8
    assert {n.title for n in report.notes} >= {"Issue Reporting Format", "Priority Matrix"}
    open_claim = next(t for t in report.totals if t.label == "Open")
    assert (open_claim.stated, open_claim.found) == (8, 6)
    again = import_logs(desk, [fixture_logs_dir], actor="ana", root=fixture_logs_dir)
    assert again.count("unchanged") == 20


def test_a_folder_of_one_issue_files(desk: Desk, tmp_path: Path) -> None:
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / "a.md").write_text("# Issue: Disk full\n**Severity**: High\n", encoding="utf-8")
    (folder / "b.md").write_text("# Issue: DNS flaps\n**Status**: Open\n", encoding="utf-8")
    (folder / ".hidden.md").write_text("# Issue: ignored\n**Status**: Open\n", encoding="utf-8")
    report = import_logs(desk, [folder], actor="ana", root=tmp_path)
    assert sorted(e.title for e in report.issues) == ["DNS flaps", "Disk full"]
    assert set(report.formats.values()) == {"single"}
    assert desk.get(1).source == "issues/a.md"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary", "binary file"),
        (b"## Issue #1 - caf\xe9\n**Status**: Open\n", "not valid UTF-8"),
        (b"# Notes\n\nJust some prose, no issues here.\n", "no issues found"),
    ],
)
def test_bad_input_names_the_file_and_touches_nothing(
    desk: Desk, log_file: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    import_logs(desk, [log_file], actor="ana", root=tmp_path)
    events = desk.events(limit=1000)
    bad = tmp_path / "bad.md"
    bad.write_bytes(content)
    with pytest.raises(NothingImported) as caught:
        import_logs(desk, [bad], actor="ana", root=tmp_path)
    assert str(bad) in caught.value.message and message in caught.value.message
    assert desk.count() == 2 and desk.events(limit=1000) == events


def test_a_bad_file_beside_good_ones_is_reported_and_the_rest_imported(
    desk: Desk, log_file: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "empty.md"
    bad.write_bytes(b"")
    report = import_logs(desk, [log_file, bad], actor="ana", root=tmp_path)
    assert report.count("created") == 2
    assert report.errors == [f"{bad}: the file is empty"]


def test_a_missing_path_is_an_error(desk: Desk, tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="no such file or folder"):
        import_logs(desk, [tmp_path / "nope.md"], actor="ana", root=tmp_path)


def test_an_import_killed_midway_leaves_the_desk_untouched(
    desk: Desk, log_file: Path, tmp_path: Path
) -> None:
    """A real process is killed with SIGKILL while its import transaction is open."""
    import_logs(desk, [log_file], actor="ana", root=tmp_path)
    events = desk.events(limit=1000)
    big = tmp_path / "big.md"
    big.write_text(
        LOG.replace("Open", "Resolved")
        + "".join(f"\n## Issue #{n:03d} - Extra {n}\n**Status**: Open\n" for n in range(3, 200)),
        encoding="utf-8",
    )
    marker = tmp_path / "paused"
    env = {
        **os.environ,
        "PASSMUSTER_DATABASE_URL": desk.url,
        PAUSE_ENV: "60",
        f"{PAUSE_ENV}_MARKER": str(marker),
    }
    exe = shutil.which("passmuster", path=str(Path(sys.executable).parent))
    assert exe is not None
    proc = subprocess.Popen(
        [exe, "import", str(big)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None, "the import ended before it paused"
            assert time.monotonic() < deadline, "the import never reached its pause"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert desk.count() == 2
    assert desk.get(1).status is Status.OPEN
    assert desk.events(limit=1000) == events


def test_import_is_idempotent_and_all_or_nothing_on_both_stores(
    database_url: str, log_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Desk.connect(database_url) as desk:
        import_logs(desk, [log_file], actor="ana", root=tmp_path)
        assert import_logs(desk, [log_file], actor="ana", root=tmp_path).count("unchanged") == 2
        events = desk.events(limit=1000)
        log_file.write_text(
            LOG.replace("Slow search", "Slow search").replace("Low\n", "Critical\n")
            + "\n## Issue #003 - New one\n**Status**: Open\n",
            encoding="utf-8",
        )

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("disk on fire")

        # The update of #002 is written first, then filing #003 fails: neither may stay.
        monkeypatch.setattr(desk, "file_many", broken)
        with pytest.raises(RuntimeError, match="disk on fire"):
            import_logs(desk, [log_file], actor="ana", root=tmp_path)
        assert desk.count() == 2
        assert desk.get(2).severity.value == "low"
        assert desk.events(limit=1000) == events


def test_an_import_keeps_long_headings_and_pasted_logs_no_form_would_take(
    desk: Desk, tmp_path: Path
) -> None:
    title = "Gateway " + "times out again " * 30 + "under load"  # longer than a form's 300
    block = "\n".join(f"line {n}: upstream timed out" for n in range(8_000))  # > 100,000
    log = tmp_path / "long.md"
    log.write_text(
        f"## Issue #1 - {title}\n**Status**: Open\n\n### Error Details\n```\n{block}\n```\n",
        encoding="utf-8",
    )
    import_logs(desk, [log], actor="ana", root=tmp_path)
    issue = desk.get(1)
    assert issue.title == title and len(title) > 300
    assert issue.error_details == [block] and len(block) > 100_000


def test_an_import_beyond_what_the_desk_stores_names_file_line_and_field(
    desk: Desk, tmp_path: Path
) -> None:
    log = tmp_path / "huge.md"
    log.write_text(
        "## Issue #1 - Fine\n**Status**: Open\n\n"
        "## Issue #2 - Pasted a whole log\n**Status**: Open\n\n### Description\n"
        + "x" * 1_000_001
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ParseError) as refused:
        import_logs(desk, [log], actor="ana", root=tmp_path)
    assert refused.value.message.startswith(f"{log}:4: description is too long: 1,000,001")
    assert desk.count() == 0


def test_a_reader_failure_on_one_file_is_an_error_for_that_file_only(
    desk: Desk, log_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "OTHER.md"
    other.write_text("# Other\n\n## Issue #9 - Cache\n**Status**: Open\n", encoding="utf-8")
    from passmuster.usecases import importing

    real = importing.read_file

    def flaky(path: Path, **kwargs: object) -> object:
        if path.name == "OTHER.md":
            raise IndexError("list index out of range")
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importing, "read_file", flaky)
    report = import_logs(desk, [log_file, other], actor="ana", root=tmp_path)
    assert report.count("created") == 2
    (error,) = report.errors
    assert error.startswith(f"{other}: could not be read (IndexError") and "bug" in error


def test_a_re_import_checks_only_the_issues_the_log_changed(
    desk: Desk, log_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from passmuster.usecases import importing

    import_logs(desk, [log_file], actor="ana", root=tmp_path)
    seen: list[str] = []
    real = importing.checked

    def counting(draft: Any, limits: Any) -> Any:
        seen.append(draft.title)
        return real(draft, limits)

    monkeypatch.setattr(importing, "checked", counting)
    again = import_logs(desk, [log_file], actor="ana", root=tmp_path)
    assert [e.action for e in again.issues] == ["unchanged", "unchanged"] and seen == []
    log_file.write_text(LOG.replace("**Severity**: Low", "**Severity**: Medium"), encoding="utf-8")
    edited = import_logs(desk, [log_file], actor="ana", root=tmp_path)
    assert [e.action for e in edited.issues] == ["unchanged", "updated"]
    assert seen == ["Slow search"]
    # A change the desk's checks refuse is still refused, named by file and line.
    pasted = LOG + "\n### Description\n" + "x" * 1_000_001 + "\n"
    log_file.write_text(pasted, encoding="utf-8")
    with pytest.raises(ParseError, match=r"ISSUES\.md:8: description is too long"):
        import_logs(desk, [log_file], actor="ana", root=tmp_path)
    assert desk.get(2).severity.value == "medium"
