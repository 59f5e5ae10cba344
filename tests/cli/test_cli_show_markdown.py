"""`show` renders issue text as Markdown; one line of plain words skips the Markdown parser and
must look exactly as Markdown would show it, in a panel (descriptions) and in a table (comments),
with and without colour, at any width."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table

from passmuster.cli.frequent import _markdown, _Paragraph
from passmuster.core.visible import escape_controls

PLAIN = [
    "Seen after the last deploy; other services that call it time out.",
    "x",
    "Reproduced on staging (500) - error: 'token' \"expired\" 100% of the time; see #003.",
    "2026 was the year: the gateway returns 502 for /auth/me",
    "1234567890. ten digits start no list",
    "Wide text: 日本語のテキスト 混在 and an emoji 👍 in the middle",
    "Several   spaces\tand a tab stay as written",
    "A long description that has to wrap " * 6 + "end",
]
MARKDOWN = [
    "1. a list item",
    "3) another list",
    "- a bullet",
    "# a heading",
    "    code by indentation",
    " leading space",
    "trailing space ",
    "two\nlines",
    "setext\n===",
    "**bold** and _italic_ and `code`",
    "see [the runbook](https://example.com) or <https://example.com>",
    "a \\* backslash escape and an &amp; entity",
    "~~struck~~ | a | table |",
    "> quoted",
    "control \x1b[31m characters",
    "",
]


def _render(renderable: RenderableType, *, width: int, color: bool) -> str:
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        force_terminal=color,
        color_system="truecolor" if color else None,
        highlight=False,
        soft_wrap=False,
    )
    console.print(renderable)
    return out.getvalue()


def _as_shown(text: str, make: Callable[[str], RenderableType]) -> list[str]:
    """How `make(text)` looks in a description panel and in a comments table."""
    shown = []
    for width in (24, 60, 120):
        for color in (False, True):
            body = make(text)
            shown.append(_render(Panel(body, title="Description"), width=width, color=color))
            table = Table(show_header=False, box=None, padding=(0, 1))
            table.add_row("[dim]2026-12-05 06:30[/]", "[bold]alice[/]", make(text))
            shown.append(_render(Panel(table, title="Comments"), width=width, color=color))
    return shown


def _as_markdown(text: str) -> Markdown:
    return Markdown(escape_controls(text), hyperlinks=False)


@pytest.mark.parametrize("text", PLAIN + MARKDOWN)
def test_issue_text_looks_as_markdown_shows_it(text: str) -> None:
    assert _as_shown(text, _markdown) == _as_shown(text, _as_markdown)


@pytest.mark.parametrize("text", PLAIN)
def test_one_line_of_plain_words_needs_no_markdown_parser(text: str) -> None:
    assert isinstance(_markdown(text), _Paragraph)


@pytest.mark.parametrize("text", MARKDOWN)
def test_anything_markdown_could_read_otherwise_goes_through_markdown(text: str) -> None:
    assert isinstance(_markdown(text), Markdown)


_WORDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ,.;:'\"()/#%+=?$@^{}-]{0,90}", fullmatch=True)
_ANY = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=150, deadline=None)
@given(st.one_of(_WORDS, _ANY))
def test_any_text_looks_as_markdown_shows_it(text: str) -> None:
    assert _as_shown(text, _markdown) == _as_shown(text, _as_markdown)
