"""How runtime error events (core.error_events) group into one issue, and whether one is about
the same cause as a scanner finding.

An event groups by its `fingerprint` when the client sent one (`{{ default }}` stands for the
default grouping, so `["{{ default }}", "tenant-a"]` splits a group by tenant); by default it
groups by the exception types and their in-app frames (module, or file without line numbers,
and function), so one cause reached from many requests, lines or values is one group. Without a
stack trace the exception's type and message group it; a log message groups by its template.
Nothing here touches a database or the network.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from passmuster.core.error_events import ErrorEvent, Frame

TITLE_LIMIT = 200
_VARIABLE = re.compile(r"^\{\{\s*([\w.]+)\s*\}\}$")
# Values that differ per request make poor group keys when nothing better is known.
_NOISE = re.compile(
    r"0x[0-9a-fA-F]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|\d+(?:\.\d+)*"
)


@dataclass(frozen=True, slots=True)
class Grouping:
    key: str  # 40 hex digits, stable across processes and versions of the event
    title: str
    culprit: str | None


def default_components(event: ErrorEvent) -> list[str]:
    """What the default grouping hashes: exception types and in-app frames, else messages."""
    parts: list[str] = []
    for exc in event.exceptions:
        frames = exc.in_app_frames or exc.frames
        parts.append(f"type:{exc.type}")
        if frames:
            parts.extend(f"frame:{_frame_key(f)}" for f in frames)
        else:
            parts.append(f"value:{_NOISE.sub('<n>', exc.value)}")
    if not parts and event.message_template is not None:
        parts.append(f"message:{_NOISE.sub('<n>', event.message_template)}")
    if not parts:
        parts.append(f"level:{event.level}")
    return parts


def _frame_key(frame: Frame) -> str:
    # Module and function, not line numbers: an edit elsewhere in the file keeps the group.
    where = frame.module or _basename(frame.filename) or "?"
    return f"{where}.{frame.function or '?'}"


def _basename(path: str | None) -> str | None:
    if not path:
        return None
    return re.split(r"[\\/]", path)[-1]


def group(event: ErrorEvent) -> Grouping:
    """The group an event belongs to (see the module docstring)."""
    if event.fingerprint:
        parts: list[str] = []
        for part in event.fingerprint:
            parts.extend(_expand(part, event))
    else:
        parts = default_components(event)
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8"), usedforsecurity=False)
    return Grouping(digest.hexdigest(), title(event), culprit(event))


def _expand(part: str, event: ErrorEvent) -> list[str]:
    match = _VARIABLE.match(part.strip())
    if match is None:
        return [f"custom:{part}"]
    name = match.group(1).lower()
    main = event.main
    if name == "default":
        return default_components(event)
    values: dict[str, str | None] = {
        "transaction": event.transaction,
        "type": main.type if main else None,
        "error.type": main.type if main else None,
        "error.value": main.value if main else None,
        "message": event.message_template,
        "level": event.level,
        "module": _top(event, lambda f: f.module),
        "function": _top(event, lambda f: f.function),
    }
    return [f"{name}:{values.get(name) or '<none>'}"]


def _top(event: ErrorEvent, pick: Any) -> str | None:
    frame = top_frame(event)
    return pick(frame) if frame is not None else None


def top_frame(event: ErrorEvent) -> Frame | None:
    """The innermost in-app frame of the main exception (where the app last had control)."""
    main = event.main
    if main is None:
        return None
    frames = main.in_app_frames or main.frames
    return frames[-1] if frames else None


def title(event: ErrorEvent) -> str:
    main = event.main
    if main is not None:
        text = f"{main.type}: {main.value}" if main.value else main.type
    else:
        text = event.message or f"{event.level} event"
    text = " ".join(text.split())
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 3] + "..."


def culprit(event: ErrorEvent) -> str | None:
    frame = top_frame(event)
    if frame is not None:
        where = frame.module or frame.filename or "?"
        return f"{where} in {frame.function or '?'}"
    return event.transaction


# --- what an issue shows ------------------------------------------------------------------------


def error_names(event: ErrorEvent) -> set[str]:
    """Names an error's message quotes (`'HTTPStatus'`, `"DATABASE_URL"`): what a scanner
    finding about the same cause names too."""
    text = " ".join(f"{e.type} {e.value}" for e in event.exceptions) or (event.message or "")
    return {m for m in re.findall(r"['\"`]([A-Za-z_][\w.\-]*)['\"`]", text) if len(m) > 1}


def frame_files(event: ErrorEvent) -> list[tuple[str, int | None]]:
    """(file, line) of every in-app frame of every exception, innermost first."""
    found: list[tuple[str, int | None]] = []
    for exc in reversed(event.exceptions):
        for frame in reversed(exc.in_app_frames):
            if frame.filename:
                found.append((frame.filename, frame.lineno))
    return found


def same_cause(
    event: ErrorEvent,
    finding_path: str,
    finding_line: int | None,
    finding_text: str,
) -> bool:
    """True when a scanner finding (path, line, message) and this error name the same cause:
    an in-app frame at the finding's file and line, or at its file with a name the error
    quotes appearing in the finding."""
    path = finding_path.replace("\\", "/").lstrip("./")
    if not path:
        return False
    names = error_names(event)
    for filename, line in frame_files(event):
        name = filename.replace("\\", "/")
        if not (name == path or name.endswith("/" + path) or path.endswith("/" + name)):
            continue
        if finding_line is not None and line == finding_line:
            return True
        if any(re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", finding_text) for n in names):
            return True
    return False


def fingerprint_for(service: str, key: str) -> str:
    """The desk issue's fingerprint for a group (issues.fingerprint)."""
    return f"error:{service}:{key}"
