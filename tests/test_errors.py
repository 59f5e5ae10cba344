"""The messages of errors meant for users."""

from __future__ import annotations

from passmuster.errors import InvalidValue


def test_invalid_value_lists_the_choices_and_keeps_them() -> None:
    error = InvalidValue("severity", "nope", (s for s in ["high", "low"]))
    assert error.message == "invalid severity 'nope': expected one of high, low"
    assert error.valid == ("high", "low")


def test_invalid_value_with_one_description_reads_as_a_sentence() -> None:
    error = InvalidValue("services", 5, ["a list of texts"])
    assert error.message == "invalid services 5: expected a list of texts"
