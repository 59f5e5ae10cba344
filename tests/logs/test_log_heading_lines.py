"""A heading line is taken apart without the regex, with the same answer as the regex."""

from __future__ import annotations

import pytest

from passmuster.logs.outline import HEADING, heading_parts

LINES = [
    "## Issue #001 - Title",
    "### Title ###",
    "### Title #",
    "### Title#",
    "## ##",
    "# #",
    "#",
    "####### seven",
    "#no-space",
    "   ## three spaces",
    "    ## four spaces",
    "##\t\tTabbed\t#\t",
    "## a ## b #",
    "## ",
    "## C# and F#",
    "## Title  \t",
    "## \u3000full-width space",
    "## two\nlines",
    "## ends with a break\n",
]


@pytest.mark.parametrize("line", LINES)
def test_a_heading_line_reads_as_the_heading_pattern_reads_it(line: str) -> None:
    m = HEADING.match(line)
    assert heading_parts(line) == (None if m is None else (len(m.group(1)), m.group(2)))
