"""The reader's fast line tests give what the regular expressions that define them give.

`body._simple_field` takes a `**Name**: value` line apart without SIMPLE_FIELD's lazy name, and
`outline._candidates` finds the lines that may open a section from what is literal in them; both
must agree with the patterns they stand in for on any line, not only the ones logs usually hold.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from passmuster.logs.body import SIMPLE_FIELD, _simple_field
from passmuster.logs.outline import _CANDIDATE, _candidates

# Pieces that make field and bold lines, and the characters their patterns turn on.
_PIECES = st.sampled_from(
    ["**", "__", "*", "_", " ", "\t", ":", "：", "a", "Status", "x" * 79, "y" * 81, "é", "`", "-"]
)
_LINE_PIECES = st.sampled_from(
    ["**", "__", " ", "\t", "#", "1.", "2)", "x", "**a**", "__b__", "***", "\n", "   #", "    #"]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_a_bold_field_line_is_taken_apart_as_its_pattern_says(rest: str) -> None:
    line = "**" + rest
    m = SIMPLE_FIELD.match(line)
    assert _simple_field(line) == (m.groups() if m is not None else None)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_LINE_PIECES, max_size=30).map("".join))
def test_candidate_lines_are_the_lines_the_pattern_matches(text: str) -> None:
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    expected = [n for n, start in enumerate(starts) if _CANDIDATE.match(text, start)]
    assert _candidates(text) == expected
