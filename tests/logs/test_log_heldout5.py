"""Shapes met in a fifth set of real logs: items struck through as done, a section saying it holds
nothing, an issue heading opened by a label (`## RECURRING PROBLEM: …`), lead-in headings ending
in a colon, and the state words those logs used."""

from __future__ import annotations

from passmuster.core.issues import Status
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

