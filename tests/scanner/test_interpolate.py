"""Compose interpolation, replaying the cases of compose-go's template tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passmuster.scanner.context.interpolate import Interpolator, TemplateError, interpolate

VALUES = {"FOO": "first", "BAR": ""}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$${foo}", "${foo}"),
        ("foo", "foo"),
        ("$FOO-bar", "first-bar"),
        ("This ${missing} var", "This  var"),
        ("This ${BAR} var", "This  var"),
        ("This $FOO var", "This first var"),
        ("This ${FOO} var", "This first var"),
        ("ok ${missing:-def}", "ok def"),
        ("ok ${missing-def}", "ok def"),
        ("ok ${BAR:-def}", "ok def"),
        ("ok ${FOO:-def}", "ok first"),
        ("ok ${BAR-def}", "ok "),
        ("ok ${BAR:-/non:-alphanumeric}", "ok /non:-alphanumeric"),
        ("ok ${UNSET_VAR-$FOO}", "ok first"),
        ("ok ${UNSET_VAR-${FOO}}", "ok first"),
        ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
        ("ok ${BAR:-$FOO}", "ok first"),
        ("ok ${BAR:-${FOO}}", "ok first"),
        ("ok ${BAR:-${FOO} ${FOO}}", "ok first first"),
        ("ok ${FOO:?err}", "ok first"),
        ("ok ${FOO?err}", "ok first"),
        ("ok ${BAR?err}", "ok "),
        ("${UNSET_VAR-myerror?msg}", "myerror?msg"),
        ("${FOO?bar-baz}", "first"),
        ("${BAR:-default_value_for_empty_var}", "default_value_for_empty_var"),
        ("${UNSET_VAR-default_value_for_unset_var}", "default_value_for_unset_var"),
        ("${FOO:+alt}", "alt"),
        ("${BAR:+alt}", ""),
        ("${BAR+alt}", "alt"),
        ("${UNSET+alt}", ""),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("pg_isready -U $$POSTGRES_USER", "pg_isready -U $POSTGRES_USER"),
    ],
)
def test_it_substitutes_like_compose(template: str, expected: str) -> None:
    assert interpolate(template, VALUES) == expected


@pytest.mark.parametrize("template", ["${", "$}", "${}", "${ }", "${ foo}", "${foo }", "${foo!}"])
def test_it_rejects_invalid_templates(template: str) -> None:
    with pytest.raises(TemplateError, match="Invalid template"):
        interpolate(template, VALUES)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "not ok ${UNSET_VAR:?Mandatory Variable Unset}",
            "required variable UNSET_VAR is missing a value: Mandatory Variable Unset",
        ),
        (
            "not ok ${BAR:?Mandatory Variable Empty}",
            "required variable BAR is missing a value: Mandatory Variable Empty",
        ),
        ("not ok ${UNSET_VAR:?}", "required variable UNSET_VAR is missing a value"),
        (
            "not ok ${UNSET_VAR?Mandatory Variable ${FOO}}",
            "required variable UNSET_VAR is missing a value: Mandatory Variable first",
        ),
        ("${UNSET_VAR?bar-baz}", "required variable UNSET_VAR is missing a value: bar-baz"),
    ],
)
def test_it_fails_required_variables_with_their_message(template: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        interpolate(template, VALUES)
    assert str(caught.value) == message


def test_it_records_each_variable_used_and_whether_it_had_a_default() -> None:
    interpolator = Interpolator({"A": "1"})
    interpolator("${A} ${B:-x} ${C}")
    used = {(u.name, u.is_set, u.has_default) for u in interpolator.uses}
    assert used == {("A", True, False), ("B", False, True), ("C", False, False)}


@given(st.text())
def test_escaped_text_comes_back_unchanged(text: str) -> None:
    assert interpolate(text.replace("$", "$$"), VALUES) == text


@given(st.text(alphabet=st.characters(blacklist_characters="$")))
def test_text_without_dollars_is_left_alone(text: str) -> None:
    assert interpolate(text, {}) == text
