"""`passmuster import` and `passmuster export` as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from passmuster.cli.main import main
from passmuster.usecases.desk import Desk

Run = Callable[..., tuple[int, str, str]]
FixtureLog = Callable[[str], Path]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PASSMUSTER_ACTOR", "ana")
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)

    def go(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    return go


@pytest.fixture
def desk_dir(run: Run, tmp_path: Path) -> Path:
    assert run("init")[0] == 0
    return tmp_path


def test_import_prints_a_report_and_json(run: Run, desk_dir: Path, fixture_log: FixtureLog) -> None:
    log = str(fixture_log("category-sections"))
    code, out, err = run("import", log)
    assert code == 0
    assert "8 created" in out
    assert "the log says Open: 8 issues; 6 found" in err
    code, out, _ = run("import", "--json", log)
    report = json.loads(out)
    assert report["summary"]["unchanged"] == 8
    assert report["issues"][0]["filled"][:3] == ["title", "status", "severity"]
    assert {"label": "Open", "stated": 8, "found": 6}.items() <= report["totals"][0].items()
    assert any(note["title"] == "Priority Matrix" for note in report["notes"])


def _log_of(count: int, *, slow: int | None = None) -> str:
    parts = ["# Team log\n"]
    for n in range(1, count + 1):
        severity = "Medium" if n == slow else "Low"
        parts.append(f"\n## Issue #{n:04d} - Service {n} times out\n**Status**: Open\n")
        parts.append(f"**Severity**: {severity}\n")
    return "".join(parts)


def test_a_large_report_lists_what_changed_and_counts_the_rest(
    run: Run, desk_dir: Path, tmp_path: Path
) -> None:
    from passmuster.cli.logs import LISTED_ISSUES

    count = LISTED_ISSUES + 50
    log = tmp_path / "BIG.md"
    log.write_text(_log_of(count), encoding="utf-8")

    def rows(out: str) -> list[str]:
        return [line for line in out.splitlines() if line.startswith("│ #")]

    code, out, _ = run("import", str(log))
    assert code == 0
    listed = rows(out)
    assert len(listed) == LISTED_ISSUES and all(" created " in row for row in listed)
    assert listed[0].startswith("│ #001  │ BIG.md:3 #0001 ")
    assert "50 more issues not listed; --json lists every one" in out
    assert f"{count} created" in out

    code, out, _ = run("import", str(log))
    assert rows(out) == [] and f"{count} issues, all unchanged, not listed" in out
    assert out.rstrip().endswith(f"{count} unchanged, 0 log notes kept in this report, 0 warnings")

    log.write_text(_log_of(count, slow=222), encoding="utf-8")
    code, out, _ = run("import", str(log))
    (row,) = rows(out)
    assert "#222" in row and " updated " in row and "severity" in row
    assert f"{count - 1} more issues not listed" in out

    code, out, _ = run("import", "--json", str(log))
    assert len(json.loads(out)["issues"]) == count


def test_dry_run_works_without_a_desk_and_writes_nothing(
    run: Run, tmp_path: Path, fixture_log: FixtureLog
) -> None:
    code, out, _ = run("import", "--dry-run", "--json", str(fixture_log("status-in-headings")))
    assert code == 0
    assert [e["action"] for e in json.loads(out)["issues"]] == ["would be created"] * 2
    assert not (tmp_path / ".passmuster").exists()


def test_import_without_a_desk_fails_clearly(run: Run, fixture_log: FixtureLog) -> None:
    code, _, err = run("import", str(fixture_log("status-in-headings")))
    assert code == 3 and "desk" in err.lower()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01", "binary file"),
        (b"\xff\xfe#", "not valid UTF-8"),
        (b"just prose\n", "no issues found"),
    ],
)
def test_bad_input_exits_2_naming_the_file(
    run: Run, desk_dir: Path, content: bytes, message: str
) -> None:
    bad = desk_dir / "bad.md"
    bad.write_bytes(content)
    code, _, err = run("import", str(bad))
    assert code == 2
    assert "bad.md" in err and message in err
    with Desk.open(start=desk_dir) as desk:
        assert desk.count() == 0


def test_forced_format_and_unknown_format(run: Run, desk_dir: Path) -> None:
    note = desk_dir / "note.md"
    note.write_text("# Printer on fire\n\nSmoke from tray 2.\n", encoding="utf-8")
    assert run("import", str(note))[0] == 2
    code, out, _ = run("import", "--format", "single", "--json", str(note))
    assert code == 0 and json.loads(out)["issues"][0]["title"] == "Printer on fire"
    code, _, err = run("import", "--format", "csv", str(note))
    assert code == 2 and "choose from" in err


def test_export_is_deterministic_and_check_guards_the_file(
    run: Run, desk_dir: Path, fixture_logs_dir: Path
) -> None:
    run("import", str(fixture_logs_dir))
    code, first, _ = run("export")
    assert code == 0
    assert run("export")[1] == first
    assert "## 📈 Issue Statistics" in first and "## 🎯 Priority Matrix" in first
    assert "| Oct 2025 | 1 | 1 | 0 | 0 | 0 | 2 |" in first
    assert run("export", "-o", "ISSUES.md")[0] == 0
    assert (desk_dir / "ISSUES.md").read_text(encoding="utf-8") == first
    assert run("export", "-o", "ISSUES.md", "--check")[0] == 0
    run("new", "One more", "--severity", "low")
    code, _, err = run("export", "-o", "ISSUES.md", "--check")
    assert code == 1 and "differs" in err
    assert run("export", "--check")[0] == 2


def test_export_per_issue_then_import_the_folder_changes_nothing(
    run: Run, desk_dir: Path, fixture_log: FixtureLog
) -> None:
    run("import", str(fixture_log("status-in-headings")))
    assert run("export", "--per-issue", "issues")[0] == 0
    files = sorted(p.name for p in (desk_dir / "issues").iterdir())
    assert files == [
        "001-cart-service-pins-its-own-fastapi.md",
        "002-checkout-cannot-reach-the-payment-broker.md",
    ]
    assert run("export", "--per-issue", "issues", "--check")[0] == 0
    code, out, _ = run("import", "--json", "issues")
    assert code == 0
    assert json.loads(out)["summary"] == {"unchanged": 2, "warnings": 0, "errors": 0, "notes": 0}


def test_export_with_a_template(run: Run, desk_dir: Path, fixture_log: FixtureLog) -> None:
    run("import", str(fixture_log("status-in-headings")))
    template = desk_dir / "short.md.jinja"
    template.write_text(
        "# {{ title }}\n{% for i in issues %}- {{ ref(i.number) }} {{ i.title }} "
        "({{ i.severity.value }})\n{% endfor %}",
        encoding="utf-8",
    )
    code, out, _ = run("export", "--template", str(template), "--title", "Short")
    assert code == 0
    assert out == (
        "# Short\n- #001 Cart service pins its own FastAPI (high)\n"
        "- #002 Checkout cannot reach the payment broker (critical)\n"
    )
    template.write_text("{% for %}", encoding="utf-8")
    code, _, err = run("export", "--template", str(template))
    assert code == 2 and "short.md.jinja" in err


def test_per_issue_check_flags_a_stray_issue_file_but_not_a_readme(
    run: Run, desk_dir: Path, fixture_log: FixtureLog
) -> None:
    run("import", str(fixture_log("status-in-headings")))
    run("export", "--per-issue", "issues")
    (desk_dir / "issues" / "README.md").write_text("How this folder works.\n", encoding="utf-8")
    assert run("export", "--per-issue", "issues", "--check")[0] == 0
    (desk_dir / "issues" / "007-gone.md").write_text("## Issue #007 - Gone\n", encoding="utf-8")
    code, _, err = run("export", "--per-issue", "issues", "--check")
    assert code == 1 and "007-gone.md is not an issue on the desk" in err


def test_a_conflicting_reimport_is_reported_and_prefer_log_takes_the_log(
    run: Run, desk_dir: Path
) -> None:
    log = desk_dir / "ISSUES.md"

    def log_says(severity: str) -> None:
        log.write_text(f"# Log\n\n## Issue #001 - Login loop\n**Severity**: {severity}\n")

    def desk_says() -> str:
        severity: str = json.loads(run("show", "--json", "1")[1])["issue"]["severity"]
        return severity

    log_says("High")
    assert run("import", str(log))[0] == 0
    run("edit", "1", "--severity", "low")
    log_says("Critical")
    code, out, _ = run("import", "--json", str(log))
    assert code == 0
    report = json.loads(out)
    assert report["summary"]["conflicts"] == 1
    assert (report["conflicts"][0]["field"], report["conflicts"][0]["taken"]) == (
        "severity",
        "desk",
    )
    assert [w["line"] for w in report["warnings"]] == [3]
    assert desk_says() == "low"
    run("edit", "1", "--severity", "high")
    log_says("Info")
    code, _, err = run("import", str(log))
    assert "ISSUES.md:3: #001 severity changed on the desk ('high') and in the log ('info')" in err
    assert desk_says() == "high"
    run("edit", "1", "--severity", "medium")
    log_says("Low")
    assert run("import", "--prefer", "log", str(log))[0] == 0
    assert desk_says() == "low"
    assert run("import", "--prefer", "nobody", str(log))[0] == 2


def test_notes_lists_what_imported_logs_say_besides_their_issues(
    run: Run, desk_dir: Path, fixture_log: FixtureLog
) -> None:
    assert run("notes")[1].strip() == "no log notes"
    run("import", str(fixture_log("status-in-headings")))
    code, out, _ = run("notes", "--json")
    assert code == 0
    titles = [note["title"] for note in json.loads(out)]
    assert "Issue Reporting Format" in titles
    code, out, _ = run("notes")
    assert "Issue Reporting Format" in out and "status-in-headings.md:" in out
    assert "## 📝 Log Notes" in run("export", "--notes")[1]
