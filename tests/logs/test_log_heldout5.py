"""Shapes met in a fifth set of real logs: items struck through as done, a section saying it holds
nothing, an issue heading opened by a label (`## RECURRING PROBLEM: …`), lead-in headings ending
in a colon, and the state words those logs used."""

from __future__ import annotations

from passmuster.core.issues import Status
from passmuster.logs.headings import parse_heading
from passmuster.logs.reader import read_text

STRUCK = """---
title: Known defects
---
# Known defects

## Contents
- [Defects](#defects)
- [Fixed defects](#fixed-defects)

# Defects 🐞

* none


# Fixed defects 🔧
* ~~Typos in the help pages.~~
* ~~Recipe: deleted ingredients come back after saving.~~
- ~~Planner: dragging a whole row of meals misplaces it.~~\t
"""


def test_items_struck_through_under_a_section_of_issues_are_done_issues() -> None:
    log = read_text(STRUCK, "defects.md")
    assert [(i.draft.title, i.line) for i in log.issues] == [
        ("Typos in the help pages.", 16),
        ("Recipe: deleted ingredients come back after saving.", 17),
        ("Planner: dragging a whole row of meals misplaces it.", 18),
    ]
    assert {i.draft.status for i in log.issues} == {Status.RESOLVED}


def test_a_section_saying_it_holds_nothing_gives_no_issue() -> None:
    for nothing in ("keine", "None yet.", "_Aucun_"):
        log = read_text(STRUCK.replace("* none", f"* {nothing}"), "defects.md")
        assert len(log.issues) == 3
        assert "Defects 🐞" not in [i.draft.title for i in log.issues]


def test_a_plain_list_without_struck_items_stays_as_it_was() -> None:
    text = STRUCK.replace("~~", "")
    titles = [i.draft.title for i in read_text(text, "defects.md").issues]
    assert "Typos in the help pages." not in titles


LABELLED = """# Known problems

**Date:** 2 March 2026

---

## ⚠️ RECURRING PROBLEMA: Payments not synced after checkout

### 🔴 Sintomo
The dashboard shows no plan after paying.

### 🔍 Causa Root
The webhook is never called locally.

### ✅ Final fix (2 March 2026)
Sync on return from checkout.

### ⚡ IMPORTANT - NEVER DELETE
The sync endpoint.

---

## 📋 Other problems

### Tokens shown as 0
**Status:** In analisi
"""


def test_a_heading_opened_by_a_qualified_issue_word_and_a_colon_is_an_issue() -> None:
    log = read_text(LABELLED.replace("RECURRING PROBLEMA", "PROBLEMA RICORRENTE"), "log.md")
    assert [(i.draft.title, i.line) for i in log.issues] == [
        ("Payments not synced after checkout", 7),
        ("Tokens shown as 0", 25),
    ]
    assert log.issues[1].draft.status is Status.IN_PROGRESS


def test_a_part_name_before_a_colon_is_no_issue_label() -> None:
    assert parse_heading("PROBLEMA RICORRENTE: Payments not synced").is_issue
    assert parse_heading("Problema Principal: Tela branca após inatividade").is_issue
    for part in ("Problem Statement: what we saw", "Bug Report: Login fails"):
        heading = parse_heading(part)
        assert not heading.is_issue and heading.title == part


def test_a_state_word_beats_the_emoji_beside_it() -> None:
    text = "# Known issues\n\n## WSL disk cannot be mounted\n\n**Durum:** ⏳ Beklemede\n"
    assert read_text(text, "log.md").issues[0].draft.status is Status.OPEN


GUIDE = """# Çözümler

## 🌐 Bağlantı Sorunları

### Sorun 1: Sayfa açılmıyor

**Belirtiler:**
- Sayfa yüklenmiyor

**Çözümler:**
- Bağlantıyı kontrol et

### Sorun 2: Sayfa yavaş

**Belirtiler:**
- Butonlar geç yanıt veriyor

## ⚠️ Hata Mesajları

### Common error messages:

**"Session expired"**
Log in again.

## 🛠️ İleri Düzey Sorun Giderme

### Tarayıcı araçları

Press F12 and open the console.
"""


def test_a_heading_ending_in_a_colon_leads_into_what_follows() -> None:
    titles = [i.draft.title for i in read_text(GUIDE, "guide.md").issues]
    assert titles[:2] == ["Sayfa açılmıyor", "Sayfa yavaş"]
    assert "Common error messages:" not in titles


def test_a_troubleshooting_part_in_turkish_is_a_part_of_the_guide() -> None:
    titles = [i.draft.title for i in read_text(GUIDE, "guide.md").issues]
    assert titles == ["Sayfa açılmıyor", "Sayfa yavaş"]


OBSERVATION = """# OBS-003 (not yet a confirmed bug)

**Found:** CI run — the API login returns 400 for valid credentials.

## What was tried

Two hypotheses, neither confirmed.

## RESOLVED — confirmed, promoted to BUG-004

The UI login passed with the same credentials in the same session.
"""


def test_a_state_and_a_remark_naming_another_issue_is_no_issue_heading() -> None:
    heading = parse_heading("RESOLVED — confirmed, promoted to BUG-004")
    assert not heading.is_issue and heading.original_id is None
    assert parse_heading("✅ RESOLVED - Bug 12 - Title").original_id == "Bug 12"
    log = read_text(OBSERVATION, "OBS-003.md")
    assert [i.line for i in log.issues] == [1]


UNDER_A_PART = """# Known issues

## Medium

### MED-003: Test fixtures use an old model

**Root cause**:

1. **Fixture imports only three models** (fixed ✅)

2. **Fields named after the old schema**
   ```python
   # wrong: project.key
   ```

**Status**: 🚧 In Progress

### MED-004: Heartbeat too frequent

**Status**: Open
"""


def test_numbered_bold_items_under_a_part_label_are_that_parts_text() -> None:
    log = read_text(UNDER_A_PART, "log.md")
    assert [(i.draft.title, i.line) for i in log.issues] == [
        ("Test fixtures use an old model", 5),
        ("Heartbeat too frequent", 18),
    ]
    assert log.issues[0].draft.status is Status.IN_PROGRESS
    assert "Fields named after the old schema" in (log.issues[0].draft.root_cause or "")


def test_numbered_bold_items_under_a_label_naming_issues_stay_issues() -> None:
    text = UNDER_A_PART.replace("**Root cause**:", "**Issues found**:")
    titles = [i.draft.title for i in read_text(text, "log.md").issues]
    assert "Fields named after the old schema" in titles


INDEXED = """# Known issues

**Version**: v1.1.0

## 🟡 MEDIUM

### MED-001: Token kept in local storage

**Description**:

The token sits in local storage.

**Owner**: @backend-dev

---

### MED-002: Heartbeat too frequent

**Description**:

Every 15 seconds.

**Owner**: @backend-dev

---

## 🔍 Finding an issue

### By module

- **Auth**: MED-001
- **WebSocket**: MED-002

### By owner

- **@backend-dev**: MED-001, MED-002

### By version

- **v1.2.0**: MED-001
- **v1.1.1**: MED-002
"""


def test_a_section_only_pointing_at_issues_by_id_is_an_index() -> None:
    titles = [i.draft.title for i in read_text(INDEXED, "log.md").issues]
    assert titles == ["Token kept in local storage", "Heartbeat too frequent"]
