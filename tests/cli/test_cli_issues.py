"""The tracker commands end to end: init, new, list, show, edit, the workflow, links, search."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import Run


def file_issue(run_json: Callable[..., Any], *args: str) -> int:
    return int(run_json("new", *args)["issue"]["number"])


def test_init_says_where_and_refuses_a_second_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    first = run("init")
    assert str(tmp_path / ".passmuster" / "desk.db") in first.stdout
    again = run("init", code=4)
    assert "already exists" in again.stderr
    assert again.stderr.count("\n") == 1


@pytest.mark.parametrize("content", ["nothing", "an empty SQLite file"])
def test_an_empty_desk_file_is_no_dead_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run, content: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    desk_file = tmp_path / ".passmuster" / "desk.db"
    desk_file.parent.mkdir()
    desk_file.touch()
    if content != "nothing":
        with contextlib.closing(sqlite3.connect(desk_file)) as db:
            db.execute("PRAGMA user_version = 0")
            db.execute("VACUUM")
    listed = run("list", code=5)
    assert "run `passmuster init`" in listed.stderr
    assert str(desk_file) in run("init").stdout
    assert run("list").exit_code == 0
    assert "already exists" in run("init", code=4).stderr


def test_init_leaves_a_file_that_is_not_an_empty_database_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    desk_file = tmp_path / ".passmuster" / "desk.db"
    desk_file.parent.mkdir()
    desk_file.write_text("my notes\n", encoding="utf-8")
    assert "already exists" in run("init", code=4).stderr
    assert desk_file.read_text(encoding="utf-8") == "my notes\n"


def test_new_files_an_issue_with_every_common_flag(desk_folder: Path, run_json: Any) -> None:
    data = run_json(
        "new",
        "Database",
        "driver",
        "conflicts",
        "--type",
        "bug",
        "--severity",
        "critical",
        "--priority",
        "immediate",
        "--service",
        "identity-service",
        "--service",
        "user-service,billing-service",
        "--component",
        "requirements",
        "--assignee",
        "bob",
        "--label",
        "deps",
        "--description",
        "Shared requirements pin both asyncpg and psycopg2-binary.",
        "--impact",
        "Blocks all upgrades.",
        "--error-details",
        'psycopg2-binary fails with "pg_config executable not found"',
        "--attempted",
        "Pinned an older psycopg2.",
    )
    issue = data["issue"]
    assert issue["ref"] == "#001"
    assert issue["title"] == "Database driver conflicts"
    assert issue["severity"] == "critical"
    assert issue["priority"] == "immediate"
    assert issue["services"] == ["identity-service", "user-service", "billing-service"]
    assert issue["component"] == "requirements"
    assert issue["assignee"] == "bob"
    assert issue["reporter"] == "alice"
    assert issue["labels"] == ["deps"]
    assert issue["error_details"] == ['psycopg2-binary fails with "pg_config executable not found"']
    assert issue["attempted_solutions"] == "Pinned an older psycopg2."
    assert data["known_fixes"] == []


def test_unknown_severity_lists_the_valid_ones_and_files_nothing(
    desk_folder: Path, run: Run, run_json: Any
) -> None:
    result = run("new", "Broken", "--severity", "urgent", code=2)
    assert "critical, high, medium, low, info" in result.stderr
    assert result.stderr.startswith("error: ")
    assert run_json("list", "--all") == []


def test_new_and_edit_meet_the_desks_limits_with_one_line(
    desk_folder: Path, run: Run, run_json: Any
) -> None:
    result = run("new", "Big", "--description", "d" * 100_001, code=2)
    assert result.stderr == (
        "error: description is too long: 100,001 characters (at most 100,000)\n"
    )
    run("new", "Small")
    result = run("edit", "1", "--title", "t" * 301, code=2)
    assert "title is too long: 301 characters (at most 300)" in result.stderr
    assert [i["title"] for i in run_json("list", "--all")] == ["Small"]


def test_new_shows_known_fixes_of_resolved_look_alikes(
    desk_folder: Path, run: Run, run_json: Any
) -> None:
    first = file_issue(
        run_json,
        "Services fail to start: HTTPStatus imported from fastapi",
        "--error-details",
        "ImportError: cannot import name 'HTTPStatus' from 'fastapi'",
    )
    run("resolve", str(first), "--resolution", "Import HTTPStatus from the http module.")
    unrelated = file_issue(run_json, "Port standardisation on 5000")
    run("resolve", str(unrelated), "--resolution", "Everything listens on 5000.")

    text = run(
        "new",
        "notification-service: cannot import name HTTPStatus",
        "--error-details",
        "ImportError: cannot import name 'HTTPStatus' from 'fastapi'",
    ).stdout
    assert "Known fixes" in text
    assert "Import HTTPStatus from the http module." in text
    assert "listens on 5000" not in text

    data = run_json("new", "HTTPStatus import error again in policy-service")
    assert [fix["number"] for fix in data["known_fixes"]] == [first]
    assert data["known_fixes"][0]["resolution"] == "Import HTTPStatus from the http module."


def test_new_reads_a_json_draft(desk_folder: Path, run_json: Any) -> None:
    draft = desk_folder / "draft.json"
    draft.write_text(
        json.dumps(
            {
                "title": "Instance creation returns 500",
                "severity": "high",
                "services": ["instance-service"],
                "error_details": "invalid input for query argument $12",
                "tasks": ["serialise JSONB fields", {"text": "add a test", "done": True}],
                "files_changed": [{"path": "app/utils/database.py", "note": "json.dumps"}],
            }
        )
    )
    issue = run_json("new", "--from-file", str(draft))["issue"]
    assert issue["severity"] == "high"
    assert issue["error_details"] == ["invalid input for query argument $12"]
    assert issue["tasks"] == [
        {"text": "serialise JSONB fields", "done": False},
        {"text": "add a test", "done": True},
    ]
    assert issue["files_changed"] == [{"path": "app/utils/database.py", "note": "json.dumps"}]


def test_flags_override_a_yaml_draft(desk_folder: Path, run_json: Any) -> None:
    draft = desk_folder / "draft.yaml"
    draft.write_text("title: Missing tenant service\nseverity: high\nlabels: [tenant]\n")
    issue = run_json("new", "--from-file", str(draft), "--severity", "low")["issue"]
    assert issue["title"] == "Missing tenant service"
    assert issue["severity"] == "low"
    assert issue["labels"] == ["tenant"]


def test_a_bad_draft_names_the_file_and_line(desk_folder: Path, run: Run) -> None:
    draft = desk_folder / "draft.yaml"
    draft.write_text("title: ok\nseverity: [unclosed\n")
    result = run("new", "--from-file", str(draft), code=2)
    assert f"{draft}:" in result.stderr
    unknown = desk_folder / "draft.json"
    unknown.write_text('{"title": "x", "colour": "red"}')
    result = run("new", "--from-file", str(unknown), code=2)
    assert "unknown field 'colour'" in result.stderr


def test_new_reads_a_markdown_draft(desk_folder: Path, run_json: Any) -> None:
    draft = desk_folder / "draft.md"
    draft.write_text(
        "# Issue #002 - Database Driver Conflicts\n\n"
        "**Severity**: Critical\n"
        "**Service(s) Affected**: identity-service, user-service\n\n"
        "## Description\nShared requirements included conflicting drivers.\n\n"
        "## Error Details\n```\npg_config executable not found\n```\n\n"
        "## Remaining Tasks\n- [x] remove drivers\n- [ ] document the pattern\n\n"
        "## Lessons Learned\nFix all similar issues at once.\n"
    )
    issue = run_json("new", "--from-file", str(draft))["issue"]
    assert issue["title"] == "Database Driver Conflicts"
    assert issue["severity"] == "critical"
    assert issue["services"] == ["identity-service", "user-service"]
    assert issue["error_details"] == ["pg_config executable not found"]
    assert issue["tasks"] == [
        {"text": "remove drivers", "done": True},
        {"text": "document the pattern", "done": False},
    ]
    assert issue["extra_sections"] == [
        {"name": "Lessons Learned", "body": "Fix all similar issues at once."}
    ]


def test_new_opens_the_editor_with_a_template(
    desk_folder: Path, run_json: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The "editor" is a real program that fills in the template the way a person would.
    editor = desk_folder / "editor.py"
    editor.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "t = p.read_text()\n"
        "t = t.replace('# \\n', '# Logout keeps sessions valid\\n', 1)\n"
        "t = t.replace('**Severity**: medium', '**Severity**: critical')\n"
        "t = t.replace('## Impact\\n', '## Impact\\nTokens can be reused.\\n')\n"
        "p.write_text(t)\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    issue = run_json("new", "--edit", "--service", "user-service")["issue"]
    assert issue["title"] == "Logout keeps sessions valid"
    assert issue["severity"] == "critical"
    assert issue["impact"] == "Tokens can be reused."
    assert issue["services"] == ["user-service"]


def test_new_without_a_title_outside_a_terminal_says_how(desk_folder: Path, run: Run) -> None:
    result = run("new", code=2)
    assert "needs a title" in result.stderr


def test_list_filters_sorts_and_limits(desk_folder: Path, run: Run, run_json: Any) -> None:
    a = file_issue(run_json, "Logout keeps sessions", "-S", "critical", "--service", "user-service")
    b = file_issue(
        run_json, "Port standardisation", "-S", "low", "--label", "ports", "-t", "tech-debt"
    )
    c = file_issue(run_json, "Missing tenant service", "-S", "high", "--service", "tenant-service")
    run("resolve", str(a), "--resolution", "Delete the session row.")
    run("edit", str(c), "--assignee", "bob")

    def numbers(*args: str) -> list[int]:
        return [i["number"] for i in run_json("list", *args)]

    assert numbers() == [b, c]  # active only by default
    assert numbers("--all") == [a, b, c]
    assert numbers("--status", "resolved") == [a]
    assert numbers("--severity", "high,low") == [b, c]
    assert numbers("--type", "tech_debt") == [b]
    assert numbers("--service", "tenant-service") == [c]
    assert numbers("--label", "ports") == [b]
    assert numbers("--label", "ports", "--label", "deps") == []  # every label given
    assert numbers("--service", "tenant-service,user-service", "--all") == [a, c]  # any service
    assert numbers("--assignee", "bob") == [c]
    assert numbers("--all", "--text", "session") == [a]
    assert numbers("--all", "--sort", "-number") == [c, b, a]
    assert numbers("--all", "--sort", "severity") == [a, c, b]
    assert numbers("--all", "--limit", "2") == [a, b]

    table = run("list", "--all", "--limit", "2").stdout
    assert "#001" in table and "#002" in table and "#003" not in table
    assert "2 of 3 shown" in table
    assert "invalid sort 'colour'" in run("list", "--sort", "colour", code=2).stderr
    assert "invalid status 'done'" in run("list", "--status", "done", code=2).stderr


def test_list_shows_an_issue_claimed_resolved_but_still_detected_as_such(
    desk_folder: Path, run: Run
) -> None:
    run("new", "Copied requirements", "--label", "rule:REQ001", "--label", "still-detected")
    run("new", "Really fixed")
    for number in ("1", "2"):
        run("resolve", number, "-m", "done")
    rows = {line.split()[0]: line for line in run("list", "--all").stdout.splitlines()[1:]}
    assert "resolved, still detected" in rows["#001"]
    assert "still detected" not in rows["#002"] and "resolved" in rows["#002"]


def test_show_prints_every_part_of_an_issue(desk_folder: Path, run: Run, run_json: Any) -> None:
    first = file_issue(run_json, "Missing tenant service", "--service", "tenant-service")
    second = file_issue(
        run_json,
        "Auth me crashes",
        "--description",
        "UUID is not a string.",
        "--error-details",
        "Input should be a valid string [type=string_type]",
    )
    run(
        "edit",
        str(second),
        "--task",
        "convert the id",
        "--task",
        "add a test",
        "--file",
        "app/services/user_service.py: str()",
    )
    run("edit", str(second), "--done", "1")
    run("link", str(second), "caused-by", str(first))
    run("comment", str(second), "Seen", "on", "staging", "too.")
    run("ack", str(second))

    text = run("show", f"#{second:03d}").stdout
    for expected in (
        "#002 Auth me crashes",
        "UUID is not a string.",
        "Input should be a valid string [type=string_type]",
        "1. [x] convert the id",
        "2. [ ] add a test",
        "Tasks 1/2",
        "app/services/user_service.py",
        "caused by #001",
        "Seen on staging too.",
        "acknowledged",
        "filed (open)",
    ):
        assert expected in text, expected

    data = run_json("show", str(second))
    assert data["issue"]["links"] == [{"kind": "caused_by", "target": first}]
    assert [c["body"] for c in data["comments"]] == ["Seen on staging too."]
    kinds = [e["kind"] for e in data["events"]]
    assert kinds[0] == "created" and "commented" in kinds and "linked" in kinds
    assert data["events"][0]["at"].endswith("+00:00")


def test_edit_changes_fields_and_lists(desk_folder: Path, run_json: Any) -> None:
    n = file_issue(run_json, "Port standardisation", "--service", "user-service", "--label", "a")
    issue = run_json(
        "edit",
        str(n),
        "--title",
        "Standardise internal ports",
        "--severity",
        "low",
        "--add-service",
        "tenant-service",
        "--remove-label",
        "a",
        "--add-label",
        "ports",
        "--task",
        "EXPOSE 5000",
        "--task",
        "Update compose",
    )
    assert issue["title"] == "Standardise internal ports"
    assert issue["services"] == ["user-service", "tenant-service"]
    assert issue["labels"] == ["ports"]
    issue = run_json("edit", str(n), "--done", "2", "--priority", "long-term")
    assert issue["tasks"] == [
        {"text": "EXPOSE 5000", "done": False},
        {"text": "Update compose", "done": True},
    ]
    assert issue["priority"] == "long_term"


def test_edit_with_a_stale_version_is_a_conflict_and_changes_nothing(
    desk_folder: Path, run: Run, run_json: Any
) -> None:
    n = file_issue(run_json, "Missing tenant service")
    version = run_json("show", str(n))["issue"]["version"]
    run("edit", str(n), "--severity", "high", "--expected-version", str(version))
    result = run("edit", str(n), "--severity", "low", "--expected-version", str(version), code=4)
    assert result.stderr.startswith("error: ")
    assert run_json("show", str(n))["issue"]["severity"] == "high"
    assert "nothing to change" in run("edit", str(n), code=2).stderr
    assert "--done 3" in run("edit", str(n), "--done", "3", code=2).stderr


def test_the_workflow_moves_and_refuses_invalid_moves(
    desk_folder: Path, run: Run, run_json: Any
) -> None:
    n = str(file_issue(run_json, "Instance creation returns 500", "-S", "critical"))
    assert run_json("ack", n)["acknowledged_at"] is not None
    assert run_json("start", n)["status"] == "in_progress"
    blocked = run_json("block", n, "--reason", "waiting for asyncpg upgrade")
    assert blocked["status"] == "blocked"
    assert run_json("show", n)["comments"][0]["body"] == "Blocked: waiting for asyncpg upgrade"
    resolved = run_json(
        "resolve",
        n,
        "--resolution",
        "json.dumps the JSONB fields",
        "--root-cause",
        "asyncpg wants JSON text",
        "--prevention",
        "a round-trip test",
    )
    assert resolved["status"] == "resolved"
    assert resolved["resolution"] == "json.dumps the JSONB fields"
    assert resolved["root_cause"] == "asyncpg wants JSON text"
    assert resolved["prevention"] == "a round-trip test"

    refused = run("start", n, code=4)
    assert "allowed: " in refused.stderr and "closed" in refused.stderr

    assert run_json("reopen", n, "--note", "came back")["status"] == "open"
    closed = run_json("close", n, "--reason", "wont-fix")
    assert closed["status"] == "closed" and closed["close_reason"] == "wont_fix"
    assert "invalid close reason 'later'" in run("close", n, "--reason", "later", code=2).stderr
    assert run("close", n, code=2).stderr  # --reason is required: a usage error


def test_close_as_duplicate_links_to_the_original(desk_folder: Path, run_json: Any) -> None:
    original = file_issue(run_json, "HTTPStatus import error")
    copy = file_issue(run_json, "HTTPStatus import error (again)")
    closed = run_json("close", str(copy), "--reason", "duplicate", "--duplicate-of", str(original))
    assert closed["close_reason"] == "duplicate"
    assert closed["links"] == [{"kind": "duplicate_of", "target": original}]


def test_missing_issue_is_exit_3_with_one_line(desk_folder: Path, run: Run) -> None:
    result = run("show", "42", code=3)
    assert result.stderr.strip() == "error: no issue #042"
    assert "not an issue number" in run("show", "abc", code=2).stderr


def test_link_accepts_dashed_kinds_and_rule_codes(
    desk_folder: Path, run: Run, run_json: Any
) -> None:
    a = file_issue(run_json, "Missing tenant service")
    b = file_issue(run_json, "Instance count workaround")
    assert run_json("link", str(a), "blocks", str(b))["links"] == [{"kind": "blocks", "target": b}]
    assert "link kind" in run("link", str(a), "fixes", str(b), code=2).stderr
    labels = run_json("link", str(b), "--rule", "env003")["labels"]
    assert labels == ["rule:ENV003"]
    assert run_json("list", "--label", "rule:ENV003")[0]["number"] == b
    assert "no rule 'NOPE999'" in run("link", str(b), "--rule", "NOPE999", code=3).stderr
    assert run("link", str(a), code=2).stderr.startswith("error: give KIND and TARGET")
    assert run("link", str(a), "blocks", "99", code=3).stderr


def test_link_kinds_are_spelled_one_way_in_help_and_errors(desk_folder: Path, run: Run) -> None:
    spelled = "duplicate_of, blocks, relates_to, regression_of"
    run("new", "One")
    run("new", "Two")
    assert spelled in run("link", "--help").stdout
    assert spelled in run("link", "1", code=2).stderr
    assert spelled in run("link", "1", "nope", "2", code=2).stderr
    run("link", "1", "caused-by", "2")  # dashes still work


def test_search_ready_and_claim(desk_folder: Path, run: Run, run_json: Any) -> None:
    low = file_issue(run_json, "Port standardisation", "-S", "low")
    critical = file_issue(
        run_json,
        "Logout keeps sessions valid",
        "-S",
        "critical",
        "--error-details",
        "token reused after logout",
    )
    found = run_json("search", "logout")
    assert [i["number"] for i in found] == [critical]
    assert "Nothing matches" in run("search", "kubernetes").stdout

    assert [i["number"] for i in run_json("ready")][:2] == [critical, low]
    claimed = run_json("claim")
    assert claimed["number"] == critical and claimed["assignee"] == "alice"
    assert run_json("claim")["number"] == low
    assert "nothing is ready" in run("claim", code=3).stderr


def test_comment_reads_stdin(desk_folder: Path, run: Run, run_json: Any) -> None:
    n = str(file_issue(run_json, "Mock service memory leak"))
    run("comment", n, "-", input="Memory grows during long test runs.\n")
    assert run_json("show", n)["comments"][0]["body"] == "Memory grows during long test runs."
    assert "empty" in run("comment", n, "  ", code=2).stderr


def test_no_desk_is_exit_3_and_a_corrupt_desk_exit_5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    missing = run("list", code=3)
    assert missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1
    desk = tmp_path / ".passmuster" / "desk.db"
    desk.parent.mkdir()
    desk.write_bytes(b"this is not a database" * 100)
    broken = run("list", code=5)
    assert broken.stderr.startswith("error: ")
    assert desk.read_bytes() == b"this is not a database" * 100  # nothing overwritten


def test_database_url_option_selects_the_desk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'team.db'}"
    run("--database-url", url, "init")
    assert "already holds a desk" in run("--database-url", url, "init", code=4).stderr
    run("--database-url", url, "new", "Filed through a URL")
    rows = sqlite3.connect(tmp_path / "team.db").execute("select title from issues").fetchall()
    assert rows == [("Filed through a URL",)]
    assert not (tmp_path / ".passmuster").exists()


def test_a_markdown_draft_with_two_issues_points_to_import(desk_folder: Path, run: Run) -> None:
    draft = desk_folder / "log.md"
    draft.write_text(
        "# Log\n\n## Issue #001 - Logout\n**Severity**: High\n\n"
        "## Issue #002 - Auth me\n**Severity**: Low\n"
    )
    result = run("new", "--from-file", str(draft), code=2)
    assert "holds 2 issues" in result.stderr and "passmuster import" in result.stderr


def test_a_damaged_schema_is_exit_5_with_the_databases_words(
    desk_folder: Path, run: Run, run_json: Any
) -> None:
    n = str(file_issue(run_json, "Mock service memory leak"))
    with sqlite3.connect(desk_folder / ".passmuster" / "desk.db") as db:
        db.execute("drop table comments")
    result = run("show", n, code=5)
    assert "the database failed: no such table: comments" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_draft_the_editor_leaves_unreadable_is_kept_for_a_retry(
    desk_folder: Path, run: Run, run_json: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = desk_folder / "editor.py"
    editor.write_text(
        "import sys, pathlib\n"
        "pathlib.Path(sys.argv[1]).write_text('Logout keeps sessions\\n**Severity**: high\\n')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    result = run("new", "--edit", code=2)
    kept = Path(result.stderr.split("kept in ")[1].split(" ")[0])
    assert kept.read_text() == "Logout keeps sessions\n**Severity**: high\n"
    assert run_json("list", "--all") == []
    kept.unlink()


def test_edit_moves_to_any_status_the_workflow_allows_in_one_commit(
    desk_folder: Path, run: Run, run_json: Any
) -> None:
    n = str(file_issue(run_json, "Missing billing service"))
    assert run_json("edit", n, "--status", "planned")["status"] == "planned"
    moved = run_json("edit", n, "--status", "workaround-applied", "--workaround", "Defaults")
    assert (moved["status"], moved["workaround"]) == ("workaround_applied", "Defaults")
    assert "close N --reason" in run("edit", n, "--status", "closed", code=2).stderr
    assert "invalid status 'done'" in run("edit", n, "--status", "done", code=2).stderr
    run("resolve", n, "--resolution", "billing-service exists now")
    refused = run("edit", n, "--status", "planned", "--title", "Renamed", code=4)
    assert "allowed: " in refused.stderr
    after = run_json("show", n)["issue"]
    assert (after["status"], after["title"]) == ("resolved", "Missing billing service")


def test_show_keeps_the_words_a_log_used(desk_folder: Path, run: Run) -> None:
    from passmuster.core.issues import IssueDraft, Severity
    from passmuster.usecases.desk import Desk

    with Desk.open(desk_folder / ".passmuster" / "desk.db") as desk:
        desk.file(
            IssueDraft(
                title="Authentication Logout Session Invalidation",
                severity=Severity.CRITICAL,
                original_values={"severity": "Critical (Security Issue)"},
            ),
            actor="import",
        )
    text = run("show", "1").stdout
    assert "As written in the log" in text and "Critical (Security Issue)" in text


def test_claims_lease_renew_release_and_agents(desk_folder: Path, run: Run, run_json: Any) -> None:
    first = file_issue(run_json, "Port clash on 8004", "-S", "high")
    second = file_issue(run_json, "Worker lacks DOCKER_HOST", "-S", "low")
    claimed = run_json("claim", str(second), "--as", "agent-7", "--lease", "45m")
    assert claimed["number"] == second and claimed["lease"]["holder"] == "agent-7"
    assert [i["number"] for i in run_json("ready")] == [first]
    taken = run("claim", str(second), code=4)
    assert "claimed by agent-7 until" in taken.stderr
    assert (
        "Claimed" in run("show", str(second)).stdout or "agent-7" in run("show", str(second)).stdout
    )
    held = run_json("agents")
    assert [(h["agent"], h["issue"]) for h in held] == [("agent-7", second)]
    assert "agent-7" in run("agents").stdout
    renewed = run_json("renew", str(second), "--as", "agent-7", "--lease", "2h")
    assert renewed["lease"]["until"] > claimed["lease"]["until"]
    assert "not by alice" in run("release", str(second), code=4).stderr
    released = run_json("release", str(second), "--as", "agent-7")
    assert released["assignee"] is None and released["status"] == "open"
    assert "No issue is claimed" in run("agents").stdout
    assert "invalid lease" in run("claim", "--lease", "soon", code=2).stderr
