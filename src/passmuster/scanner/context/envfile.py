"""`.env` files as compose reads them: `KEY=value`, quotes, inline comments, `export` prefixes.

Duplicates are kept in order (a rule reports them); a line that is not an assignment becomes a
parse problem with its line number.
"""

from __future__ import annotations

import re

from passmuster.scanner.context.model import EnvEntry, EnvFile, ParseProblem

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def parse_env_file(text: str, path: str) -> EnvFile:
    result = EnvFile(path)
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number = index + 1
        raw = lines[index]
        index += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        if "=" not in stripped:
            key = stripped.split("#", 1)[0].strip()
            if _KEY.match(key):
                continue  # a bare name: passed through from the environment, no value here
            result.problems.append(ParseProblem(path, number, f"not KEY=value: {raw.strip()!r}"))
            continue
        key, _, value = stripped.partition("=")
        key = key.strip()
        if not _KEY.match(key):
            result.problems.append(ParseProblem(path, number, f"invalid variable name {key!r}"))
            continue
        value = value.strip()
        quoted = False
        quote = ""
        if value[:1] in ("'", '"'):
            quote = value[0]
            body = value[1:]
            # A quoted value may span lines until its closing quote.
            while not _closes(body, quote) and index < len(lines):
                body += "\n" + lines[index]
                index += 1
            end = _closing(body, quote)
            if end < 0:
                result.problems.append(ParseProblem(path, number, f"unclosed {quote} in {key}"))
                continue
            value = body[:end]
            if quote == '"':
                value = value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
            quoted = True
        else:
            comment = re.search(r"\s#", value)
            if comment:
                value = value[: comment.start()].rstrip()
        result.entries.append(EnvEntry(key, value, number, quoted, quote))
    return result


def _closing(body: str, quote: str) -> int:
    i = 0
    while i < len(body):
        if body[i] == "\\" and quote == '"':
            i += 2
            continue
        if body[i] == quote:
            return i
        i += 1
    return -1


def _closes(body: str, quote: str) -> bool:
    return _closing(body, quote) >= 0
