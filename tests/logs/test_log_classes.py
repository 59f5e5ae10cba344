"""The shapes real logs take that a first reader got wrong, one fixture log per class.

Each log in tests/fixtures/log-classes/ was written for this project to reproduce one class of
real-world layout; the tests say what a careful reader finds in it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from passmuster.core.issues import Priority, Severity, Status
from passmuster.logs.model import ParsedIssue, ParsedLog
from passmuster.logs.reader import read_file, read_text
from passmuster.usecases.importing import import_logs

CLASSES = Path(__file__).resolve().parents[1] / "fixtures" / "log-classes"


def read(name: str, *, family: str = "auto") -> ParsedLog:
    return read_file(CLASSES / name, family=family)


def titles(log: ParsedLog) -> list[str]:
    return [issue.draft.title for issue in log.issues]


def by_title(log: ParsedLog) -> dict[str, ParsedIssue]:
    return {issue.draft.title: issue for issue in log.issues}


# --- 1. unknown values ---------------------------------------------------------------------------


def test_unknown_values_are_kept_as_written_with_a_warning_at_their_line() -> None:
    log = read("unknown-values.md")
    refund = by_title(log)["Refund worker retries forever"].draft
    assert refund.priority is None and refund.severity is Severity.MEDIUM
    assert refund.original_values["priority"] == "🟢 None"
    assert refund.original_values["severity"] == "🟡 Production Only"
    assert refund.original_values["type"] == "Heisenbug"
    assert refund.original_values["reported_at"] == "sometime last sprint"
    warned = {(w.line, w.message.split(" ")[1]) for w in log.warnings}
    assert {(5, "priority"), (6, "severity"), (7, "type")} <= warned
    assert all(str(w).startswith(f"{CLASSES / 'unknown-values.md'}:") for w in log.warnings)


def test_unknown_values_in_a_table_row_warn_at_the_row() -> None:
    log = read("unknown-values.md")
    webhook = by_title(log)["Webhook signature check skipped on retries"]
    assert webhook.draft.original_values == {
        "status": "Waiting for vendor",
        "priority": "Whenever",
    }
    assert {w.line for w in log.warnings if "Whenever" in w.message} == {webhook.line}


def test_a_log_of_unknown_values_imports_without_a_traceback(tmp_path: Path) -> None:
    report = import_logs(None, [CLASSES / "unknown-values.md"], actor="t", dry_run=True)
    assert report.count("would be created") == 3


# --- 2. document-level fields ------------------------------------------------------------------


@pytest.mark.parametrize("family", ["auto", "sections"])
def test_fields_under_the_title_describe_the_log_not_an_issue(family: str) -> None:
    log = read("document-fields.md", family=family)
    assert titles(log) == [
        "Stock reservations expire while the order is still paying",
        "Warehouse sync double-counts returns",
        "Low stock alert goes to a deleted channel",
    ]
    intro = next(note for note in log.notes if note.title == "Inventory service review")
    assert "**Category**: Architecture review" in intro.body


# --- 3. tables without a title column ------------------------------------------------------------


def test_a_description_column_gives_the_title_and_keeps_the_whole_text() -> None:
    log = read("table-without-title.md")
    tls = by_title(log)["Move TLS termination to the edge proxy"].draft
    assert (tls.original_id, tls.status, tls.priority) == (
        "GW-101",
        Status.RESOLVED,
        Priority.SHORT_TERM,
    )
    assert tls.description.startswith("Move TLS termination to the edge proxy — the gateway")
    assert "Drop the legacy `/v1/ping` route" in titles(log)


def test_a_fixed_in_column_with_a_value_is_a_resolved_row_unless_a_status_says_otherwise() -> None:
    log = read("table-fixed-in.md")
    assert [(i.draft.title, i.draft.status) for i in log.issues] == [
        ("Desconto fixo não persistia", Status.RESOLVED),
        ("Feriado corporativo não afetava cálculo", Status.RESOLVED),
        ("Scroll voltava ao topo", Status.OPEN),  # no version: not said to be fixed
        ("Export times out on big desks", Status.OPEN),  # its own status wins
        ("Login loop after deploy", Status.RESOLVED),
    ]
    first = log.issues[0].draft
    assert ("Versão corrigida", "2.4") in [(e.name, e.body) for e in first.extra_sections]


def test_a_bold_verdict_is_the_status_and_its_reason_is_kept() -> None:
    log = read("bold-verdicts.md")
    assert [(i.draft.title, i.draft.status) for i in log.issues] == [
        ("托盘图标在高 DPI 下模糊", Status.CLOSED),
        ("Export drops the last page", Status.CLOSED),
    ]
    first = log.issues[0].draft
    assert ("不处理", "无实际影响。") in [(e.name, e.body) for e in first.extra_sections]
    stated = read_text(
        "# Issues\n\n## Search ignores accents\n**Status**: Open\n"
        "**Done**: the index side; the query side is not.\n",
        "ISSUES.md",
    )
    assert stated.issues[0].draft.status is Status.OPEN  # a stated status is not overridden


def test_a_table_of_dates_types_severities_owners_and_statuses_lists_issues() -> None:
    issues = by_title(read("table-without-title.md"))
    outage = issues["Gateway pods evicted during the node upgrade"].draft
    assert (outage.severity, outage.assignee, outage.status) == (
        Severity.CRITICAL,
        "ops",
        Status.RESOLVED,
    )
    assert outage.reported_at == datetime(2025, 9, 2, tzinfo=UTC)


def test_legends_and_summary_rows_are_not_more_issues() -> None:
    log = read("table-without-title.md")
    assert len(log.issues) == 5
    assert titles(log).count("Retry storm after a config reload") == 1
    retry = by_title(log)["Retry storm after a config reload"]
    assert retry.origin == "section"
    notes = [note.title for note in log.notes]
    assert "Severity levels" in notes
    assert "(summary row) Retry storm after a config reload" in notes


def test_a_table_repeating_the_sections_with_shortened_titles_is_a_cross_check() -> None:
    log = read("summary-table.md")
    assert titles(log) == [
        "Plaintext credentials in the Helm values",
        "No network policies between namespaces",
        "Demo app still deployed in production",
    ]
    summary = [note.title for note in log.notes if note.title.startswith("(summary row)")]
    assert len(summary) == 3


def test_sections_whose_status_value_is_no_status_are_not_issues() -> None:
    log = read("summary-table.md")
    assert "Gateway" not in titles(log) and "Worker" not in titles(log)
    assert "Running services" in {note.title for note in log.notes}


# --- 4. status and severity in headings ----------------------------------------------------------


def test_status_and_markers_written_into_headings_are_fields_not_title() -> None:
    issues = by_title(read("status-in-headings.md"))
    assert issues["Indexer stalls on very long documents"].draft.status is Status.RESOLVED
    assert issues["Query cache never expires"].draft.status is Status.IN_PROGRESS
    synonyms = issues["Synonym file not reloaded"].draft
    assert synonyms.status is Status.RESOLVED
    assert synonyms.resolved_at == datetime(2025, 10, 2, tzinfo=UTC)
    # The log's legend pairs the coloured markers with severities.
    assert issues["Facet counts off by one after deletes"].draft.severity is Severity.HIGH
    assert issues["Autocomplete suggests private titles"].draft.severity is Severity.CRITICAL
    assert issues["Autocomplete suggests private titles"].draft.status is Status.OPEN


# --- 5. IDs given elsewhere ----------------------------------------------------------------------


def test_ids_from_fields_prefixes_tracker_keys_and_tags() -> None:
    ids = {issue.draft.title: issue.draft.original_id for issue in read("ids-elsewhere.md").issues}
    assert ids == {
        "Email templates render without CSS": "#001",
        "SMS provider timeout not retried": "#2",
        "README shows the old queue name": "Doc #3",
        "Push tokens kept after logout": "JIRA-1234",
        "Digest emails sent twice on DST change": None,
    }
    sms = by_title(read("ids-elsewhere.md"))["SMS provider timeout not retried"].draft
    assert sms.status is Status.RESOLVED  # `Resolved #2:` states it


# --- 6. sections that are not issues -------------------------------------------------------------


def test_legends_templates_changelogs_and_references_are_log_notes() -> None:
    log = read("notes-by-shape.md")
    assert titles(log) == [
        "Invoices rounded to whole cents twice",
        "Tax service unreachable from the worker",
    ]
    notes = {note.title for note in log.notes}
    assert {"Conventions", "New entry template", "Changelog", "Related Documents"} <= notes


def test_a_folder_index_and_a_template_are_notes_and_each_file_is_one_issue() -> None:
    report = import_logs(None, [CLASSES / "folder"], actor="t", dry_run=True)
    found = {(Path(e.path).name, e.line, e.title) for e in report.issues}
    assert found == {
        ("001-queue-backlog.md", 1, "Queue backlog after deploys"),
        ("002-stale-config.md", 1, "Stale config"),
    }
    assert report.errors == []
    notes = {(Path(n.path).name, n.title) for n in report.notes}
    assert ("README.md", "(index entry) Queue backlog after deploys") in notes
    assert ("issue-template.md", "[BUG] Short title") in notes


# --- 7. bold-paragraph issues after ### and --- ------------------------------------------------


def test_bold_paragraph_issues_after_a_subsection_or_a_rule_stand_alone() -> None:
    issues = by_title(read("bold-issues.md"))
    thumbnails = issues["Thumbnails rendered twice"].draft
    assert thumbnails.root_cause == ("Both the upload hook and the nightly job render thumbnails.")
    assert issues["Transcoder ignores the bitrate cap"].draft.severity is Severity.HIGH
    assert issues["Uploads over 2 GB fail silently"].draft.description.startswith("The proxy")


def test_bold_issue_items_inside_a_part_of_an_issue_stay_in_that_part() -> None:
    issues = by_title(read("bold-issues.md"))
    cdn = issues["CDN purge misses renamed files"].draft
    details = next(e.body for e in cdn.extra_sections if e.name == "Technical Details")
    assert "**Issue 2: Old names stay in the manifest**" in details
    assert "Old names stay in the manifest" not in issues


def test_bold_titles_with_fields_and_numbered_bold_items_are_issues() -> None:
    issues = by_title(read("bold-issues.md"))
    assert issues["Watermark service leaks temp files"].draft.severity is Severity.LOW
    assert issues["Subtitles lose their encoding"].draft.status is Status.IN_PROGRESS
    quota = issues["Storage quota not enforced for admins"].draft
    assert (quota.status, quota.description) == (
        Status.OPEN,
        "Admin uploads skip the quota check.",
    )
    assert issues["Preview player autoplays with sound"].draft.status is Status.RESOLVED


# --- 8. a single-issue file ----------------------------------------------------------------------


def test_a_single_issue_file_is_titled_by_its_issue_heading() -> None:
    log = read("single-issue.md")
    (issue,) = log.issues
    assert (issue.line, issue.draft.title) == (4, "Cart totals ignore the regional tax rate")
    assert issue.draft.priority is Priority.SHORT_TERM  # from the field lines above the title
    assert issue.draft.original_values["status"] == "READY"
    assert len(issue.draft.tasks) == 2
    names = [section.name for section in issue.draft.extra_sections]
    assert names[:2] == ["Objective", "Context"]


# --- 9. a bullet field's value ends at the next bullet -----------------------------------------


def test_a_bullet_fields_value_ends_at_the_next_bullet() -> None:
    issues = by_title(read("bullet-fields.md"))
    cookie = issues["Session cookie not renewed"].draft
    assert cookie.severity is Severity.HIGH
    assert cookie.description.startswith("- The cookie keeps its first expiry")
    assert "logged out mid-checkout" in cookie.description
    reset = issues["Password reset link reusable"].draft
    assert (
        reset.resolution
        == "  - Links now carry a one-time nonce\n  - Used nonces are stored for a day"
    )
    assert reset.description == "- Reported by the security review."


# --- 10. logs in any language ------------------------------------------------------------------

LANGUAGES = {
    "lang-es.md": [
        ("El worker de facturas no arranca", Status.RESOLVED),
        ("Las notificaciones llegan duplicadas", Status.IN_PROGRESS),
    ],
    "lang-pt.md": [
        ("Login expira antes do tempo", Status.RESOLVED),
        ("Relatório mensal sem os reembolsos", Status.OPEN),
    ],
    "lang-fr.md": [
        ("Le cache des prix n'est jamais invalidé", Status.OPEN),
        ("Export CSV mal encodé", Status.RESOLVED),
    ],
    "lang-de.md": [
        ("Suche findet keine Umlaute", Status.OPEN),
        ("Bestellbestätigung ohne Lieferadresse", Status.RESOLVED),
    ],
    "lang-ru.md": [
        ("Очередь писем не очищается", Status.OPEN),
        ("Неверный часовой пояс в отчётах", Status.RESOLVED),
    ],
    "lang-ja.md": [
        ("ログイン後にセッションが切れる", Status.RESOLVED),
        ("CSV 出力が文字化けする", Status.OPEN),
    ],
    "lang-ko.md": [
        ("배포 후 헬스체크 실패", Status.OPEN),
        ("업로드 파일 이름 깨짐", Status.RESOLVED),
    ],
    "lang-zh.md": [
        ("订单服务启动时连不上 Redis", Status.OPEN),
        ("报表导出丢失最后一页", Status.RESOLVED),
    ],
}


@pytest.mark.parametrize("name", sorted(LANGUAGES))
def test_logs_in_other_languages_give_their_issues_and_statuses(name: str) -> None:
    log = read(name)
    assert [(i.draft.title, i.draft.status) for i in log.issues] == LANGUAGES[name]
    assert [w.message for w in log.warnings if "unknown" in w.message] == []


def test_field_names_and_sections_are_read_in_their_language() -> None:
    es = by_title(read("lang-es.md"))["El worker de facturas no arranca"].draft
    assert (es.severity, es.resolution) == (Severity.HIGH, "Se añadió la variable al servicio.")
    ja = by_title(read("lang-ja.md"))["ログイン後にセッションが切れる"].draft
    assert ja.root_cause.startswith("Redis の TTL") and ja.resolution.startswith("TTL を秒で")
    ko = by_title(read("lang-ko.md"))["배포 후 헬스체크 실패"].draft
    assert ko.description.startswith("새 버전") and ko.resolution.startswith("readiness")
    de = by_title(read("lang-de.md"))["Bestellbestätigung ohne Lieferadresse"].draft
    assert de.severity is Severity.MEDIUM and de.root_cause.startswith("Das Template")


def test_a_troubleshooting_log_in_its_language_s_usual_parts_gives_every_entry() -> None:
    """`### 문제 상황` / `### 원인 분석` / `### 해결 방법` under each entry: the parts Korean
    troubleshooting logs use. An entry is no less an issue for lacking a prevention part, and
    the summary table at the end repeats them."""
    log = read("lang-ko-troubleshooting.md")
    assert titles(log) == [
        "Docker 환경 변수 충돌 문제",
        "PostgreSQL 볼륨 캐싱 문제",
        "Cloud Run PORT 환경 변수 문제",
    ]
    first = log.issues[0].draft
    assert first.description.startswith("Docker 환경에서")
    assert first.root_cause.startswith("로컬 `.env`")
    assert first.resolution.startswith("`load_dotenv()`")
    assert sum(1 for n in log.notes if n.title.startswith("(summary row)")) == 3


def test_a_log_in_a_language_the_vocabulary_lacks_still_gives_its_issues() -> None:
    log = read("lang-unknown.md")
    assert titles(log) == [
        "Kirjautuminen katkeaa",
        "Raportti näyttää väärän valuutan",
        "Kuvat latautuvat hitaasti",
    ]
    first = log.issues[0].draft
    assert [(e.name, e.body) for e in first.extra_sections][:2] == [
        ("Tila", "Avoin"),
        ("Vakavuus", "Korkea"),
    ]


def test_the_state_written_after_an_issues_parts_is_the_issues() -> None:
    log = read("state-after-parts.md")
    baked, misses = (issue.draft for issue in log.issues)
    assert [baked.original_id, misses.original_id] == ["INC-001", "INC-002"]
    assert baked.status is Status.RESOLVED
    assert [f.path for f in baked.files_changed] == ["Dockerfile", "docker-compose.yml"]
    # A part's own state line does not replace the state the issue gives itself.
    assert misses.status is Status.OPEN


def test_an_issue_heading_written_twice_is_one_issue_and_a_status_report_is_no_state() -> None:
    log = read("repeated-heading.md")
    assert [(i.draft.original_id, i.draft.title) for i in log.issues] == [
        ("#2", "Port 3001 taken"),
        ("#3", "Budget client module missing"),
    ]
    port = log.issues[0].draft
    assert port.status is Status.RESOLVED
    # The list under the second `**Status:**` is kept as a note of the issue, without a
    # warning that the state changed.
    assert any("The old container was removed" in s.body for s in port.extra_sections)
    assert log.warnings == []


def test_table_rows_take_their_state_from_the_row_the_strike_or_the_section() -> None:
    log = read("table-states.md")
    states = {issue.draft.original_id: issue.draft.status for issue in log.issues}
    assert states == {
        "KI-001": Status.RESOLVED,  # struck through
        "KI-002": Status.OPEN,  # under `## 🔴 미해결` (unresolved)
        "KI-003": Status.RESOLVED,  # its own cell: a state, then what was done
        "KI-F01": Status.RESOLVED,  # under `## ✅ 해결됨` (resolved)
        "ARCH-1": Status.RESOLVED,  # `FIXED in sprint 2`: a state and where it happened
    }
    struck = next(i.draft for i in log.issues if i.draft.original_id == "KI-001")
    assert struck.title == "Key files are not ignored"
    assert [w for w in log.warnings if "status" in w.message] == []


def test_a_log_kept_as_a_list_gives_an_issue_per_item() -> None:
    log = read("list-of-issues.md")
    drafts = [issue.draft for issue in log.issues]
    assert [d.title for d in drafts] == [
        "Booking links open the home page",
        "Nights mismatch (profile says 12, results show 7)",
        "Shutdown warnings",
        "Webhook retries never stop",
    ]
    nights = drafts[1]
    assert nights.root_cause.startswith("the provider falls back to 7 nights")
    assert any(s.name == "Fix plan" for s in nights.extra_sections)
    assert "`queue.pause is not a function` on shutdown" in drafts[2].description
    # Items under `## Fixed` take the section's state; the others state none.
    assert [d.status for d in drafts] == [Status.OPEN] * 3 + [Status.RESOLVED]
    assert drafts[3].resolution == "retries are capped at five"


def test_a_list_of_steps_inside_one_issue_stays_its_text() -> None:
    text = (
        "# Login loop after deploy\n\n**Status**: Open\n\n"
        "- Cleared the cookies\n- Restarted the gateway\n  - it came back after a minute\n"
    )
    log = read_text(text, "login.md")
    assert [i.draft.title for i in log.issues] == ["Login loop after deploy"]


def test_code_in_a_heading_is_no_template_fill_in() -> None:
    text = (
        "# Known issues\n\n### ARCH-3: `PUT /households/{id}/head` loses the old head\n"
        "**Status:** Open\n\n### BUG-XXX: [Title]\n**Status:** Open | Resolved\n"
    )
    log = read_text(text, "known.md")
    assert [i.draft.original_id for i in log.issues] == ["ARCH-3"]


def test_a_state_with_what_is_still_to_do_is_not_that_state() -> None:
    from passmuster.logs.vocab import normalise_status

    assert normalise_status("FIXED in sprint 2") is Status.RESOLVED
    assert normalise_status("Fixed in Terraform, needs deployment") is None
    assert normalise_status("Fixed in prod but not in staging") is None


def test_a_state_with_the_means_it_was_reached_by_is_that_state() -> None:
    text = (
        "# Bugs conocidos\n\n| Bug | Severidad | Estado |\n|---|---|---|\n"
        "| Caché compartida entre inquilinos | Alta | Mitigado por una regla de red |\n"
        "| Exportación lenta | Media | Corregido con un índice |\n"
    )
    log = read_text(text, "KNOWN_BUGS.md")
    assert [i.draft.status for i in log.issues] == [Status.WORKAROUND_APPLIED, Status.RESOLVED]
    assert log.issues[0].draft.original_values["status"] == "Mitigado por una regla de red"


def test_a_legend_s_words_after_a_known_emoji_take_its_state_and_dated_ids_stay_whole() -> None:
    text = (
        "# Bug tracker\n\n## Critical\n\n| # | File | Bug | Status |\n|---|---|---|---|\n"
        "| 1 | cli.py | Double main call | ✅ VERIFIED FIXED |\n"
        "| 2 | nodes.py | None crash | 🔧 NEEDS FIX |\n"
        "| 3 | validator.py | Error order | ⚪ NOT A BUG |\n"
        "| 4 | client.py | Stream type | 🟡 PARTIAL |\n\n"
        "## Fixed\n\n### BUG-20260224-001 — Audit log insert fails\n- **Severity:** High\n"
    )
    log = read_text(text, "BUG_TRACKER.md")
    states = [(i.draft.original_id, i.draft.status) for i in log.issues]
    assert states == [
        ("1", Status.RESOLVED),
        ("2", Status.OPEN),
        ("3", Status.CLOSED),
        ("4", Status.IN_PROGRESS),
        ("BUG-20260224-001", Status.RESOLVED),
    ]
    assert log.issues[2].draft.close_reason is not None
    assert log.issues[2].draft.close_reason.value == "invalid"
    assert log.warnings == []


def test_a_state_with_its_date_after_the_title_marks_an_issue() -> None:
    text = (
        "# Issue tracker\n\n## Open\n\n### `watchlist-no-default`\n- **Area:** web\n"
        "- **Status:** Open\n\nThe page opens empty.\n\n## Resolved\n\n"
        "### `chart-fields-drift` — resolved 2026-05-17\nThe test pinned old fields.\n\n"
        "## token-silent-expiry (2026-08-04, MITIGATED)\nRefresh tokens expired unnoticed.\n\n"
        "## sink-stale-handle (2026-08-05, FIXED)\nThe sink kept a dropped table.\n"
    )
    log = read_text(text, "ISSUES.md")
    found = [(i.draft.title, i.draft.status) for i in log.issues]
    assert found == [
        ("`watchlist-no-default`", Status.OPEN),
        ("`chart-fields-drift`", Status.RESOLVED),
        ("token-silent-expiry", Status.WORKAROUND_APPLIED),
        ("sink-stale-handle", Status.RESOLVED),
    ]
    assert log.issues[1].draft.resolved_at is not None


def test_korean_done_states_written_without_a_space_are_read() -> None:
    text = (
        "# 코드 리뷰 이슈\n\n## 1. 보안\n\n### 1.1 Secret Key 하드코딩 ✅ 수정완료\n\n"
        "**파일**: app.py\n**상태**: ✅ 수정완료 (2025-12-11)\n\n---\n\n"
        "### 1.2 SQL Injection 가능성\n\n**파일**: database.py\n**상태**: 미해결\n"
    )
    log = read_text(text, "ISSUES.md")
    assert [(i.draft.title, i.draft.status) for i in log.issues] == [
        ("Secret Key 하드코딩", Status.RESOLVED),
        ("SQL Injection 가능성", Status.OPEN),
    ]


def test_struck_titles_severity_prefixes_and_dotted_ids_are_read_off_the_heading() -> None:
    text = (
        "# Known issues\n\n## Testing gaps\n\n### ~~HIGH: No offline LLM tests~~ RESOLVED\n"
        "Mocks landed.\n\n### ~~No scheduled tasks~~\nA scheduler runs them now.\n\n"
        "### LOW: Voice interface testing\nNo tests yet.\n\n## Sprint 0\n\n"
        "### #S0-1 · Screen mock-ups\n- **Status:** Open\n"
    )
    log = read_text(text, "KNOWN_ISSUES.md")
    found = [(i.draft.original_id, i.draft.title, i.draft.status) for i in log.issues]
    assert found == [
        (None, "No offline LLM tests", Status.RESOLVED),
        (None, "No scheduled tasks", Status.RESOLVED),
        (None, "Voice interface testing", Status.OPEN),
        ("#S0-1", "Screen mock-ups", Status.OPEN),
    ]
    severities = [log.issues[0].draft.severity, log.issues[2].draft.severity]
    assert severities == [Severity.HIGH, Severity.LOW]


def test_a_table_log_in_ukrainian_or_with_an_error_column_gives_its_rows() -> None:
    text = (
        "# Журнал помилок\n\n| Дата | Помилка | Пріоритет | Статус | Виправлення |\n"
        "|---|---|---|---|---|\n"
        "| 02.04 | Кошик не зберігається | Високий | ✅ Виправлено | Додано збереження |\n"
        "| 03.04 | Повільний пошук | Низький | В роботі | |\n"
    )
    log = read_text(text, "BUG_LOG.md")
    assert [(i.line, i.draft.title, i.draft.status) for i in log.issues] == [
        (5, "Кошик не зберігається", Status.RESOLVED),
        (6, "Повільний пошук", Status.IN_PROGRESS),
    ]
    assert log.issues[0].draft.priority is Priority.SHORT_TERM
    russian = (
        "# Ошибки\n\n| Ошибка | Статус |\n|---|---|\n| Падает экспорт | Открыт |\n"
        "| Нет логов | Исправлено |\n"
    )
    found = read_text(russian, "BUGS.md")
    assert [(i.draft.title, i.draft.status) for i in found.issues] == [
        ("Падает экспорт", Status.OPEN),
        ("Нет логов", Status.RESOLVED),
    ]


def test_a_log_title_over_only_an_entry_template_is_no_issue() -> None:
    empty = (
        "# Bug Log\n\nBugs found while testing; each entry has its steps.\n\n## Template\n\n"
        "```\n### BUG-XXX: [Short description]\n- **Severity**: [major / minor]\n```\n\n"
        "---\n\n*No bugs logged yet.*\n"
    )
    log = read_text(empty, "BUG_LOG.md")
    assert log.issues == []
    assert [note.title for note in log.notes] == ["Bug Log"]
    assert "BUG-XXX" in log.notes[0].body
    # One investigation written as parts under its title stays that one issue.
    investigation = (
        "# Audio drift problem log\n\n## Problem\n\nSound stutters while recording.\n\n"
        "## Attempt #1: larger buffer\n\nNo change.\n\n## Solution\n\nRead on readyRead.\n"
    )
    assert titles(read_text(investigation, "BUG_LOG.md")) == ["Audio drift problem log"]


def test_a_folder_index_section_without_marks_of_its_own_is_a_note(tmp_path: Path) -> None:
    from passmuster.logs.reader import Folder

    (tmp_path / "2026-01-02-login-loop.md").write_text(
        "# Login loop\n\n**Status**: Fixed\n\n## Problem\n\nThe page reloads forever.\n"
    )
    index = tmp_path / "README.md"
    index.write_text(
        "# Bug knowledge base\n\n## Recent fixes\n\n### Login loop\n\n"
        "- **File**: [login](./2026-01-02-login-loop.md)\n- **Problem**: reloads forever\n\n"
        '## Filing new bugs\n\n### First way: interactive\n\n```\n/debug "what you see"\n```\n\n'
        "### Second way: by hand\n\nIf you document afterwards:\n\n"
        "1. Create a file in `docs/bugs/`\n2. Include the parts:\n   - Symptoms\n   - Root cause\n"
    )
    files = frozenset(str(p.resolve()) for p in tmp_path.iterdir())
    log = read_file(index, folder=Folder(files, index=True))
    assert log.issues == []
    assert "Filing new bugs" in [note.title for note in log.notes]


def test_sections_that_are_only_checklists_give_one_issue_per_item() -> None:
    text = (
        "# Open issues\n\n## Notes\nBefore closing an item:\n- check the tests\n\n## Bugs\n"
        "[ ] Login page shows two spinners\n[x] Export drops the last row\n[ ] Bug XXXX\n\n"
        "## Changes\n- [ ] Rename the header title\n"
    )
    log = read_text(text, "TASKS.md")
    found = [(i.line, i.draft.title, i.draft.status, i.draft.labels) for i in log.issues]
    assert found == [
        (8, "Login page shows two spinners", Status.OPEN, ["bugs"]),
        (9, "Export drops the last row", Status.RESOLVED, ["bugs"]),
        (13, "Rename the header title", Status.OPEN, ["changes"]),
    ]
    assert log.issues[1].draft.original_values["status"] == "[x]"
    assert any("Bug XXXX" in note.body for note in log.notes)
    # A checklist inside an issue that says more stays that issue's tasks.
    tasks = (
        "# Issues\n\n## Login fails\n**Status**: Open\n\n- [ ] add a test\n- [ ] fix redirect\n\n"
        "## Export slow\n**Status**: Open\n\nIt takes a minute.\n"
    )
    assert titles(read_text(tasks, "ISSUES.md")) == ["Login fails", "Export slow"]


def test_a_state_between_the_id_and_the_title_is_read_off_the_heading() -> None:
    text = (
        "# QA pass\n\n## Bugs found and fixed\n\n### B1 ✅ FIXED — Tooltip clipped in dialogs\n"
        "- **Cause:** fixed position inside a transformed parent\n\n"
        "### PAY-12 RESOLVED: Refund posted twice\n- **Fix:** idempotency key\n\n"
        "### B3 — Slow export\n- **Cause:** no index\n"
    )
    log = read_text(text, "BUG_TRACKER.md")
    found = [(i.draft.original_id, i.draft.title, i.draft.status) for i in log.issues]
    assert found == [
        ("B1", "Tooltip clipped in dialogs", Status.RESOLVED),
        ("PAY-12", "Refund posted twice", Status.RESOLVED),
        (None, "B3 — Slow export", Status.OPEN),
    ]
    assert log.issues[0].draft.original_values["status"] == "✅ FIXED"
    later = (
        "# Bugs\n\n## #12 OPEN: Crash on save\nIt crashes.\n\n## BUG-3 - FIXED - Export\nDone.\n"
    )
    found_later = read_text(later, "BUGS.md")
    assert [(i.draft.original_id, i.draft.title, i.draft.status) for i in found_later.issues] == [
        ("#12", "Crash on save", Status.OPEN),
        ("BUG-3", "Export", Status.RESOLVED),
    ]


def test_a_summary_table_naming_its_rows_by_id_in_a_title_column_repeats_the_sections() -> None:
    text = (
        "# Bilinen Buglar\n\n## BUG-001: Şifre alanı görünmüyor\n- **Önem:** 🔴 Kritik\n"
        "- **Açıklama:** Form footer altında kalıyor\n\n"
        "## BUG-002: Özel 404 sayfası yok 🟡 Orta\n- **Açıklama:** Varsayılan sayfa çıkıyor\n\n"
        "## Öncelik Sıralaması\n\n### 🔴 Kritik\n| Bug | Açıklama |\n|-----|----------|\n"
        "| BUG-001 | Şifre alanı footer altında |\n\n### 🟡 Orta\n| Bug | Açıklama |\n"
        "|-----|----------|\n| BUG-002 | 404 sayfası yok |\n"
    )
    log = read_text(text, "KNOWN_BUGS.md")
    found = [(i.draft.original_id, i.draft.title, i.draft.severity) for i in log.issues]
    assert found == [
        ("BUG-001", "Şifre alanı görünmüyor", Severity.CRITICAL),
        ("BUG-002", "Özel 404 sayfası yok", Severity.MEDIUM),
    ]
    assert log.issues[1].draft.original_values["severity"] == "Orta"
    summary = [note.title for note in log.notes if note.title.startswith("(summary row)")]
    assert summary == ["(summary row) Şifre alanı footer altında", "(summary row) 404 sayfası yok"]


def test_a_coloured_marker_and_a_severity_ending_a_title_are_read_into_the_severity() -> None:
    text = (
        "# Known bugs\n\n## BUG-7: Tokens kept in local storage 🟠 High (Security)\n"
        "- **Status**: Open\n\n## BUG-8: Login button 🔴 Red on hover\n- **Status**: Open\n"
    )
    log = read_text(text, "KNOWN_BUGS.md")
    assert [(i.draft.title, i.draft.severity) for i in log.issues] == [
        ("Tokens kept in local storage", Severity.HIGH),
        ("Login button 🔴 Red on hover", Severity.MEDIUM),
    ]


def test_table_rows_with_ids_of_their_own_are_not_taken_for_a_section_they_share_words_with() -> (
    None
):
    text = (
        "# Bug e issue tracker\n\n## Bug aperti\n| ID | Severity | Descrizione | Data |\n"
        "|----|----------|-------------|------|\n"
        "| BUG-004 | MEDIUM | Tipi generati del database non allineati | 2026-07-05 |\n"
        "| BUG-005 | HIGH | Il modale non si chiude | 2026-07-05 |\n\n"
        "## Debito tecnico\n\n### TYPE-001: Tipi generati del database da migrare\n"
        "**Descrizione**: 163 incompatibilità.\n**Priorità**: Media\n\n"
        "## Bug risolti\n| ID | Descrizione | Esito | Data |\n|----|----|----|----|\n"
        "| BUG-001 | Reload invece di invalidare | Risolto | 2026-01-07 |\n"
    )
    log = read_text(text, "BUG_TRACKER.md")
    found = [(i.draft.original_id, i.draft.status) for i in log.issues]
    assert found == [
        ("BUG-004", Status.OPEN),
        ("BUG-005", Status.OPEN),
        ("TYPE-001", Status.OPEN),
        ("BUG-001", Status.RESOLVED),
    ]
    assert log.issues[1].draft.severity is Severity.HIGH


def test_test_cases_run_with_a_tick_are_notes_beside_the_bugs_found() -> None:
    text = (
        "# QA pass\n\n## Test cases run\n\n### T1: Login ✅\n- valid and invalid passwords\n\n"
        "### T2: Parcel list ✅\n- filters and paging\n\n## Bugs found\n\n"
        "### B1 ✅ FIXED — Tooltip clipped in dialogs\n- **Cause:** a transformed parent\n"
    )
    log = read_text(text, "BUG_TRACKER.md")
    assert [(i.draft.original_id, i.draft.status) for i in log.issues] == [("B1", Status.RESOLVED)]
    assert "Test cases run" in [note.title for note in log.notes]


def test_a_log_kept_as_a_numbered_list_with_labelled_parts_gives_an_issue_per_item() -> None:
    text = (
        "Lessons first:\n\n1: planning came too late\n\n2: the agent ran out of tokens\n\n"
        "Then what broke:\n\n"
        "3：Backend template lacks AUTH_MODE\n   - the chart never sets it\n"
        "   - 修复：values.yaml sets backend.authMode\n\n"
        "4. Callback routed to the wrong service\n   - 原因：a prefix rule catches /auth/callback\n"
        "   - 修复：an exact rule with a higher priority\n"
    )
    log = read_text(text, "NOTES.md")
    found = [(i.line, i.draft.title) for i in log.issues]
    assert found == [
        (9, "Backend template lacks AUTH_MODE"),
        (13, "Callback routed to the wrong service"),
    ]
    assert "exact rule" in log.issues[1].draft.resolution


def test_priority_sections_that_are_only_checklists_give_their_items_too() -> None:
    text = (
        "# 已知问题\n\n> 修复后从本文档移除。\n\n## P0 — 上线前必须修复\n\n"
        "- [ ] **JWT 鉴权缺失**：任何人可伪造用户身份\n- [ ] **CORS 开放**：白名单过宽\n\n"
        "## P2 — 后续迭代\n\n- [ ] 日志未聚合\n- [ ] 监控告警未配置\n\n"
        "## H5 剩余缺口\n\n- [x] 任务详情页 ✅ 2026-05-07\n- [ ] 个人中心\n\n"
        "## 下一步\n\n- [ ] 评审本文档\n"
    )
    log = read_text(text, "KNOWN_ISSUES.md")
    found = [(i.line, i.draft.title, i.draft.status) for i in log.issues]
    assert found == [
        (7, "JWT 鉴权缺失", Status.OPEN),
        (8, "CORS 开放", Status.OPEN),
        (12, "日志未聚合", Status.OPEN),
        (13, "监控告警未配置", Status.OPEN),
        (17, "任务详情页", Status.RESOLVED),
        (18, "个人中心", Status.OPEN),
    ]
    assert log.issues[0].draft.description == "任何人可伪造用户身份"
    assert log.issues[4].draft.resolved_at == datetime(2026, 5, 7, tzinfo=UTC)
    assert "下一步" in [note.title for note in log.notes]


def test_logs_in_arabic_dutch_indonesian_and_polish_give_their_fields_and_states() -> None:
    arabic = (
        "# سجل الأعطال\n\n| # | المشكلة | الخطورة | الحالة |\n|---|---|---|---|\n"
        "| ERR-01 | الصفحة الرئيسية لا تفتح | حرج | ✅ |\n"
        "| ERR-02 | البحث بطيء | متوسط | قيد التنفيذ |\n"
    )
    log = read_text(arabic, "BUGS.md")
    assert [(i.draft.title, i.draft.status, i.draft.severity) for i in log.issues] == [
        ("الصفحة الرئيسية لا تفتح", Status.RESOLVED, Severity.CRITICAL),
        ("البحث بطيء", Status.IN_PROGRESS, Severity.MEDIUM),
    ]
    dutch = (
        "# Bekende problemen\n\n### P-1: Export hangt\n\n**Status**: Opgelost\n**Ernst**: Hoog\n\n"
        "### P-2: Logo ontbreekt\n\n**Status**: In behandeling\n"
    )
    found = read_text(dutch, "ISSUES.md").issues
    assert [i.draft.status for i in found] == [Status.RESOLVED, Status.IN_PROGRESS]
    assert found[0].draft.severity is Severity.HIGH
    indonesian = (
        "## 1. Tombol simpan tidak bereaksi\n**Status:** ✅ Diperbaiki\n\n"
        "## 2. Laporan kosong\n**Status:** Dibatalkan\n\n"
        "## 3. Menu terpotong di ponsel\n**Status:** Perlu investigasi\n"
    )
    states = [i.draft.status for i in read_text(indonesian, "bug.md").issues]
    assert states == [Status.RESOLVED, Status.CLOSED, Status.OPEN]
    polish = (
        "# Błędy\n\n### E1 — Formularz gubi dane\n**Stan:** Naprawione\n**Waga:** Krytyczny\n\n"
        "### E2 — Zły format daty\n**Stan:** W trakcie\n"
    )
    found = read_text(polish, "BLEDY.md").issues
    assert [i.draft.status for i in found] == [Status.RESOLVED, Status.IN_PROGRESS]
    assert found[0].draft.severity is Severity.CRITICAL


def test_a_route_parameter_in_a_heading_is_no_template_fill_in() -> None:
    text = (
        "# Defects\n\n## D-1: GET /orders/{id} answers 500 for a missing order\n\n"
        "| Field | Value |\n|---|---|\n| **Severity** | Major |\n\n"
        "## D-2: DELETE /carts/{cartId}/lines leaves the total\n\n**Severity**: Minor\n\n"
        "## Entry format\n\n### D-{number}: {title}\n\n**Severity**: {severity}\n"
    )
    log = read_text(text, "BUGS.md")
    assert [(i.line, i.draft.title) for i in log.issues] == [
        (3, "GET /orders/{id} answers 500 for a missing order"),
        (9, "DELETE /carts/{cartId}/lines leaves the total"),
    ]


def test_a_status_field_written_into_an_entry_heading_is_its_status() -> None:
    text = (
        "# Issues Log\n\nNewest first.\n\n"
        "## [2026-03-02 10:15] STATUS: [FIXED] - Upload stalls at 99%\n\n"
        "**Problem:** the last chunk is never acknowledged.\n\n---\n\n"
        "## [2026-03-01 18:40] STATUS: KNOWN ISSUE - Thumbnails are blurry on retina\n\n"
        "**Impact:** cosmetic.\n\n---\n\n"
        "## [2026-03-01 09:05] STATUS: [OPEN] - Reset mail lands in spam\n\n"
        "**Problem:** SPF missing.\n"
    )
    log = read_text(text, "ISSUES_LOG.md")
    assert [(i.line, i.draft.title, i.draft.status) for i in log.issues] == [
        (5, "[2026-03-02 10:15] Upload stalls at 99%", Status.RESOLVED),
        (11, "[2026-03-01 18:40] Thumbnails are blurry on retina", Status.OPEN),
        (17, "[2026-03-01 09:05] Reset mail lands in spam", Status.OPEN),
    ]


def test_sessions_with_a_status_over_tables_of_numbered_issues_give_the_rows() -> None:
    text = (
        "# Fix plan\n\n**Created:** 2026-02-06\n**Status:** in progress\n\n"
        "## Session 1: crashes\n\n**Goal:** no crash on start\n**Status:** ✅ done\n\n"
        "| # | Problem | Severity | Files | Status |\n|---|---|---|---|---|\n"
        "| CRIT-01 | Pool leak | critical | `db.py` | ✅ |\n"
        "| CRIT-02 | Scheduler crash at 23:00 | critical | `cron.py` | ✅ |\n\n"
        "**Fixes made:**\n- CRIT-01: return the connection in `finally`\n\n"
        "## Session 2: threads\n\n**Status:** 🔄 under way\n\n"
        "| # | Problem | Severity | Files | Status |\n|---|---|---|---|---|\n"
        "| HIGH-01 | History list without a lock | high | `agent.py` | 🔄 |\n"
        "| MED-03 | Counter races | medium | `alerts.py` | ⏳ |\n\n"
        "## Progress summary\n\n| Session | Description | Problems | Status |\n"
        "|---|---|---|---|\n| 1 | Crashes | 2 | ✅ |\n| 2 | Threads | 2 | 🔄 |\n"
        "| **Total** | | **4** | |\n"
    )
    log = read_text(text, "FIX_PLAN.md")
    assert [(i.draft.original_id, i.draft.title, i.draft.status) for i in log.issues] == [
        ("CRIT-01", "Pool leak", Status.RESOLVED),
        ("CRIT-02", "Scheduler crash at 23:00", Status.RESOLVED),
        ("HIGH-01", "History list without a lock", Status.IN_PROGRESS),
        ("MED-03", "Counter races", Status.IN_PROGRESS),
    ]


def test_state_sections_in_arabic_and_dutch_give_their_issues_the_state() -> None:
    arabic = (
        "# الأعطال\n\n## ✅ المشاكل التي تم حلها:\n\n### 1. **الخط لا يتحمل**\n"
        "- **السبب**: رابط خارجي\n\n### 2. **صورة مفقودة**\n- **السبب**: ملف محذوف\n"
    )
    states = [i.draft.status for i in read_text(arabic, "BUGS_FIXED.md").issues]
    assert states == [Status.RESOLVED, Status.RESOLVED]
    dutch = (
        "# Blokkades\n\n## Actieve Blokkades\n\n### BLK-2: Certificaat verloopt\n\n"
        "Vernieuwen vóór vrijdag.\n\n## Opgeloste Blokkades\n\n### BLK-1: Geen testaccount\n\n"
        "Aangemaakt.\n"
    )
    found = read_text(dutch, "BLOCKERS.md").issues
    assert [(i.draft.original_id, i.draft.status) for i in found] == [
        ("BLK-2", Status.OPEN),
        ("BLK-1", Status.RESOLVED),
    ]


def test_learnings_recommendations_and_roadmaps_are_notes_and_consideration_is_open() -> None:
    text = (
        "# Bugfix session\n\n## Bug #1: Menu shown twice\n\n### Problem:\n\nTwo sources.\n\n"
        "## Bug #2: Export hangs\n\n**Status:** Under investigation\n\n"
        "## Bug #3: Dark theme ignored\n\n**Status:** Under consideration\n\n"
        "## Key Learnings\n\n### 1. **Slug vs code**\n\nUse one.\n\n"
        "### 2. **Two middlewares**\n\nPick one.\n\n"
        "## Future Recommendations\n\n### 1. **Add validation**\n\nOn save.\n\n"
        "## Implementation Roadmap\n\n### Version 0.2.0 (Quality) ✅\n\n- [ ] Lazy loading\n"
    )
    log = read_text(text, "SUMMARY.md")
    assert [(i.draft.title, i.draft.status) for i in log.issues] == [
        ("Menu shown twice", Status.OPEN),
        ("Export hangs", Status.IN_PROGRESS),
        ("Dark theme ignored", Status.OPEN),
    ]
    assert {"Key Learnings", "Future Recommendations", "Implementation Roadmap"} <= {
        note.title for note in log.notes
    }


def test_an_arabic_table_of_problems_and_causes_under_an_excluded_section_is_closed() -> None:
    text = (
        "# خطة الإصلاح\n\n## المشاكل المستثناة (بقرار المستخدم)\n\n| # | المشكلة | السبب |\n"
        "|---|---|---|\n| LOW-05 | مكتبة لنظام واحد فقط | قيد المنصة |\n"
        "| LOW-16 | الرموز لا تظهر | مقبول |\n"
    )
    found = read_text(text, "FIX_PLAN.md").issues
    assert [(i.draft.original_id, i.draft.status) for i in found] == [
        ("LOW-05", Status.CLOSED),
        ("LOW-16", Status.CLOSED),
    ]
    assert found[0].draft.root_cause == "قيد المنصة"


def test_a_byte_order_mark_before_the_title_is_no_part_of_it() -> None:
    text = (
        "\ufeff# Known bugs\n\n## Login loops\n\n**Status**: Open\n\n"
        "## Export hangs\n\n**Status**: Fixed\n"
    )
    log = read_text(text, "BUGS.md")
    assert [(i.line, i.draft.title, i.draft.status) for i in log.issues] == [
        (3, "Login loops", Status.OPEN),
        (7, "Export hangs", Status.RESOLVED),
    ]
    assert not any("Known bugs" in note.body for note in log.notes if note.title != "Known bugs")


def test_a_field_name_with_a_remark_in_parentheses_is_that_field() -> None:
    text = (
        "# Release bugs\n\n| ID | Title | Status (QA) | Severity (client) |\n|---|---|---|---|\n"
        "| R-1 | Cart total wrong | Fixed | High |\n| R-2 | Slow search | Open | Low |\n"
    )
    found = read_text(text, "BUGS.md").issues
    assert [(i.draft.title, i.draft.status, i.draft.severity) for i in found] == [
        ("Cart total wrong", Status.RESOLVED, Severity.HIGH),
        ("Slow search", Status.OPEN, Severity.LOW),
    ]


def test_a_vietnamese_log_of_numbered_problems_with_bullet_fields_gives_each() -> None:
    text = (
        "# nhật ký sự cố\n\n## 1) Lệnh build dừng giữa chừng\n\n"
        "- **Hiện tượng**: build dừng ở bước 3.\n- **Nguyên nhân**: thiếu bộ nhớ.\n"
        "- **Cách xử lý**: tăng swap.\n\n---\n\n"
        "## 2) Không tạo được file `.env.example` theo hướng dẫn (đã khắc phục)\n\n"
        "- **Hiện tượng**: tệp bị chặn.\n- **Nguyên nhân**: chính sách thư mục.\n"
        "- **Cách tránh lần sau**: dùng tên khác.\n"
    )
    log = read_text(text, "issues_list.md")
    assert [(i.line, i.draft.status) for i in log.issues] == [
        (3, Status.OPEN),
        (11, Status.RESOLVED),
    ]
    assert log.issues[0].draft.root_cause == "thiếu bộ nhớ."
    assert log.issues[1].draft.title == "Không tạo được file `.env.example` theo hướng dẫn"


CHANGELOG = """# Changelog

## [Unreleased]

### Fixed
- The login page no longer flickers on slow networks.

## [2.1.0] - 2026-03-02

### Added
- Export of invoices as CSV.

### Fixed
- **Billing**: totals were rounded twice.

## [2.0.1] - 2026-02-11

### Fixed
- Worker crashed when REDIS_URL was unset.

## v2.0.0 (2026-01-20)

### Changed
- The gateway now requires a token.
"""


def test_a_changelog_gives_no_issues_and_is_kept_as_a_note() -> None:
    """Its sections are releases and their lists are changes: a folder import that meets
    CHANGELOG.md or release-notes.md beside the issue logs must not file each release."""
    log = read_text(CHANGELOG, "CHANGELOG.md")
    assert log.issues == []
    assert [note.title for note in log.notes] == ["(a changelog)"]
    assert "Worker crashed when REDIS_URL was unset" in log.notes[0].body
    assert any(
        "reads as a changelog (its sections are releases: [2.1.0] - 2026-03-02, [2.0.1]"
        in w.message
        for w in log.warnings
    )
    # Asked for by name, the sections reader reads it as it reads any log.
    as_sections = read_text(CHANGELOG, "CHANGELOG.md", family="sections")
    assert not any("changelog" in w.message for w in as_sections.warnings)
    assert "(a changelog)" not in [note.title for note in as_sections.notes]


def test_a_log_whose_issues_name_versions_is_no_changelog() -> None:
    text = """# Known issues

## v2.1 upgrade breaks the worker
**Status**: Open
**Severity**: High
**Description**: The worker imports a module 2.1 removed.

## 1.4.2: login fails after the token refresh
**Status**: Resolved
**Description**: Refresh tokens were sent to the wrong audience.

## Gateway answers 502 under load
**Status**: Open
**Description**: Upstream keep-alive is off.

## Reports time out
**Status**: In progress
**Description**: The monthly report scans every invoice.
"""
    log = read_text(text, "KNOWN_ISSUES.md")
    assert len(log.issues) == 4
    assert not any("changelog" in w.message for w in log.warnings)


def test_a_backlog_state_is_open_and_a_planned_one_planned() -> None:
    text = (
        "# Bugs\n\n## BUG-001 : Login slow\n\n**Status** : 📋 Backlog\n\n"
        "## BUG-002 : Export missing\n\n**Status** : Backlog\n\n"
        "## BUG-003 : Search fuzzy\n\n**Status** : 📋 Planned\n\n"
        "## 📋 Backlog de bugs à investiguer\n\n### À investiguer : Push fails on iOS\n\n"
        "Seen twice.\n"
    )
    found = read_text(text, "BUGS.md").issues
    assert [i.draft.status for i in found] == [
        Status.OPEN,
        Status.OPEN,
        Status.PLANNED,
        Status.OPEN,
    ]


def test_a_documents_status_for_all_its_issues_is_the_state_of_those_stating_none() -> None:
    text = (
        "# Fix session 3 March\n\n**Date:** 3 March\n**Status:** ✅ All Fixed\n\n"
        "## Overview\n\nQueue and cache problems.\n\n"
        "## 🐛 Bug #1: Queue drains twice\n\n### Problem:\n\nTwo consumers.\n\n"
        "### Solution:\n\nOne consumer.\n\n"
        "## 🐛 Bug #2: Cache never expires\n\n**Status:** In progress\n\n### Problem:\n\nNo TTL.\n"
    )
    found = read_text(text, "SESSION.md").issues
    assert [(i.draft.title, i.draft.original_id, i.draft.status) for i in found] == [
        ("Queue drains twice", "#1", Status.RESOLVED),
        ("Cache never expires", "#2", Status.IN_PROGRESS),
    ]
    # The state comes from the document, as written; the bug emoji before the issue word is
    # an icon, no status.
    assert found[0].draft.original_values["status"] == "✅ All Fixed"
    for every in ("Tous corrigés", "All resolved", "全部已修复"):
        other = read_text(text.replace("✅ All Fixed", every), "SESSION.md").issues
        assert other[0].draft.status is Status.RESOLVED, every


def test_a_documents_own_state_without_a_word_for_all_is_not_its_issues() -> None:
    for state in ("✅ Complete", "In progress", "Draft"):
        text = (
            f"# Audit report\n\n**Status:** {state}\n\n"
            "## Bug #1: Token logged in clear\n\n### Problem:\n\nPrinted at start.\n\n"
            "## Bug #2: Admin route unauthenticated\n\n### Problem:\n\nNo guard.\n"
        )
        found = read_text(text, "AUDIT.md").issues
        assert [i.draft.status for i in found] == [Status.OPEN, Status.OPEN], state


def test_a_label_and_number_after_the_issue_word_are_its_id_not_its_title() -> None:
    text = (
        "# Known bugs\n\n## ⚠️ BUG RÉCURRENT #1 — Wrong page edited\n\n### Symptôme\n\nOld page.\n\n"
        "## Bug crítico #2: Stale build served\n\n### Causa\n\nCache.\n\n"
        "## Known Issue #3: Types out of date\n\n### Cause\n\nGenerator not run.\n"
    )
    found = read_text(text, "BUGS.md").issues
    assert [(i.draft.title, i.draft.original_id) for i in found] == [
        ("Wrong page edited", "#1"),
        ("Stale build served", "#2"),
        ("Types out of date", "Known #3"),
    ]
    # Words and a number that are the title itself stay in it.
    plain = read_text(
        "# Notes\n\n## Issue with Python 3 - install fails\n\n**Status:** Open\n\n"
        "**Cause:** Old pip.\n",
        "ISSUES.md",
    ).issues
    assert [i.draft.title for i in plain] == ["Issue with Python 3 - install fails"]


def test_list_items_under_a_heading_that_is_only_a_day_are_the_issues() -> None:
    text = (
        "---\ntitle: Bugs\n---\n\nWhat broke, day by day.\n\n"
        "##### 📅2025-Mar-04 (Tue)\n\n"
        "- (Major) Invoices mailed twice on retry, Solution: Send once per idempotency key\n"
        "- Avatar upload times out on slow links\n\n"
        "##### 📅2025-Mar-09 (Sun)\n\n- (Minor) Footer year is stale\n"
    )
    found = read_text(text, "Bug.md").issues
    assert [(i.line, i.draft.title, i.draft.severity) for i in found] == [
        (9, "Invoices mailed twice on retry", Severity.HIGH),
        (10, "Avatar upload times out on slow links", Severity.MEDIUM),
        (14, "Footer year is stale", Severity.LOW),
    ]
    assert found[0].draft.resolution == "Send once per idempotency key"
    assert [(s.name, s.body) for s in found[2].draft.extra_sections] == [
        ("Date", "2025-Mar-09 (Sun)")
    ]
    # A day over text that is no list stays the heading of what is written under it.
    prose = read_text("# Bugs\n\n## 2025-03-04\n\n**Status:** Open\n\nMail sent twice.\n", "B.md")
    assert [i.draft.title for i in prose.issues] == ["2025-03-04"]
