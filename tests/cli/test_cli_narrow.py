"""Listings in a narrow terminal or pipe: each issue on lines the width can hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import Run


@pytest.fixture
def filed(desk_folder: Path, run: Run) -> Path:
    run(
        "new",
        "Instance worker holds database admin credentials",
        "-S",
        "high",
        "--service",
        "instances-worker",
        "--assignee",
        "platform-team",
    )
    run("new", "Port clash on 8004", "-S", "critical", "--service", "billing")
    return desk_folder


@pytest.mark.parametrize("command", ["list", "ready", "search"])
@pytest.mark.parametrize("columns", [40, 60, 80])
def test_a_listing_fits_a_narrow_width(
    filed: Path, run: Run, monkeypatch: pytest.MonkeyPatch, command: str, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    args = [command, "database"] if command == "search" else [command]
    lines = run(*args).stdout.splitlines()
    assert lines[0].split()[:2] == ["#", "Sev"]
    assert "Title" in lines[0]
    assert all(len(line) <= columns for line in lines), lines
    # The whole title, wrapped within its column.
    start = lines[0].index("Title")
    after = lines[0][start + len("Title") :].split()
    end = lines[0].index(after[0], start) if after else None
    title = " ".join(" ".join(line[start:end] for line in lines[1:]).split())
    assert "Instance worker holds database admin credentials" in title


def test_a_wide_listing_keeps_every_column(
    filed: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    header = run("list").stdout.splitlines()[0].split()
    assert header == ["#", "Sev", "Status", "Type", "Title", "Services", "Assignee", "Age"]


@pytest.mark.parametrize("columns", ["wide", "-5", "0", ""])
def test_a_columns_that_is_not_a_width_is_ignored_not_a_traceback(
    filed: Path, run: Run, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    header = run("list").stdout.splitlines()[0].split()
    # Laid out for a pipe, 120 columns: everything fits.
    assert "Services" in header and "Assignee" in header


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n"
        "  gateway:\n    image: gw\n    ports: ['8000:8000']\n"
        "    depends_on: [authentication-service, billing-service, notifications-service]\n"
        "    healthcheck:\n"
        "      test: ['CMD', 'curl', '-f', 'http://localhost:8000/api/v1/utils/health-check/']\n"
        "  authentication-service:\n    image: a\n"
        "  billing-service:\n    image: b\n"
        "  notifications-service:\n    image: n\n"
    )
    return tmp_path


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_the_catalog_in_a_narrow_terminal_keeps_every_name_whole(
    platform: Path, run: Run, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    text = run("services").stdout
    assert "…" not in text
    lines = [line.rstrip() for line in text.splitlines()]
    assert all(len(line) <= columns for line in lines), lines
    flowing = " ".join(line.strip() for line in lines)
    assert "depends on: authentication-service, billing-service, notifications-service" in flowing
    # A URL longer than the line folds, and joins back whole.
    assert "http://gateway:8000/api/v1/utils/health-check/" in "".join(x.strip() for x in lines)
    assert lines[-1] == "4 services"


def test_the_catalog_is_a_table_where_it_fits(
    platform: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    lines = run("services").stdout.splitlines()
    assert lines[0].split() == [
        "service",
        "kind",
        "ports",
        "depends",
        "on",
        "health",
        "defined",
        "in",
    ]
    assert "authentication-service," in lines[1]


@pytest.mark.parametrize("columns", [40, 60])
def test_a_listing_table_too_wide_for_the_terminal_becomes_blocks_with_every_value_whole(
    desk_folder: Path, run: Run, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    run("token", "create", "--name", "release-pipeline-bot", "--role", "coordinator")
    run("service", "add", "billing-ledger")
    run(
        "maintenance",
        "add",
        "-s",
        "billing-ledger",
        "--start",
        "2030-01-02 03:00",
        "--for",
        "30m",
        "Ledger database upgrade",
    )
    monkeypatch.setenv("COLUMNS", str(columns))
    tokens = run("token", "list").stdout
    # (A secret's first characters are shown with an ellipsis by design: that is the value.)
    assert tokens.splitlines()[:3] == [
        "release-pipeline-bot",
        "  role: coordinator",
        tokens.splitlines()[2],
    ]
    assert tokens.splitlines()[2].startswith("  starts with: pm_")
    windows = run("maintenance", "list").stdout
    assert "…" not in windows
    assert "  services: billing-ledger" in windows.splitlines()
    assert "  message: Ledger database upgrade" in windows.splitlines()
    assert all(len(line.rstrip()) <= columns for line in windows.splitlines())


def test_a_listing_table_that_fits_stays_a_table(
    desk_folder: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("token", "create", "--name", "ci", "--role", "reader")
    monkeypatch.setenv("COLUMNS", "200")
    header = run("token", "list").stdout.splitlines()[1]
    assert "name" in header and "role" in header


def test_stats_in_a_narrow_terminal_lists_each_month_whole(
    filed: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    lines = run("stats").stdout.splitlines()
    month = lines.index("Issues by month and severity")
    assert lines[month + 2 : month + 5] == ["  critical: 1", "  high: 1", "  medium: 0"]
    # Nothing resolved: the table's dash becomes no line at all.
    assert not any(line.startswith("  median resolution") for line in lines)
    assert not any("…" in line for line in lines)
    assert all(len(line.rstrip()) <= 40 for line in lines), lines


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_show_prints_a_title_longer_than_the_line_whole(
    desk_folder: Path, run: Run, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    title = (
        "CODE001 cannot import name 'HTTPStatus' from 'fastapi' (checked against fastapi 0.116 "
        "as installed here); it is the standard library's http.HTTPStatus"
    )
    run("new", title, "-S", "critical")
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = run("show", "1").stdout.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("─"))
    assert " ".join(line.strip() for line in lines[:rule]) == f"#001 {title}"
    assert "…" not in "\n".join(lines)


def test_the_import_report_in_a_narrow_terminal_names_each_issue_whole(
    desk_folder: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    (desk_folder / "ISSUES.md").write_text(
        "# Issue Log\n\n## Issue #001 - Database driver conflicts in shared requirements\n\n"
        "**Status**: Open\n**Severity**: High\n\n### Description\nasyncpg and psycopg2.\n"
    )
    monkeypatch.setenv("COLUMNS", "40")
    lines = run("import", "ISSUES.md", "--dry-run").stdout.splitlines()
    assert lines[:3] == ["Dry run: nothing written", "-", "  log: ISSUES.md:3 #001"]
    flowing = " ".join(line.strip() for line in lines)
    assert "title: Database driver conflicts in shared requirements action:" in flowing
    assert all(len(line.rstrip()) <= 40 for line in lines)


def test_a_long_compose_path_folds_inside_the_catalog_table_instead_of_being_cut(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  identity:\n    image: i\n    ports: ['8001:8001']\n"
    )
    dev = tmp_path / "infrastructure" / "compose"
    dev.mkdir(parents=True)
    (dev / "docker-compose.development-tools.yml").write_text(
        "services:\n  mailhog:\n    image: mailhog/mailhog\n    ports: ['8025:8025']\n"
    )
    monkeypatch.setenv("COLUMNS", "120")
    lines = run("services").stdout.splitlines()
    assert lines[0].split()[:3] == ["service", "kind", "ports"]  # still a table
    assert "…" not in "\n".join(lines)
    start = lines[0].index("defined in")
    folded = "".join(line[start:].strip() for line in lines[1:-1])
    assert "infrastructure/compose/docker-compose.development-tools.yml" in folded
