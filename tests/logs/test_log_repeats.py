"""Entries a log writes twice, and placeholders it leaves unfilled: each issue is counted once,
and a heading still waiting for its words is no issue."""

from __future__ import annotations

from passmuster.logs.reader import read_text


def titles(text: str, name: str = "log.md") -> list[str]:
    return [issue.draft.title for issue in read_text(text, name).issues]


TWICE = """# Tracker

## High

### 🟠 WH-001: Label printer drops the last line
**Status:** ✅ Resolved

### 🟠 WH-002: Scanner beeps twice on a good read
**Status:** Open

## Details

### 🟠 WH-001: Label printer drops the last line
**Status:** ✅ Resolved

**Description:**
The spooler cuts the final buffer before it is flushed.

### 🟠 WH-003: Pallet weights rounded down
**Status:** Open
"""


def test_an_entry_written_again_with_its_id_and_title_is_one_issue() -> None:
    log = read_text(TWICE, "tracker.md")
    assert [i.draft.title for i in log.issues] == [
        "Label printer drops the last line",
        "Scanner beeps twice on a good read",
        "Pallet weights rounded down",
    ]
    assert log.issues[0].line == 5
    assert any(note.line == 13 and "repeated" in note.title for note in log.notes)


def test_the_same_id_over_another_problem_stays_two_issues() -> None:
    text = TWICE.replace(
        "### 🟠 WH-001: Label printer drops the last line\n**Status:** ✅ Resolved\n\n**Desc",
        "### 🟠 WH-001: Dock door sensor reports open\n**Status:** Open\n\n**Desc",
    )
    assert len(titles(text)) == 4


FIXED_TABLE = """# Defects

## Critical

| ID | Description | Status |
|----|-------------|--------|
| K-1 | **Wrong tax code:** fixed the lookup | ✅ Fixed |
| K-2 | **Invoice total off by one cent:** rounding moved | ✅ Fixed |
| K-3 | **Export hangs on empty month:** guard added | ✅ Fixed |

## Medium

| ID | Description | Status |
|----|-------------|--------|
| M-1 | **Stale currency cache:** not yet looked at | 🟡 Open |

## Fixed

| ID | Description | Date |
|----|-------------|------|
| K-1 — K-3 | All critical tax defects | 2026-01-03 |
| M-0 | Duplicate customer rows on import | 2025-11-02 |
"""


def test_a_row_spanning_ids_read_earlier_sums_them_up() -> None:
    log = read_text(FIXED_TABLE, "defects.md")
    ids = [issue.draft.original_id for issue in log.issues]
    assert ids == ["K-1", "K-2", "K-3", "M-1", "M-0"]


BLANKS = """# Blockers

## Resolved

### 🐛 Bug #1: Menu drawn twice after restart
**Status:** ✅ FIXED
**Severity:** CRITICAL

## Active

### 🐛 Bug #2: [placeholder]
Status: OPEN
Description: [описание]

### 📌 Issue #1: [placeholder]
Status: BACKLOG
"""


def test_a_heading_left_as_a_placeholder_is_no_issue() -> None:
    assert titles(BLANKS, "blockers.md") == ["Menu drawn twice after restart"]


VIETNAMESE = """# Nhật ký lỗi

## Các lỗi đã sửa

### Lỗi #1: Bộ đệm trả về NULL

**Triệu chứng:** giá trị rỗng sau khi khởi động lại.

**Trạng thái:** ✅ Đã giải quyết

### Lỗi #2: Cổng dịch vụ bị nhầm

**Trạng thái:** ✅ Không phải lỗi - Hoạt động đúng thiết kế
"""


def test_an_issue_word_and_number_in_more_languages_is_the_id_and_their_states_are_read() -> None:
    log = read_text(VIETNAMESE, "loi.md")
    assert [(i.draft.original_id, i.draft.title) for i in log.issues] == [
        ("#1", "Bộ đệm trả về NULL"),
        ("#2", "Cổng dịch vụ bị nhầm"),
    ]
    assert [i.draft.status.value for i in log.issues] == ["resolved", "closed"]
    for word in ("Błąd", "Fout", "Errore", "Masalah", "Vấn đề"):
        text = f"# Log\n\n### {word} #4: Export hangs\n**Status:** Open\n\ntext\n"
        assert [i.draft.original_id for i in read_text(text, "x.md").issues] == ["#4"]


LEGEND = """# 이슈 트래커

## Status Legend

| 상태 | 설명 |
|------|------|
| OPEN | 미처리 |
| FIXED | 수정 완료 |
| WONTFIX | 수정하지 않음 |

## Active Issues

| ID | 유형 | 제목 | 상태 |
|----|------|------|------|
| 101 | BUG | 로그인 후 세션 만료 | FIXED |
| 102 | BUG | 알림 중복 발송 | OPEN |
"""


def test_a_legend_spelling_wontfix_as_one_word_is_no_issue() -> None:
    log = read_text(LEGEND, "tracker.md")
    assert [i.draft.original_id for i in log.issues] == ["101", "102"]
    assert [i.draft.status.value for i in log.issues] == ["resolved", "open"]


DIAGNOSIS = """# Relatório

## Tela branca após inatividade

### Sintoma
- A tela fica branca depois de um minuto parado.

### Diagnóstico Mais Provável
- **Causa Raiz:** o servidor dorme e a primeira consulta falha.
- **Efeito:** nada é carregado.

## Menu lateral some no celular

### Sintoma
- O menu some.

### Diagnóstico
- **Causa:** a largura mínima está errada.
"""


def test_a_diagnosis_part_even_with_a_likely_after_it_is_part_of_its_issue() -> None:
    assert titles(DIAGNOSIS, "relatorio.md") == [
        "Tela branca após inatividade",
        "Menu lateral some no celular",
    ]


ONE_BUG = """# K007: Upload stalls at 99 percent

## Bug Information
- **Bug ID**: K007
- **Severity**: High
- **Status**: Fixed

## Areas to Modify

- `Uploader::finish()` in `src/upload.rs` (line 88)
  - waits for an acknowledgement that never comes
- `Queue::drain()` in `src/queue.rs` (line 41)
  - drops the last chunk

## Change History
- 2025-03-02: reported
"""


def test_a_file_titled_by_a_padded_key_is_one_issue_with_its_lists_as_parts() -> None:
    log = read_text(ONE_BUG, "k007.md")
    assert [(i.draft.original_id, i.draft.title) for i in log.issues] == [
        ("K007", "Upload stalls at 99 percent")
    ]
    assert log.issues[0].draft.status.value == "resolved"


def test_a_key_without_leading_zeros_is_no_id() -> None:
    text = "# Media\n\n## H264: hardware decoding crashes\n**Status:** Open\n\ntext\n"
    assert [i.draft.original_id for i in read_text(text, "media.md").issues] == [None]


REMARK_ROWS = """# Bug Tracker

| Bug ID | Title | Severity | Status |
|--------|-------|----------|--------|
| W001 | Totals off by one | Medium | Fixed |
| W002 | Export ignores filter | High | Open |
|  |  |  | *(✅ Resolved)* |
"""


def test_a_table_row_naming_no_issue_is_a_remark() -> None:
    log = read_text(REMARK_ROWS, "tracker.md")
    assert [i.draft.original_id for i in log.issues] == ["W001", "W002"]


HISTORY = """# Known Issues

### 041: Autocomplete shows stale entries
- **Status**: Resolved

- **Original Problem**:

  Two defects showed up together:

  **Defect 1 — stale list after fast typing**

  The list kept the entries of the previous keystroke.

  **Defect 2 — wrong trigger inside paths**

  A slash inside a path opened the command list.

### 042: Scroll jumps while streaming
- **Status**: Open

## Changelog

### 2026-03-13: Issue 041 fixed
- Resolved 041: Autocomplete shows stale entries
- Problem: the list kept the previous entries
- Root cause: the completer cached per keystroke

### 2026-03-12: Issue 042 added
- Added 042: Scroll jumps while streaming
"""


def test_bold_lines_inside_a_list_item_and_dated_changelog_entries_are_no_issues() -> None:
    log = read_text(HISTORY, "known.md")
    assert [i.draft.title for i in log.issues] == [
        "Autocomplete shows stale entries",
        "Scroll jumps while streaming",
    ]
