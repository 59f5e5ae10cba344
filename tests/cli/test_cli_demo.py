"""The demo runs every step on a scratch desk and leaves a desk worth exploring."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run


def test_demo_files_works_and_reports(tmp_path: Path, run: Run) -> None:
    text = run("demo", "--dir", str(tmp_path / "demo")).stdout
    assert (tmp_path / "demo" / ".passmuster" / "desk.db").is_file()
    assert "$ passmuster ack 6" in text
    assert "Known fixes" in text and "from http import HTTPStatus" in text
    assert "Issues by month and severity" in text
    assert "exited" not in text  # no step failed


def test_demo_json_summarises_the_desk(tmp_path: Path, run: Run) -> None:
    data = json.loads(run("demo", "--dir", str(tmp_path), "--json").stdout)
    statuses = {i["number"]: i["status"] for i in data["issues"]}
    assert statuses[6] == "in_progress" and statuses[7] == "blocked" and statuses[9] == "resolved"
    assert statuses[11] == "resolved"  # the look-alike solved with the known fix
    assert statuses[10] == "planned"
    assert data["failures"] == []
    assert data["stats"]["total"] == 11


def test_demo_refuses_a_folder_with_a_desk(tmp_path: Path, run: Run) -> None:
    run("demo", "--dir", str(tmp_path), "--json")
    assert "already exists" in run("demo", "--dir", str(tmp_path), code=4).stderr
