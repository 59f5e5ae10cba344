"""stats, sla and escalate on a desk with issues from the real logs' situations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from passmuster.core.issues import IssueDraft, Priority, Severity, Status
from passmuster.usecases.desk import Desk
from tests.cli.helpers import Run


def _seed(folder: Path) -> None:
    """Two resolved issues from September 2025 and two overdue open ones."""
    now = datetime.now(UTC)
    sep = datetime(2025, 9, 9, 8, 0, tzinfo=UTC)
    with Desk.open(folder / ".passmuster" / "desk.db") as desk:
        desk.file(
            IssueDraft(
                title="Requirements management pattern",
                severity=Severity.HIGH,
                status=Status.RESOLVED,
                services=["identity-service"],
                reported_at=sep,
                resolved_at=sep + timedelta(hours=2),
                resolution="Use -r ../requirements.shared.txt",
            ),
            actor="coordinator",
        )
        desk.file(
            IssueDraft(
                title="Database driver conflicts",
                severity=Severity.CRITICAL,
                status=Status.RESOLVED,
                services=["identity-service"],
                reported_at=sep + timedelta(hours=3),
                resolved_at=sep + timedelta(hours=5),
                resolution="Drivers are service-specific",
            ),
            actor="coordinator",
        )
        desk.file(
            IssueDraft(
                title="Instance creation returns 500",
                severity=Severity.CRITICAL,
                priority=Priority.IMMEDIATE,
                services=["instance-service"],
                reported_at=now - timedelta(hours=6),
            ),
            actor="instance-agent",
        )
        desk.file(
            IssueDraft(
                title="Port standardisation",
                severity=Severity.LOW,
                services=["user-service"],
                reported_at=now - timedelta(hours=1),
            ),
            actor="user-agent",
        )


def test_stats_prints_the_month_by_severity_table(desk_folder: Path, run: Run) -> None:
    _seed(desk_folder)
    text = run("stats").stdout
    assert "Issues by month and severity" in text
    sep_row = next(line for line in text.splitlines() if line.startswith("Sep 2025"))
    # Month, critical, high, medium, low, info, total, resolved, avg and median resolution.
    assert sep_row.split()[:10] == ["Sep", "2025", "1", "1", "0", "0", "0", "2", "2", "2h"]
    for heading in ("By status", "Priority matrix", "SLA attainment", "Most open issues"):
        assert heading in text
    assert "#003" in text  # the immediate-priority issue in the matrix


def test_stats_json_and_date_window(desk_folder: Path, run: Run, run_json: Any) -> None:
    _seed(desk_folder)
    data = run_json("stats")
    assert data["total"] == 4
    assert data["months"][0]["month"] == "2025-09"
    assert data["months"][0]["avg_resolution_hours"] == 2.0
    assert data["by_severity"]["critical"] == 2
    only_sep = run_json("stats", "--since", "2025-09-01", "--until", "2025-10-01")
    assert only_sep["total"] == 2
    bad = run("stats", "--since", "last week", code=2)
    assert "--since" in bad.stderr and bad.stderr.count("\n") == 1


def test_sla_lists_breaches_and_can_fail_for_cron(
    desk_folder: Path, run: Run, run_json: Any
) -> None:
    _seed(desk_folder)
    clocks = run_json("sla")
    breached = {(c["number"], c["clock"]) for c in clocks if c["state"] == "breached"}
    assert (3, "respond") in breached and (3, "resolve") in breached
    assert all(c["number"] != 4 for c in clocks)  # a low issue 1 h old is fine
    text = run("sla").stdout
    assert "#003" in text and "breached" in text
    run("sla", "--fail-on-breach", code=1)
    run("ack", "3")
    run("resolve", "3", "--resolution", "json.dumps the JSONB fields")
    run("sla", "--fail-on-breach")
    assert "within its SLA" in run("sla").stdout


def test_escalate_records_each_breach_once(desk_folder: Path, run: Run, run_json: Any) -> None:
    _seed(desk_folder)
    events = run_json("escalate")
    assert sorted((e["issue"], e["field"]) for e in events) == [(3, "resolve"), (3, "respond")]
    assert run_json("escalate") == []
    assert "No new SLA breaches" in run("escalate").stdout
    timeline = run_json("show", "3")["events"]
    assert sum(1 for e in timeline if e["kind"] == "escalated") == 2


def _file_overdue(folder: Path, title: str, severity: Severity, *, count: int) -> None:
    """`count` open issues reported 1 … `count` days ago, all past their SLA."""
    now = datetime.now(UTC)
    with Desk.open(folder / ".passmuster" / "desk.db") as desk:
        desk.file_many(
            [
                IssueDraft(
                    title=title.format(n=n), severity=severity, reported_at=now - timedelta(days=n)
                )
                for n in range(1, count + 1)
            ],
            actor="coordinator",
        )


def test_escalate_lists_a_screenful_and_counts_the_rest(
    desk_folder: Path, run: Run, run_json: Any, monkeypatch: Any
) -> None:
    from passmuster.cli import reports

    monkeypatch.setattr(reports, "SLA_LISTED", 3)  # in process: read per run
    _file_overdue(desk_folder, "Gateway {n} returns 502", Severity.CRITICAL, count=4)
    text = run("escalate").stdout
    assert len([line for line in text.splitlines() if line.startswith("Escalated #")]) == 3
    assert "5 more escalated, not listed: 8 clocks of 4 issues in all" in text
    # Every breach was recorded, listed or not.
    assert run_json("escalate") == []
    with Desk.open(desk_folder / ".passmuster" / "desk.db") as desk:
        assert len(desk.events(kinds=["escalated"])) == 8


def _badge_of(text: str, ref: str) -> str:
    line = next(line for line in text.splitlines() if line.lstrip().startswith(ref))
    return line.rsplit("  ", 1)[-1].strip()


def test_list_shows_sla_badges_for_short_and_long_listings(desk_folder: Path, run: Run) -> None:
    _seed(desk_folder)
    text = run("list").stdout
    assert "SLA" in text.splitlines()[0]
    assert _badge_of(text, "#003") == "respond breached"
    assert "breached" not in next(ln for ln in text.splitlines() if "#004" in ln)
    # Past 100 shown issues the badges come from one pass over the desk's clocks.
    with Desk.open(desk_folder / ".passmuster" / "desk.db") as desk:
        desk.file_many(
            [IssueDraft(title=f"Filler {n}", severity=Severity.LOW) for n in range(120)], actor="x"
        )
    long_listing = run("list", "--limit", "0").stdout
    assert _badge_of(long_listing, "#003") == "respond breached"


def test_sla_lists_the_most_overdue_clocks_and_counts_them_all(
    desk_folder: Path, run: Run, run_json: Any, monkeypatch: Any
) -> None:
    from passmuster.cli import reports

    monkeypatch.setattr(reports, "SLA_LISTED", 3)  # in process: the text default is read per run
    _file_overdue(desk_folder, "Worker {n} misses REDIS_URL", Severity.HIGH, count=5)
    every = run_json("sla")
    assert len(every) == 10  # two clocks each, all breached, with --json every one
    text = run("sla").stdout
    rows = [line for line in text.splitlines() if line.startswith("#0")]
    # Most overdue first: the issue reported five days ago leads.
    assert [row.split()[0] for row in rows] == [f"#{every[i]['number']:03d}" for i in range(3)]
    assert rows[0].startswith("#005")
    assert "7 more not listed: --limit 0 lists every one" in text
    assert text.rstrip().endswith("10 breached, 0 at risk")
    assert (
        len(
            [
                line
                for line in run("sla", "--limit", "0").stdout.splitlines()
                if line.startswith("#0")
            ]
        )
        == 10
    )
    assert [c["number"] for c in run_json("sla", "--limit", "2")] == [
        c["number"] for c in every[:2]
    ]
    run("sla", "--limit", "1", "--fail-on-breach", code=1)
    assert "--limit" in run("sla", "--limit", "-1", code=2).stderr


def test_the_priority_matrix_lists_the_most_severe_and_counts_the_rest(
    desk_folder: Path, run: Run, run_json: Any, monkeypatch: Any
) -> None:
    from passmuster.cli import reports

    monkeypatch.setattr(reports, "MATRIX_LISTED", 2)
    with Desk.open(desk_folder / ".passmuster" / "desk.db") as desk:
        desk.file_many(
            [
                IssueDraft(title="Cache warm-up slow", severity=Severity.LOW),
                IssueDraft(title="Gateway returns 502", severity=Severity.CRITICAL),
                IssueDraft(title="Worker misses REDIS_URL", severity=Severity.HIGH),
                IssueDraft(title="Typo on the login page", severity=Severity.LOW),
            ],
            actor="coordinator",
        )
    text = run("stats").stdout
    unset = text.split("Priority matrix")[1].split("SLA attainment")[0]
    assert "#002 critical Gateway returns 502" in unset and "#003 high Worker" in unset
    assert "Cache warm-up" not in unset and "… and 2 more" in unset
    matrix = run_json("stats")["priority_matrix"]
    assert sorted(ref["number"] for ref in matrix["unset"]) == [1, 2, 3, 4]
