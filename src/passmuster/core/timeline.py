"""How an event of an issue's timeline reads to a person (pure).

Events keep list fields as JSON text (`core.issues.value_text`), exact but unreadable:
`[{"text": "Create the endpoint", "done": true}]`. `describe_event` says what changed instead:
`checked 'Create the endpoint'`, `added label 'auth'`. The CLI's `show` and the issue page use it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from passmuster.core.issues import Event

# The word for one entry of each list field.
_ENTRY = {
    "services": "service",
    "labels": "label",
    "error_details": "error block",
    "files_changed": "file",
    "tasks": "task",
    "extra_sections": "section",
    "links": "link",
}


def describe_event(event: Event) -> str:
    """One line: `status open -> in_progress`, `severity: medium -> high`, `checked 'X'`."""
    kind = event.kind
    if kind == "status":
        return f"status {event.old or '?'} -> {event.new or '?'}"
    if kind == "changed":
        if event.field in _ENTRY:
            listed = _list_change(event.field, event.old, event.new)
            if listed is not None:
                return listed
        return f"{event.field}: {short(event.old)} -> {short(event.new)}"
    if kind == "created":
        return f"filed ({event.new})" if event.new else "filed"
    if kind in ("acknowledged", "commented"):
        return kind
    if kind in ("linked", "unlinked") and event.new and event.new.isdigit():
        return f"{kind}: {(event.field or '').replace('_', ' ')} #{int(event.new):03d}"
    if kind == "escalated":
        return f"escalated: {event.field} clock {event.new or ''}".strip()
    if kind == "released":
        return f"claim released by {event.old}"
    if kind == "lease_expired":
        return f"claim by {event.old} ran out; back in the ready queue"
    if kind == "assigned":
        return f"assigned to {event.new}" if event.new else "unassigned"
    detail = " ".join(part for part in (event.field, event.new and short(event.new, 80)) if part)
    return f"{kind} {detail}".strip()


def short(text: str | None, width: int = 40) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis."""
    if not text:
        return "(empty)"
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"


def _list_change(field: str, old: str | None, new: str | None) -> str | None:
    """What changed in a list field, or None when the texts are not lists."""
    before, after = _entries(old), _entries(new)
    if before is None or after is None:
        return None
    name = _ENTRY[field]
    key = _KEYS.get(field, _text)
    changes: list[str] = []
    if field == "tasks":
        done_before = {key(t): bool(t.get("done")) for t in before if isinstance(t, dict)}
        for task in after:
            if isinstance(task, dict) and key(task) in done_before:
                was, now = done_before[key(task)], bool(task.get("done"))
                if was != now:
                    changes.append(f"{'checked' if now else 'unchecked'} {_quoted(key(task))}")
    had = [key(item) for item in before]
    has = [key(item) for item in after]
    changes += [f"added {name} {_quoted(k)}" for k in has if k not in had]
    changes += [f"removed {name} {_quoted(k)}" for k in had if k not in has]
    if field == "extra_sections":
        bodies = {key(s): s.get("body") for s in before if isinstance(s, dict)}
        changes += [
            f"changed {name} {_quoted(key(s))}"
            for s in after
            if isinstance(s, dict) and key(s) in bodies and bodies[key(s)] != s.get("body")
        ]
    if not changes:
        return f"reordered {field.replace('_', ' ')}" if had != has else f"{field} unchanged"
    shown = "; ".join(changes[:3])
    return shown + (f" (+{len(changes) - 3} more)" if len(changes) > 3 else "")


def _entries(text: str | None) -> list[object] | None:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def _text(item: object) -> str:
    return item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)


def _field(name: str) -> Callable[[object], str]:
    def key(item: object) -> str:
        return str(item.get(name, "")) if isinstance(item, dict) else _text(item)

    return key


_KEYS: dict[str, Callable[[object], str]] = {
    "tasks": _field("text"),
    "files_changed": _field("path"),
    "extra_sections": _field("name"),
    "links": lambda item: (
        f"{item.get('kind', '')} #{item.get('target', '')}" if isinstance(item, dict) else ""
    ),
}


def _quoted(text: str) -> str:
    return f"'{short(text, 60)}'"
