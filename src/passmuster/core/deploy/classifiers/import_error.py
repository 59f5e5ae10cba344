from __future__ import annotations

import re

from passmuster.core.deploy.classify import (
    LINE_PREFIX,
    Classifier,
    Evidence,
    Match,
    around,
    last_match,
    traceback_excerpt,
)

_NAME = re.compile(r"cannot import name '([^']+)'")
_MODULE = re.compile(r"No module named '([^']+)'")
_WHERE = re.compile(r"\s+\((?:/|[A-Za-z]:\\|unknown location)[^)]*\)$")
# The exception line alone, when a tool printed no traceback (or only its last line).
_LINE = re.compile(
    rf"{LINE_PREFIX}(?P<type>ModuleNotFoundError|ImportError): (?P<message>.+)$", re.M
)
_LINE_NEEDLES = ("ModuleNotFoundError: ", "ImportError: ")
# The server's own account when the app module does not import: uvicorn's `Error loading ASGI
# app. Could not import module "app.main"`, Flask's `Error: Could not import 'app'.` and
# `NoAppException: Could not import "main".`
_ASGI = re.compile(
    r"(?:Error loading ASGI app\. )?Could not import (?:module )?[\"'](?P<module>[^\"'\n]+)[\"']|"
    r"Error loading ASGI app\. Attribute \"(?P<attr>[^\"]+)\" not found in module \"[^\"]+\"|"
    # Celery: `Unable to load celery application.` then `The module proj was not found.` or
    # `Module 'proj' has no attribute 'celery'`.
    r"Unable to load celery application\.(?:[ \t]*\n(?:[^\n|]*\| ?)?)?[ \t]*"
    r"(?:The module (?P<cmodule>[\w.]+) was not found|"
    r"Module '[^'\n]+' has no attribute '(?P<cattr>[^'\n]+)')"
)
_ASGI_NEEDLES = ("Could not import ", "Error loading ASGI app", "Unable to load celery application")


class ImportErrorAtStart(Classifier):
    """## What it catches
    A service that cannot import its own code: `ImportError: cannot import name 'HTTPStatus'
    from 'fastapi'`, `ModuleNotFoundError: No module named 'asyncpg'`, uvicorn's `Error
    loading ASGI app. Could not import module "app.main"`, Flask's `Could not import 'app'` and
    Celery's `Unable to load celery application`.

    ## Why it happens
    A name imported from a package that does not export it (`HTTPStatus` lives in `http`, not
    `fastapi`), a package the code uses but the service's requirements do not install (a
    database driver named in a URL), or a start command pointing at a module that moved.

    ## How to fix it
    Import the name from where it is defined, add the missing package to the service's own
    requirements, or correct the module path in the command. The scanner's CODE001 (missing
    import name), REQ005 (missing database driver) and CODE003 (unresolved entry point) find
    these before a deploy.
    """

    name = "import-error"
    title = "Services crash at import: ImportError / ModuleNotFoundError"
    order = 50
    predicted_by = ("CODE001", "REQ005", "CODE003")

    def match(self, evidence: Evidence) -> Match | None:
        text = evidence.text
        error = evidence.python_error
        if error is not None and error.type in ("ImportError", "ModuleNotFoundError"):
            name = _NAME.search(error.message)
            module = _MODULE.search(error.message)
            subject = name.group(1) if name else module.group(1).split(".")[0] if module else None
            if subject is None:
                subject = _raised_from(text, error.start)
            # "… from 'fastapi' (/venv/…/fastapi/__init__.py)": the path differs per machine.
            message = _WHERE.sub("", error.message)
            return Match(f"{error.type}: {message}", traceback_excerpt(text, error), subject)
        line = last_match(_LINE, text, _LINE_NEEDLES) if error is None else None
        if line is not None:
            message = _WHERE.sub("", line.group("message").strip())
            name = _NAME.search(message)
            module = _MODULE.search(message)
            subject = name.group(1) if name else module.group(1).split(".")[0] if module else None
            return Match(
                f"{line.group('type')}: {message}", around(text, line.start(), line.end()), subject
            )
        found = last_match(_ASGI, text, _ASGI_NEEDLES)
        if found is None:
            return None
        subject = next(
            (found.group(g) for g in ("module", "attr", "cmodule", "cattr") if found.group(g)),
            None,
        )
        line_end = text.find("\n", found.end())
        summary = text[found.start() : line_end if line_end >= 0 else len(text)].strip()
        return Match(summary, around(text, found.start(), found.end()), subject)


def _raised_from(text: str, before: int) -> str | None:
    """What the import error just above `before` names: Django's `Couldn't import Django. Are
    you sure it's installed…` names nothing, the `No module named 'django'` it was raised from
    does."""
    earlier = last_match(_LINE, text[max(0, before - 4000) : before], _LINE_NEEDLES)
    if earlier is None:
        return None
    name = _NAME.search(earlier.group("message"))
    module = _MODULE.search(earlier.group("message"))
    return name.group(1) if name else module.group(1).split(".")[0] if module else None
