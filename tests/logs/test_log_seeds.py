"""The four real logs, read field by field: ../shared/seeds beside the repository.

The seeds are not part of the repository. Where they are missing this module is skipped with
one message (their layouts are covered by test_log_layouts.py and the fixture logs), unless
CI=true or PASSMUSTER_REQUIRE_SEEDS=1 (as CI sets), which turn a missing folder into failures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from passmuster.core.issues import (
    FileChange,
    IssueQuery,
    IssueType,
    Priority,
    Severity,
    Status,
    Task,
)
from passmuster.logs.model import ParsedIssue, ParsedLog
from passmuster.logs.reader import read_file
from passmuster.settings import env_flag
from passmuster.usecases.desk import Desk
from passmuster.usecases.importing import import_logs

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
MISSING = (
    f"the real seed logs are not beside this clone ({SEEDS}); "
    "their layouts are tested with tests/fixtures/logs instead"
)
REQUIRED = env_flag("CI") or env_flag("PASSMUSTER_REQUIRE_SEEDS")

if not SEEDS.is_dir() and not REQUIRED:
    pytest.skip(MISSING, allow_module_level=True)

Seed = Callable[[str], ParsedLog]


def seed_path(prefix: str) -> Path:
    if not SEEDS.is_dir():
        pytest.fail(f"{MISSING} (CI or PASSMUSTER_REQUIRE_SEEDS is set: they are required)")
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if len(matches) != 1:
        pytest.fail(f"expected one seed log {prefix}_*.txt in {SEEDS}, found {len(matches)}")
    return matches[0]


@pytest.fixture
def seed() -> Seed:
    """`seed("002")` reads that seed log."""
    return lambda prefix: read_file(seed_path(prefix))


@pytest.fixture
def seeds_dir() -> Path:
    seed_path("000")
    return SEEDS


def by_id(log: ParsedLog) -> dict[str, ParsedIssue]:
    return {i.draft.original_id or i.draft.title: i for i in log.issues}


def note_titles(log: ParsedLog) -> list[str]:
    return [n.title for n in log.notes]


# --- seed 000: headings with the status inside ---------------------------------------------------


def test_seed_000_has_two_resolved_issues_with_their_severities(seed: Seed) -> None:
    log = seed("000")
    assert [i.draft.original_id for i in log.issues] == ["#001", "#002"]
    first, second = (i.draft for i in log.issues)
    assert first.title == "Requirements Management Pattern"
    assert second.title == "Database Driver Conflicts"
    assert first.status is second.status is Status.RESOLVED
    assert (first.severity, second.severity) == (Severity.HIGH, Severity.CRITICAL)
    assert (
        first.original_values["status"] == "✅ **RESOLVED**"
    )  # mojibake repaired, kept as written
    assert first.reported_at == datetime(2025, 9, 9, tzinfo=UTC)
    assert first.reporter == (
        "Services Coordinator (detected during identity-service requirements update)"
    )
    assert first.description.startswith("Identity service agent initially duplicated")
    assert first.impact == "Breaks centralized dependency management, causes version drift"
    assert first.resolution == (
        "Identity service corrected to use proper shared requirements pattern"
    )


def test_seed_000_issue_002_keeps_error_block_resolution_list_and_files(seed: Seed) -> None:
    draft = by_id(seed("000"))["#002"].draft
    assert draft.services == ["identity-service"]
    assert draft.original_values["services"] == "identity-service, potentially all future services"
    assert draft.error_details == [
        '- psycopg2-binary fails with "pg_config executable not found"\n'
        "- grpcio compilation failures on some systems\n"
        "- Async/sync PostgreSQL driver conflicts"
    ]
    assert draft.resolution.splitlines()[0] == "- Removed database drivers from shared requirements"
    assert len(draft.resolution.splitlines()) == 4
    assert draft.files_changed[0] == FileChange(
        "requirements.shared.txt", "Removed conflicting database drivers"
    )
    assert [f.path for f in draft.files_changed] == [
        "requirements.shared.txt",
        "identity-service/requirements.txt",
        "docs/SERVICE_INTEGRATION_PATTERNS.md",
        "README.md",
    ]


def test_seed_000_template_in_fence_and_document_sections_are_notes(seed: Seed) -> None:
    log = seed("000")
    assert all("XXX" not in (i.draft.original_id or "") for i in log.issues)
    titles = note_titles(log)
    for part in (
        "Issue Reporting Format",
        "Issue Categories",
        "Escalation Workflow",
        "Issue Statistics",
        "Emergency Contact Protocol",
        "Prevention Measures",
    ):
        assert part in titles
    template = next(n for n in log.notes if n.title == "Issue Reporting Format")
    assert "Issue #XXX: [Title]" in template.body


def test_seed_000_statistics_table_is_compared_with_the_issues(seed: Seed) -> None:
    totals = {t.label: (t.stated, t.found) for t in seed("000").totals}
    assert totals["Sep 2025 total"] == (1, 2)
    assert totals["Sep 2025 critical"] == (0, 1)
    assert totals["Sep 2025 high"] == (1, 1)


# --- seed 002: category sections with bullet fields --------------------------------------------


def test_seed_002_has_twenty_issues_in_its_five_categories(seed: Seed) -> None:
    log = seed("002")
    assert len(log.issues) == 20
    categories = Counter(i.draft.labels[0] for i in log.issues)
    assert categories == {
        "critical-issues": 3,
        "bugs": 2,
        "performance-issues": 3,
        "technical-debt": 5,
        "enhancement-requests": 7,
    }
    assert Counter(i.draft.status for i in log.issues) == {Status.OPEN: 13, Status.PLANNED: 7}
    types = Counter(i.draft.type for i in log.issues if i.draft.labels[0] != "critical-issues")
    assert types == {
        IssueType.BUG: 2,
        IssueType.PERFORMANCE: 3,
        IssueType.TECH_DEBT: 5,
        IssueType.ENHANCEMENT: 7,
    }


def test_seed_002_fields_of_individual_issues(seed: Seed) -> None:
    issues = by_id(seed("002"))
    facades = issues["Missing Service Facades"].draft
    assert facades.severity is Severity.CRITICAL
    assert facades.description == "No simplified facade interfaces over complex core services"
    assert facades.impact == "Developers must work directly with complex core service APIs"
    assert facades.resolution == "Create facade pattern implementations with simplified APIs"
    leaks = issues["Mock Service Memory Leaks"].draft
    assert [(e.name, e.body) for e in leaks.extra_sections] == [
        ("Evidence", "Memory usage grows during extended test runs")
    ]
    registry = issues["No Service Registry Pattern"].draft
    assert registry.priority is Priority.SHORT_TERM
    assert registry.original_values["priority"] == "High"
    assert registry.type is IssueType.TECH_DEBT
    hot = issues["Configuration Hot Reloading"].draft
    assert (hot.status, hot.priority) == (Status.PLANNED, Priority.LONG_TERM)
    assert [e.name for e in hot.extra_sections] == ["Use Case", "Implementation"]


def test_seed_002_reports_its_summary_claiming_seventeen_open(seed: Seed) -> None:
    log = seed("002")
    open_total = next(t for t in log.totals if t.label == "Open")
    assert (open_total.stated, open_total.found) == (17, 13)
    assert any("Open: 17 issues; 13 found" in w.message for w in log.warnings)
    tech_debt = next(t for t in log.totals if t.label == "Tech Debt")
    assert tech_debt.matches
    for part in ("Issue Summary", "Priority Matrix", "Dependencies", "Implementation Notes"):
        assert part in note_titles(log)


# --- seed 003: two logs, two numbering schemes, bold-paragraph issues --------------------------


def test_seed_003_has_fifteen_issues_in_two_numbering_schemes(seed: Seed) -> None:
    log = seed("003")
    ids = [i.draft.original_id for i in log.issues]
    assert ids == [f"#{n:03d}" for n in range(1, 10)] + [f"#{n}" for n in range(1, 7)]
    assert len({i.key for i in log.issues}) == 15


def test_seed_003_bold_paragraph_issues_own_their_fields_and_subsections(seed: Seed) -> None:
    issues = by_id(seed("003"))
    billing = issues["#004"].draft
    assert billing.title == "Missing Billing Service"
    assert billing.status is Status.PLANNED
    assert billing.priority is Priority.MEDIUM_TERM
    assert billing.component == "billing-service"
    assert billing.description.startswith("Need to implement billing-service")
    assert issues["#005"].draft.status is Status.IN_PROGRESS
    ports = issues["#006"].draft
    assert ports.reported_at == datetime(2025, 1, 15, tzinfo=UTC)
    assert ports.description.startswith("Currently, services use different internal ports")
    assert len(ports.tasks) == 6 and not any(t.done for t in ports.tasks)
    assert "Current State" in [e.name for e in ports.extra_sections]
    # #003 stops where #004 starts.
    tenant = issues["#003"].draft
    assert tenant.status is Status.IN_PROGRESS
    assert tenant.tasks[0] == Task(
        "Create `/api/v1/tenants/customer/{customer_id}/stats` endpoint in tenant-service"
    )
    assert len(tenant.tasks) == 4
    assert [e.name for e in tenant.extra_sections] == ["Status Update"]


def test_seed_003_subsections_map_onto_fields(seed: Seed) -> None:
    issues = by_id(seed("003"))
    logout = issues["#001"].draft
    assert logout.status is Status.RESOLVED
    assert logout.priority is Priority.IMMEDIATE
    assert logout.severity is Severity.CRITICAL  # this log ranks by priority only
    assert logout.type is IssueType.SECURITY  # "Critical (Security Issue)"
    assert logout.original_values["priority"] == "Critical (Security Issue)"
    assert logout.component == "user-service"
    assert logout.root_cause.startswith("The `logout_customer()` method")
    assert logout.test_results.startswith("```bash\n✅ Login: Get valid token")
    assert logout.files_changed[1] == FileChange(
        "services/user-service/app/routes/auth.py", "Updated logout route"
    )
    worker = issues["#008"].draft
    assert worker.status is Status.WORKAROUND_APPLIED
    assert worker.workaround.startswith("Added admin credentials")
    assert len(worker.tasks) == 5
    env = issues["#3"].draft
    assert env.status is Status.OPEN
    assert env.original_values["status"] == "🔴 ACTIVE - BLOCKING"
    assert env.error_details[0].startswith('File "/app/app/tasks/provisioning.py", line 64')
    assert issues["#2"].draft.status is Status.WORKAROUND_APPLIED
    assert issues["#4"].draft.original_values["status"] == "🟡 DESIGN ISSUE"
    assert issues["#5"].draft.severity is Severity.INFO
    assert issues["#1"].draft.prevention.startswith("- Add dependency version verification")


def test_seed_003_headings_inside_yaml_fences_are_not_structure(seed: Seed) -> None:
    log = seed("003")
    ports = by_id(log)["#006"].draft
    state = next(e.body for e in ports.extra_sections if e.name == "Current State")
    assert "# External 8001 → Internal 8001" in state  # a comment line, repaired, inside the fence
    assert not any("External" in i.draft.title for i in log.issues)


def test_seed_003_unreadable_date_is_kept_and_warned(seed: Seed) -> None:
    log = seed("003")
    historical = by_id(log)["#6"].draft
    assert historical.reported_at is None
    assert historical.original_values["reported_at"] == "From compatibility audit"
    assert any(w.line == 687 and "From compatibility audit" in w.message for w in log.warnings)


def test_seed_003_document_sections_are_notes(seed: Seed) -> None:
    titles = note_titles(seed("003"))
    for part in (
        "Format",
        "Resolution Categories",
        "Testing Results Summary",
        "Next Actions Required",
        "File Size Reference",
    ):
        assert part in titles


# --- seed 004: failure categories without IDs or status -----------------------------------------


def test_seed_004_has_four_failure_categories_with_all_their_parts(seed: Seed) -> None:
    log = seed("004")
    assert [i.draft.title for i in log.issues] == [
        "HTTPStatus Import Issues",
        "get_current_user Function Placement Issues",
        "Port Conflicts in Dockerfiles",
        "Missing Dependencies in Dockerfiles",
    ]
    for issue in log.issues:
        d = issue.draft
        assert d.description and d.impact and d.root_cause and d.resolution and d.prevention
        assert "services" in issue.filled
        assert d.type is IssueType.DEPLOYMENT
        assert d.original_id is None
    first = log.issues[0].draft
    assert first.description == "Multiple services had incorrect `HTTPStatus` import from FastAPI"
    assert first.original_values["services"] == "15+ services"
    assert "from http import HTTPStatus" in first.resolution
    assert first.prevention.startswith("Script `fix-all-services.sh`")
    assert log.issues[3].draft.services == ["monitoring-service"]
    assert "AUTOMATED FIXES IMPLEMENTED" in note_titles(log)
    assert "SUCCESS METRICS" in note_titles(log)


# --- all four: one desk, and a round trip through an export ------------------------------------


def test_the_seeds_import_into_one_desk_with_their_notes_in_the_report(
    tmp_path: Path, seeds_dir: Path
) -> None:
    with Desk.init(tmp_path) as desk:
        report = import_logs(desk, [seeds_dir], actor="ana", root=seeds_dir)
        assert report.count("created") == 41
        assert desk.count() == 41
        assert desk.count(IssueQuery(source="002_c088405262329a03.txt")) == 20
        assert {n.title for n in report.notes} >= {"Issue Reporting Format", "Priority Matrix"}
        open_claim = next(t for t in report.totals if t.label == "Open")
        assert (open_claim.stated, open_claim.found) == (17, 13)
        again = import_logs(desk, [seeds_dir], actor="ana", root=seeds_dir)
        assert again.count("unchanged") == 41


def test_seeds_survive_desk_export_import_into_a_fresh_desk(
    tmp_path: Path, seeds_dir: Path
) -> None:
    from test_log_roundtrip import assert_round_trip

    assert assert_round_trip(seeds_dir, tmp_path) == 41
