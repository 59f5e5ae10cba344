"""Control characters made visible, for text shown on a terminal or written to a log file.

Issue text comes from anyone who can file an issue, a scanned repository or a probed service.
Sent to a terminal as it is, an escape sequence in it can clear the screen, retitle the window,
hide a link behind innocent text (OSC 8) or rewrite what was printed before it (carriage
return, backspace). The desk keeps every text exactly as given; what shows it on a terminal or
writes it to a Markdown log passes it through `escape_controls` first, which writes each C0 and
C1 control character (but newline and tab), DEL, and the Unicode bidirectional overrides as a
visible `\\x1b`-style escape.
"""

from __future__ import annotations

import re

# C0 but tab and newline, DEL, C1; the bidi embeddings, overrides and isolates that reorder
# what is shown ("Trojan Source"); and a lone carriage return (CRLF is only a line end).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)")
# The same characters with any carriage return: one character class, which the regex engine
# scans for far faster than the alternation above (a 10 MB export is searched whole).
_ANY_CONTROL = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\r]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` with control characters written as `\\x1b` (`\\u202e` beyond Latin-1); CRLF
    becomes LF. Text without any comes back as it is (the same object)."""
    if not _ANY_CONTROL.search(text):
        return text
    return _CONTROLS.sub(_visible, text.replace("\r\n", "\n"))


def has_controls(text: str) -> bool:
    return _ANY_CONTROL.search(text) is not None and _CONTROLS.search(text) is not None
