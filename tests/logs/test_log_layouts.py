"""The layouts of real coordination logs, read from the project's own fixture logs.

Each fixture in tests/fixtures/logs/ is written in one layout family the real logs use (the
seeds beside the repository are tested in test_log_seeds.py when they are present), so a fresh
clone tests every format the importer claims to read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from passmuster.core.issues import FileChange, IssueType, Priority, Severity, Status, Task
from passmuster.logs.model import ParsedIssue, ParsedLog
from passmuster.logs.reader import read_file

FixtureLog = Callable[[str], Path]


def read(fixture_log: FixtureLog, name: str) -> ParsedLog:
    return read_file(fixture_log(name))


def by_key(log: ParsedLog) -> dict[str, ParsedIssue]:
    return {i.draft.original_id or i.draft.title: i for i in log.issues}


def note_titles(log: ParsedLog) -> list[str]:
    return [n.title for n in log.notes]


# --- status written into the heading, bold field lines, garbled emoji -------------------------


def test_status_in_headings_reads_both_resolved_issues_with_their_fields(
    fixture_log: FixtureLog,
) -> None:
    log = read(fixture_log, "status-in-headings")
    assert [i.draft.original_id for i in log.issues] == ["#001", "#002"]
    first, second = (i.draft for i in log.issues)
    assert first.title == "Cart service pins its own FastAPI"
    assert first.status is second.status is Status.RESOLVED
    assert (first.severity, second.severity) == (Severity.HIGH, Severity.CRITICAL)
    assert first.original_values["status"] == "✅ **RESOLVED**"  # repaired, kept as written
    assert first.reported_at == datetime(2025, 10, 2, tzinfo=UTC)
    assert first.reporter == "Coordinator (noticed while upgrading the gateway)"
    assert first.impact == "The next shared upgrade leaves cart behind on an old FastAPI"
    assert first.resolution == "Cart now includes the shared requirements file"


def test_status_in_headings_keeps_error_block_resolution_list_and_files(
    fixture_log: FixtureLog,
) -> None:
    draft = by_key(read(fixture_log, "status-in-headings"))["#002"].draft
    assert draft.services == ["checkout"]
    assert draft.original_values["services"] == "checkout, later the refund worker too"
    assert draft.error_details == [
        "- kombu.exceptions.OperationalError: [Errno -2] Name or service not known\n"
        "- retries exhausted after 5 attempts"
    ]
    assert draft.resolution.splitlines()[0] == (
        "- Renamed the broker host to `rabbitmq` in every compose file"
    )
    assert len(draft.resolution.splitlines()) == 3
    assert draft.files_changed == [
        FileChange("docker-compose.yml", "Broker service renamed to rabbitmq"),
        FileChange("services/checkout/app/events.py", "Broker URL from the environment"),
        FileChange("README.md", "Broker section"),
    ]


def test_status_in_headings_template_and_document_sections_are_notes(
    fixture_log: FixtureLog,
) -> None:
    log = read(fixture_log, "status-in-headings")
    assert all("XXX" not in (i.draft.original_id or "") for i in log.issues)
    titles = note_titles(log)
    for part in (
        "Issue Reporting Format",
        "Issue Categories",
        "Escalation Workflow",
        "Issue Statistics",
        "Prevention Measures",
    ):
        assert part in titles
    template = next(n for n in log.notes if n.title == "Issue Reporting Format")
    assert "Issue #XXX: [Title]" in template.body


def test_status_in_headings_statistics_are_compared_and_mojibake_is_reported(
    fixture_log: FixtureLog,
) -> None:
    log = read(fixture_log, "status-in-headings")
    totals = {t.label: (t.stated, t.found) for t in log.totals}
    assert totals["Oct 2025 total"] == (1, 2)
    assert totals["Oct 2025 critical"] == (0, 1)
    assert totals["Oct 2025 high"] == (1, 1)
    (repaired,) = [w for w in log.warnings if "mojibake" in w.message]
    assert repaired.line == 3  # "## 🎯 **Purpose**", the first garbled line, not the file's top


# --- category sections with bullet fields -----------------------------------------------------


def test_category_sections_give_type_and_label_per_issue(fixture_log: FixtureLog) -> None:
    log = read(fixture_log, "category-sections")
    assert len(log.issues) == 8
    labels = [i.draft.labels[0] for i in log.issues]
    assert labels == [
        "critical-issues",
        "critical-issues",
        "bugs",
        "performance-issues",
        "technical-debt",
        "technical-debt",
        "enhancement-requests",
        "enhancement-requests",
    ]
    types = [i.draft.type for i in log.issues[2:]]
    assert types == [
        IssueType.BUG,
        IssueType.PERFORMANCE,
        IssueType.TECH_DEBT,
        IssueType.TECH_DEBT,
        IssueType.ENHANCEMENT,
        IssueType.ENHANCEMENT,
    ]
    assert [i.draft.status for i in log.issues].count(Status.PLANNED) == 2


def test_category_sections_map_bullet_fields_and_keep_the_rest(fixture_log: FixtureLog) -> None:
    issues = by_key(read(fixture_log, "category-sections"))
    rebuild = issues["Index Rebuild Blocks Writes"].draft
    assert rebuild.severity is Severity.CRITICAL
    assert rebuild.description == "A full index rebuild holds the write lock for its whole run"
    assert rebuild.resolution == "Rebuild into a shadow index and swap it in"
    stale = issues["Stale Results After Rename"].draft
    assert [(e.name, e.body) for e in stale.extra_sections] == [
        ("Evidence", "The cache key uses the title instead of the document id")
    ]
    client = issues["No Search Client Interface"].draft
    assert client.priority is Priority.SHORT_TERM
    assert client.original_values["priority"] == "High"
    saved = issues["Saved Searches"].draft
    assert (saved.status, saved.priority) == (Status.PLANNED, Priority.MEDIUM_TERM)
    assert [e.name for e in saved.extra_sections] == ["Use Case"]


def test_category_sections_summary_is_checked_and_document_sections_are_notes(
    fixture_log: FixtureLog,
) -> None:
    log = read(fixture_log, "category-sections")
    open_total = next(t for t in log.totals if t.label == "Open")
    assert (open_total.stated, open_total.found) == (8, 6)
    assert any("Open: 8 issues; 6 found" in w.message for w in log.warnings)
    assert next(t for t in log.totals if t.label == "Tech Debt").matches
    for part in ("Issue Summary", "Priority Matrix", "Implementation Notes"):
        assert part in note_titles(log)


# --- numbered issues with subsections, bold paragraphs, two numbering schemes ------------------


def test_numbered_log_has_two_numbering_schemes(fixture_log: FixtureLog) -> None:
    log = read(fixture_log, "numbered-subsections")
    ids = [i.draft.original_id for i in log.issues]
    assert ids == ["#001", "#002", "#003", "#004", "#005", "#1", "#2", "#3"]
    assert len({i.key for i in log.issues}) == 8


def test_numbered_log_subsections_map_onto_fields(fixture_log: FixtureLog) -> None:
    issues = by_key(read(fixture_log, "numbered-subsections"))
    logout = issues["#001"].draft
    assert logout.status is Status.RESOLVED
    assert logout.priority is Priority.IMMEDIATE
    assert logout.severity is Severity.CRITICAL  # this log ranks by priority only
    assert logout.type is IssueType.SECURITY  # "Critical (Security Issue)"
    assert logout.component == "driver-service"
    assert logout.root_cause.startswith("The `logout()` handler")
    assert logout.test_results.startswith("```bash\n✅ Login: token issued")
    assert logout.files_changed[1] == FileChange(
        "services/driver-service/app/deps.py", "Check the session row"
    )
    worker = issues["#005"].draft
    assert worker.status is Status.WORKAROUND_APPLIED
    assert worker.workaround.startswith("Admin credentials in the worker's environment")
    assert len(worker.tasks) == 2
    region = issues["#2"].draft
    assert region.status is Status.OPEN
    assert region.original_values["status"] == "🔴 ACTIVE - BLOCKING"
    assert region.error_details[0].startswith('File "/app/worker/tasks.py", line 31')
    assert issues["#1"].draft.prevention.startswith("- Pin the broker client")


def test_numbered_log_bold_paragraph_issues_own_their_fields(fixture_log: FixtureLog) -> None:
    issues = by_key(read(fixture_log, "numbered-subsections"))
    planner = issues["#002"].draft
    assert planner.status is Status.IN_PROGRESS
    assert planner.tasks[0] == Task("Create the `planning` queue", done=True)
    assert len(planner.tasks) == 3
    invoice = issues["#003"].draft
    assert invoice.title == "Invoice Service Missing"
    assert (invoice.status, invoice.priority) == (Status.PLANNED, Priority.MEDIUM_TERM)
    assert invoice.component == "invoice-service"
    ports = issues["#004"].draft
    assert ports.reported_at == datetime(2025, 7, 9, tzinfo=UTC)
    assert ports.description.startswith("Services listen on different internal ports")
    state = next(e.body for e in ports.extra_sections if e.name == "Current State")
    assert "# Tracking 8101 → Internal 8101" in state  # a YAML comment, not a heading


def test_numbered_log_unreadable_date_is_kept_and_warned(fixture_log: FixtureLog) -> None:
    log = read(fixture_log, "numbered-subsections")
    historical = by_key(log)["#3"].draft
    assert historical.reported_at is None
    assert historical.original_values["reported_at"] == "From the dependency audit"
    line = next(i.line for i in log.issues if i.draft.original_id == "#3") + 3
    assert any(w.line == line and "From the dependency audit" in w.message for w in log.warnings)
    for part in ("Format", "Testing Results Summary", "Next Actions Required"):
        assert part in note_titles(log)


# --- failure categories without IDs or status -------------------------------------------------


def test_failure_categories_are_issues_with_every_part(fixture_log: FixtureLog) -> None:
    log = read(fixture_log, "failure-categories")
    assert [i.draft.title for i in log.issues] == [
        "Pydantic Settings Import Issues",
        "Health Checks Calling Missing Tools",
    ]
    for issue in log.issues:
        d = issue.draft
        assert d.description and d.impact and d.root_cause and d.resolution and d.prevention
        assert "services" in issue.filled
        assert d.type is IssueType.DEPLOYMENT
        assert d.original_id is None
    first, second = (i.draft for i in log.issues)
    assert first.original_values["services"] == "9 services"
    assert "from pydantic_settings import BaseSettings" in first.resolution
    assert second.services == ["ledger-service", "quote-service"]
    assert "AUTOMATED FIXES IMPLEMENTED" in note_titles(log)
    assert "SUCCESS METRICS" in note_titles(log)
