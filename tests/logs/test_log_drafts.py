"""Drafts (`new --from-file`, `$EDITOR`) are read by the log reader: one reader for both."""

from __future__ import annotations

import pytest

from passmuster.cli._drafts import editor_template
from passmuster.core.issues import IssueDraft, IssueType, Priority, Severity
from passmuster.errors import ParseError
from passmuster.logs.draft import read_draft


def test_the_editor_template_filled_in_by_flags_reads_back_field_by_field() -> None:
    given = IssueDraft(
        title="Worker lacks DOCKER_HOST",
        type=IssueType.TECH_DEBT,
        severity=Severity.HIGH,
        priority=Priority.SHORT_TERM,
        services=["instance-worker", "instance-service"],
        component="provisioning",
        assignee="ana",
        labels=["env", "compose"],
        description="The worker relies on auto-detection.",
        impact="Provisioning may fail.",
    )
    draft, warnings = read_draft(editor_template(given), "(editor)")
    assert warnings == []
    for name in ("title", "type", "severity", "priority", "services", "component", "assignee"):
        assert getattr(draft, name) == getattr(given, name), name
    assert (draft.labels, draft.description, draft.impact) == (
        given.labels,
        given.description,
        given.impact,
    )
    assert draft.error_details == [] and draft.extra_sections == []
    assert draft.source is None


def test_the_untouched_template_has_an_empty_title_and_no_values() -> None:
    draft, warnings = read_draft(editor_template(), "(editor)")
    assert warnings == []
    assert draft.title == ""
    assert (draft.priority, draft.component, draft.description) == (None, None, "")


def test_a_draft_in_another_language_reads_its_fields() -> None:
    draft, _ = read_draft(
        "# El worker no arranca\n\n**Severidad**: Alta\n**Servicios afectados**: worker\n\n"
        "## Descripción\nFalta DOCKER_HOST.\n\n## Causa raíz\nCompose incompleto.\n",
        "borrador.md",
    )
    assert (draft.title, draft.severity, draft.services) == (
        "El worker no arranca",
        Severity.HIGH,
        ["worker"],
    )
    assert (draft.description, draft.root_cause) == ("Falta DOCKER_HOST.", "Compose incompleto.")


def test_text_before_the_title_is_refused_at_its_line() -> None:
    with pytest.raises(ParseError) as caught:
        read_draft("\nLogout keeps sessions\n**Severity**: high\n", "draft.md")
    assert (caught.value.line, "'# Title'" in caught.value.message) == (2, True)


def test_two_issues_in_a_draft_point_to_import() -> None:
    with pytest.raises(ParseError, match="holds 2 issues"):
        read_draft(
            "## Issue #1 - A\n**Status**: Open\n\n## Issue #2 - B\n**Status**: Open\n", "d.md"
        )
