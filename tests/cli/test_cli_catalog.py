"""passmuster service add/list/show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.helpers import Run


def test_add_list_and_show_services(desk_folder: Path, run: Run, run_json: Any) -> None:
    added = run_json(
        "service",
        "add",
        "user-service",
        "--description",
        "Customer accounts",
        "--owner",
        "user-agent",
        "--depends-on",
        "tenant-service",
        "--port",
        "8001:5000",
    )
    assert added["owner"] == "user-agent" and added["depends_on"] == ["tenant-service"]
    updated = run_json("service", "add", "user-service", "--owner", "platform-team")
    assert updated["owner"] == "platform-team"
    assert updated["description"] == "Customer accounts"  # not given, so kept

    run("new", "Auth me crashes", "--service", "user-service", "-S", "high")
    run("new", "Logout bug", "--service", "user-service", "-S", "critical")
    rows = run_json("service", "list")
    user = next(r for r in rows if r["name"] == "user-service")
    assert user["open_issues"] == 2
    text = run("service", "show", "user-service").stdout
    assert "platform-team" in text and "2 active issue(s)" in text and "Logout bug" in text
    shown = run_json("service", "show", "user-service")
    assert [i["title"] for i in shown["issues"]] == ["Logout bug", "Auth me crashes"]  # urgency


def test_bad_and_unknown_services(desk_folder: Path, run: Run) -> None:
    assert "invalid service" in run("service", "add", "has spaces", code=2).stderr
    assert run("service", "show", "nowhere", code=3).stderr.startswith("error: ")
    assert "No services yet" in run("service", "list").stdout
