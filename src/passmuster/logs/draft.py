"""One issue written like an entry of a log: `passmuster new --from-file FILE.md` and `$EDITOR`.

The same reader as `passmuster import`, so a draft understands every field name, language and
layout a log does:

    # Database driver conflicts

    **Severity**: Critical
    **Services**: identity-service, user-service

    ## Description
    Shared requirements pin both asyncpg and psycopg2-binary.

HTML comments (the editor template's instructions) are not part of the draft, and an empty
field or section is a field left unset.
"""

from __future__ import annotations

import re

from passmuster.core.issues import IssueDraft
from passmuster.errors import ParseError
from passmuster.logs.model import LogWarning
from passmuster.logs.reader import read_text

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _without_comments(text: str) -> str:
    """Comments blanked out, keeping every line where it was (warnings cite lines)."""
    return _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def read_draft(text: str, path: str) -> tuple[IssueDraft, list[LogWarning]]:
    """The one issue a draft holds, and what the reader warned about.

    A ParseError names `path` (and the line) when the text holds no issue or several. An empty
    `# ` heading gives an empty title: the caller decides what a draft without one means.
    """
    body = _without_comments(text)
    if not body.strip():
        raise ParseError(path, None, "the draft is empty")
    log = read_text(body, path)
    if not log.issues:  # one entry without the marks of a log: the file is that entry
        log = read_text(body, path, family="single")
    if len(log.issues) > 1:
        raise ParseError(
            path,
            log.issues[1].line,
            f"holds {len(log.issues)} issues; `passmuster import {path}` files a whole log",
        )
    if not log.issues:
        first = next(n for n, line in enumerate(body.split("\n"), start=1) if line.strip())
        raise ParseError(path, first, "start the draft with a '# Title' line")
    parsed = log.issues[0]
    draft = parsed.draft
    lines = body.split("\n")
    heading = lines[parsed.line - 1]
    if not heading.lstrip().startswith(("#", "**", "__")):
        first = next(n for n, line in enumerate(lines, start=1) if line.strip())
        raise ParseError(path, first, "start the draft with a '# Title' line")
    if not heading.lstrip(" #").strip():
        draft.title = ""
    # The template's empty fence under Error Details is no error block.
    draft.error_details = [block for block in draft.error_details if block.strip()]
    draft.source = None  # filed by hand, not imported: a later import must not match it
    return draft, log.warnings
