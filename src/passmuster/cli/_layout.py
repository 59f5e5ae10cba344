"""Rich's layouts that `show` prints (rule, padded grid, panels, borderless tables), as plain
lines, for text that Rich prints as it is.

`show` is run as often as the listings, and importing Rich's console, tables and panels took
longer than reading the issue. When stdout takes no terminal codes and every piece of text is
one Rich would print unchanged (`printed_as_is`: printable ASCII, no markup, no emoji codes),
these functions lay the view out the way Rich does, line for line. Whatever they are not sure
to lay out as Rich would (a cell wider than its column, a word longer than a line, a table that
Rich would shrink) raises `NotPlain`, and the caller prints through Rich instead. Tests compare
both at many widths (tests/cli/test_plain_show.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# The box characters of Rich's ROUNDED box (Panel's default) and of its rules.
_H = "─"
_TOP_LEFT, _TOP_RIGHT, _BOTTOM_LEFT, _BOTTOM_RIGHT, _SIDE = "╭", "╮", "╰", "╯", "│"

# Rich's words: a run of non-space characters with the spaces around it.
_WORD = re.compile(r"\s*\S+\s*")
# Whatever Rich could print otherwise than as it is: characters outside printable ASCII (wide,
# zero-width and control characters, tabs, line breaks), markup and its escapes, and emoji
# codes (`:smile:`).
_NOT_AS_IS = re.compile(r"[^\x20-\x7e]|[\[\\]|:\S*:")


class NotPlain(Exception):
    """Rich might lay this out differently: print it through Rich."""


def shown_as_is(line: str) -> bool:
    """Whether Rich prints this line of markup (escaped where it came from the desk) unchanged."""
    return _NOT_AS_IS.search(line) is None


def as_is(line: str) -> str:
    """`line` when Rich prints it unchanged (`shown_as_is`), else NotPlain."""
    if _NOT_AS_IS.search(line):
        raise NotPlain
    return line


def rule(title: str, width: int) -> list[str]:
    """`Rule(title, align="left")`: the title, a space, then the line to the full width."""
    if len(title) > width - 2:  # Rich would cut the title short
        raise NotPlain
    return [f"{title} {_H * (width - len(title) - 1)}"]


def wrap(text: str, width: int, *, pad: bool = True) -> list[str]:
    """One line of text as Rich wraps it at `width`: greedy, a word with the spaces after it, a
    break before the word that does not fit; each line padded to `width` (as a panel, a table
    or a paragraph lays it out), or with `pad` false as `Console.print` writes it (a line
    broken after a space keeps it)."""
    if width < 1:
        raise NotPlain
    lines: list[str] = []
    start = offset = 0
    for match in _WORD.finditer(text):
        word = match.group()
        length = len(word.rstrip())
        if length > width:  # Rich folds a word longer than the line
            raise NotPlain
        if width - offset >= length:
            offset += len(word)
        elif offset and match.start():
            lines.append(text[start : match.start()])
            start, offset = match.start(), len(word)
    lines.append(text[start:])
    # A line's trailing spaces past the width are cut.
    if any(line[width:].strip() for line in lines):
        raise NotPlain
    return [line[:width].ljust(width) if pad else line[:width] for line in lines]


def padded_grid(rows: Sequence[tuple[str, str]], width: int) -> list[str]:
    """`Padding(grid, (1, 0))` of a two-column `Table.grid(padding=(0, 2))` whose first column
    does not wrap: a blank line, each row on one line, a blank line; all `width` wide."""
    names = max((len(name) for name, _ in rows), default=0)
    values = max((len(value) for _, value in rows), default=0)
    if names + 2 + values > width:  # the second column would wrap
        raise NotPlain
    blank = " " * width
    lines = [f"{name.ljust(names)}  {value}".ljust(width) for name, value in rows]
    return [blank, *lines, blank]


def panel(title: str, body: Sequence[str], width: int) -> list[str]:
    """`Panel(..., title=title, title_align="left")` (expanded, padding (0, 1)) around body
    lines laid out `width - 4` wide."""
    inner = width - 4
    if inner < 1 or len(title) + 2 > inner:  # Rich would cut the title short
        raise NotPlain
    heading = f" {title} "
    top = f"{_TOP_LEFT}{_H}{heading}{_H * (inner - len(heading))}{_H}{_TOP_RIGHT}"
    bottom = f"{_BOTTOM_LEFT}{_H * (width - 2)}{_BOTTOM_RIGHT}"
    return [top, *(f"{_SIDE} {line} {_SIDE}" for line in body), bottom]


def text_lines(lines: Sequence[str], width: int) -> list[str]:
    """Lines of markup text as a panel shows them, each wrapped at `width`."""
    return [wrapped for line in lines for wrapped in wrap(line, width)]


def table(rows: Sequence[Sequence[str]], width: int, *, last_wraps: bool = False) -> list[str]:
    """A borderless `Table(show_header=False, box=None, padding=(0, 1))` in `width` columns,
    each line padded to `width` as a panel pads it.

    Each column takes its widest cell, unless `last_wraps`: then the last column holds text
    Rich does not measure (a Markdown paragraph) and takes the rest of the width, wrapped in
    it, as Rich's table shrinks its widest column to fit.
    """
    if not rows:
        raise NotPlain
    count = len(rows[0])
    fixed = count - 1 if last_wraps else count
    widths = [max(len(row[i]) for row in rows) + 2 for i in range(fixed)]
    if last_wraps:
        # Rich measures the paragraph's column as the whole width and shrinks only it when the
        # other columns' widths fit in what it has over the next widest.
        if sum(widths) > width - max(widths, default=0):
            raise NotPlain
        widths.append(width - sum(widths))
    elif sum(widths) > width:  # Rich would shrink the columns
        raise NotPlain
    lines: list[str] = []
    for row in rows:
        cells = [[row[i].ljust(widths[i] - 2)] for i in range(fixed)]
        if last_wraps:
            cells.append(wrap(row[-1], widths[-1] - 2))
        height = max(len(cell) for cell in cells)
        for k in range(height):
            lines.append(
                "".join(
                    f" {cell[k] if k < len(cell) else ' ' * (widths[i] - 2)} "
                    for i, cell in enumerate(cells)
                ).ljust(width)
            )
    return lines
