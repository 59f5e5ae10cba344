"""From bytes on disk to lines the readers can trust: decoding, mojibake repair and code fences.

A log is read line by line rather than through a full Markdown parser: the readers need line
numbers for every warning, and a 10 MB log must parse in well under a second (markdown-it-py takes
several seconds on that size). The one piece of Markdown that changes what everything else means is
the code fence, so it is resolved here, once, before any reader looks at a line.
"""

from __future__ import annotations

import bisect
import re
from itertools import filterfalse
from pathlib import Path

from passmuster.errors import ParseError

# Runs of characters that Mac Roman or Windows-1252 produce when UTF-8 bytes are decoded with
# them (the seeds show ✅ as `‚úÖ`). Such a run is re-encoded and decoded as UTF-8; a run that does
# not decode cleanly was real text and stays as it is. ftfy 6.3 was tried first: it fixes the
# Windows-1252 cases but leaves the seeds' Mac Roman ones (`‚úÖ`, `‚Üí`) garbled.
_SUSPECT_RUN = re.compile(r"[\u0080-\uffff]{2,}")
_REPAIR_CODECS = ("mac_roman", "cp1252")


def _decoded(byte_values: range) -> str:
    chars: set[str] = set()
    for codec in _REPAIR_CODECS:
        for b in byte_values:
            try:
                chars.add(bytes([b]).decode(codec))
            except UnicodeDecodeError:
                continue
    return "".join(sorted(c for c in chars if ord(c) >= 0x80))


# A UTF-8 lead byte followed by a continuation byte, as Mac Roman or Windows-1252 show them.
_MOJIBAKE_HINT = re.compile(
    f"[{re.escape(_decoded(range(0xC2, 0xF5)))}][{re.escape(_decoded(range(0x80, 0xC0)))}]"
)


def _repair_run(match: re.Match[str]) -> str:
    run = match.group(0)
    for codec in _REPAIR_CODECS:
        try:
            fixed = run.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != run:
            return fixed
    return run


def repair_mojibake(text: str) -> str:
    """`‚úÖ RESOLVED` → `✅ RESOLVED`; text without mojibake comes back unchanged.

    Only lines that show a typical mojibake pair are touched, so whether a line is repaired
    never depends on the rest of the file (the writer relies on that).
    """
    # Every mojibake pair is non-ASCII, and isascii() is far cheaper than the search: most text
    # an export renders and checks is plain ASCII.
    if text.isascii() or not _MOJIBAKE_HINT.search(text):
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _MOJIBAKE_HINT.search(line):
            lines[i] = _SUSPECT_RUN.sub(_repair_run, line)
    return "\n".join(lines)


def may_hold_mojibake(lines: list[str]) -> bool:
    """Whether `repair_mojibake` could change the text these lines make: some line shows a
    mojibake pair. Only lines with non-ASCII characters are searched (filterfalse runs no Python
    code per line), which on a long log is far less text than the whole."""
    return any(_MOJIBAKE_HINT.search(line) for line in filterfalse(str.isascii, lines))


def decode(data: bytes, path: Path | str) -> str:
    """The text of a log, or a ParseError naming the file (and line) when it is not a text log."""
    if not data.strip():
        raise ParseError(path, None, "the file is empty")
    if b"\x00" in data[:8192]:
        raise ParseError(path, None, "this is a binary file, not a Markdown log")
    nul = data.find(b"\x00")
    if nul >= 0:
        # Text with a NUL byte further in: no field may hold one (PostgreSQL cannot store it).
        line = data.count(b"\n", 0, nul) + 1
        raise ParseError(path, line, "contains a NUL byte; a Markdown log cannot hold one")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(
            path, line, f"not valid UTF-8 (byte {exc.start}); save it as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
_HEADING_LIKE = re.compile(r"^#{1,6}\s")
_RULE = re.compile(r"^(?:-{3,}|\*{3,}|_{3,})\s*$")


def lines_containing(text: str, needle: str) -> list[int]:
    """The numbers of the lines of `text` (split at line breaks) that hold `needle`, in order.

    Found by searching the text, not by a test per line: on a long log the search skips whole
    stretches at once, when the needle is rare (`|`). `needle` holds no line break.
    """
    found: list[int] = []
    find, count = text.find, text.count
    line = last = pos = 0
    while (hit := find(needle, pos)) >= 0:
        line += count("\n", last, hit)
        last = hit
        found.append(line)
        end = find("\n", hit)
        if end < 0:
            break
        pos = end + 1
    return found


def find_fences(lines: list[str]) -> tuple[list[bool], list[int]]:
    """Mark every line inside a code fence (the fence lines included); also give the first
    line (0-based) of each fence never closed.

    Fences follow CommonMark: a run of 3+ backticks or tildes opens, a run of the same character
    at least as long with nothing after it closes. Recovery for a fence never closed: instead of
    swallowing the rest of the file it ends before the first later line that is a heading or a
    thematic break with a blank line above it, and the reader warns at the opening line.
    """
    inside = [False] * len(lines)
    unclosed: list[int] = []
    n = len(lines)
    # Only a line with a run of three backticks or tildes can open or close a fence (FENCE
    # needs one): the others are passed over. (A test per line: searching the joined text for
    # a run of three finds each of many fences anew, and costs more.)
    marked = [k for k, line in enumerate(lines) if "```" in line or "~~~" in line]
    count = len(marked)
    pos = 0  # the next marked line to look at
    while pos < count:
        i = marked[pos]
        pos += 1
        m = FENCE.match(lines[i])
        if m is None:
            continue
        marker, info = m.group(2, 3)
        char = marker[0]
        if char == "`" and "`" in info:
            continue
        size = len(marker)
        run = char * 3  # in every line that can close this fence: a marked line
        j = n
        while pos < count:
            k = marked[pos]
            pos += 1
            line = lines[k]
            close = FENCE.match(line) if run in line else None
            if close is not None:
                closing, rest = close.group(2, 3)
                if closing[0] == char and len(closing) >= size and not rest.strip():
                    j = k
                    break
        if j < n:
            inside[i : j + 1] = [True] * (j + 1 - i)
            continue
        end = n - 1
        for h in range(i + 1, n):
            if (_HEADING_LIKE.match(lines[h]) or _RULE.match(lines[h])) and not lines[
                h - 1
            ].strip():
                end = h - 1
                break
        inside[i : end + 1] = [True] * (end + 1 - i)
        unclosed.append(i)
        pos = bisect.bisect_right(marked, end)  # the marked lines after the recovered fence
    return inside, unclosed
