"""Shared CLI output helpers: JSON for every printed value, local times, dates users type."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import pytest
from click.testing import CliRunner

from passmuster.cli import _output
from passmuster.core.issues import FileChange, Issue, Severity, Status, Task


def test_issue_becomes_plain_json_with_its_reference() -> None:
    issue = Issue(
        title="Database driver conflicts",
        severity=Severity.CRITICAL,
        tasks=[Task("remove drivers", done=True)],
        files_changed=[FileChange("requirements.shared.txt", "removed drivers")],
        number=2,
        created_at=datetime(2025, 9, 9, 10, 30, tzinfo=UTC),
    )
    data = json.loads(json.dumps(_output.issue_json(issue)))
    assert data["ref"] == "#002"
    assert data["severity"] == "critical"
    assert data["status"] == Status.OPEN.value
    assert data["tasks"] == [{"text": "remove drivers", "done": True}]
    assert data["files_changed"][0]["path"] == "requirements.shared.txt"
    assert data["created_at"] == "2025-09-09T10:30:00+00:00"


def test_aware_times_are_written_in_utc() -> None:
    from datetime import timezone

    moment = datetime(2025, 9, 9, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert _output.to_jsonable(moment) == "2025-09-09T10:00:00+00:00"
    assert _output.to_jsonable({"a": {1, 2}}) == {"a": [1, 2]}


def test_utc_times_are_shown_in_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Africa/Harare")  # UTC+2, no daylight saving
    time.tzset()
    try:
        shown = _output.local_time(datetime(2025, 6, 2, 8, 15, tzinfo=UTC))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert shown == "2025-06-02 10:15"
    assert _output.local_time(None) == ""


def test_a_date_that_cannot_be_read_names_the_option() -> None:
    with pytest.raises(_output.BadInput, match="--since"):
        _output.parse_when("last tuesday", option="--since")
    assert _output.parse_when("2025-09-09T00:00Z", option="--since") == datetime(
        2025, 9, 9, tzinfo=UTC
    )


def test_the_database_url_comes_from_the_root_command() -> None:
    @click.group()
    @click.option("--database-url")
    @click.pass_context
    def root(ctx: click.Context, database_url: str | None) -> None:
        ctx.obj = {"database_url": database_url}

    @root.command()
    def which() -> None:
        click.echo(_output.database_url())

    result = CliRunner().invoke(root, ["--database-url", "sqlite:///x.db", "which"])
    assert result.output.strip() == "sqlite:///x.db"


def test_a_long_listing_is_json_with_one_item_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    items = [{"number": n, "title": f"Issue {n}"} for n in range(60)]
    _output.emit_json(items)
    out = capsys.readouterr().out
    assert json.loads(out) == items
    assert len(out.strip().splitlines()) == 62  # brackets and one line per item
    _output.emit_json(items[:2])
    assert json.loads(capsys.readouterr().out) == items[:2]


def test_json_text_reads_as_json_dumps_until_a_container_is_long() -> None:
    import random

    rng = random.Random(7)

    def value(depth: int) -> Any:
        kind = rng.randrange(7 if depth < 4 else 4)
        if kind == 0:
            return rng.choice([None, True, False])
        if kind == 1:
            return rng.randint(-(10**6), 10**6)
        if kind == 2:
            return rng.choice([0.5, -3.25, 1e20, 2.0])
        if kind == 3:
            return rng.choice(["", "plain", 'quote " and \\', "naïve 漢字", "line\nbreak"])
        if kind in (4, 5):
            return [value(depth + 1) for _ in range(rng.randrange(5))]
        return {rng.choice(["a", "b", "ü", "x y"]) + str(n): value(depth + 1) for n in range(4)}

    for _ in range(300):
        data = value(0)
        assert _output.json_text(data) == json.dumps(data, indent=2, ensure_ascii=False)
    # Keys that are not text are written as JSON writes them.
    assert _output.json_text({5: 1, True: 2, None: 3}) == json.dumps(
        {5: 1, True: 2, None: 3}, indent=2
    )


def test_long_lists_and_mappings_inside_a_report_are_one_item_per_line() -> None:
    report = {
        "by_month": {f"2025-{n:03d}": {"critical": n, "high": [n, n + 1]} for n in range(80)},
        "hours": [{"number": n, "hours": n / 4} for n in range(70)],
        "total": 150,
    }
    text = _output.json_text(report)
    assert json.loads(text) == report
    lines = text.splitlines()
    assert '    "2025-007": {"critical": 7, "high": [7, 8]},' in lines
    assert '    {"number": 3, "hours": 0.75},' in lines
    assert len(lines) == 1 + (1 + 80 + 1) + (1 + 70 + 1) + 1 + 1
