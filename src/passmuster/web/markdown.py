"""Issue text as the pages show it: Markdown rendered safely.

Descriptions, resolutions, extra sections and comments are written by anyone with a reporter
token, or come from imported logs, so they are rendered by markdown-it-py with raw HTML turned
off (a `<script>` shows as text), links only to http, https, mailto or this site (no
`javascript:` or `data:`), links marked `rel="nofollow noopener noreferrer"`, and images
shown as links rather than loaded, so a description cannot make every reader's browser fetch
from elsewhere.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:
    # Imported when the first text is rendered, not when the server starts.
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# Browsers drop these before reading a scheme: "java\tscript:" is still javascript:.
_IGNORED = re.compile(r"[\x00-\x20\x7f]")


def safe_link(url: str) -> bool:
    """True for links a page may carry: http(s), mailto, or a path on this site."""
    plain = _IGNORED.sub("", url)
    scheme = _SCHEME.match(plain)
    return scheme is None or scheme.group(1).lower() in _SAFE_SCHEMES


_REL = "nofollow noopener noreferrer"


def _harden(state: StateCore) -> None:
    """Mark every link `rel`, and turn images into links to them (nothing is fetched)."""
    from markdown_it.token import Token

    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        for token in block.children:
            if token.type == "link_open":
                token.attrSet("rel", _REL)
            elif token.type == "image":
                src = str(token.attrGet("src") or "")
                opening = Token("link_open", "a", 1, attrs={"href": src, "rel": _REL})
                label = Token("text", "", 0, content=token.content or src)
                children += [opening, label, Token("link_close", "a", -1)]
                continue
            children.append(token)
        block.children = children


@functools.cache
def _renderer() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = safe_link  # type: ignore[method-assign]
    md.core.ruler.push("passmuster_harden", _harden)
    return md


def render_markdown(text: str | None) -> Markup:
    """`text` as safe HTML (see the module docstring)."""
    if not text:
        return Markup("")
    return Markup(_renderer().render(text))
