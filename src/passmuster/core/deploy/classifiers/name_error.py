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

_NAME = re.compile(r"name '([^']+)' is not defined")
_LINE = re.compile(
    rf"{LINE_PREFIX}NameError: (?P<message>name '(?P<name>[^']+)' is not defined.*)$", re.M
)


class NameErrorAtImport(Classifier):
    """## What it catches
    A service that crashes while its code is imported with `NameError: name '…' is not
    defined`: a dependency such as `Depends(get_current_user)` used in a route decorator or a
    signature above the function's definition, or a name used before the import that brings it.

    ## Why it happens
    Module-level code runs top to bottom. Decorators, default values and (with FastAPI) the
    annotations of route functions are evaluated when the module is imported, so a helper
    defined further down the file does not exist yet. It often arrives when code is moved
    between services or a file is reordered.

    ## How to fix it
    Define the helper above its first use (right after the app is created), or move it into a
    module the routes import. The scanner's CODE002 finds these names before anything runs.
    """

    name = "name-error"
    title = "Services crash at import: a name is used before it is defined"
    order = 40
    predicted_by = ("CODE002",)

    def match(self, evidence: Evidence) -> Match | None:
        error = evidence.python_error
        if error is not None and error.type != "NameError":
            return None  # a traceback says what failed, and it was something else
        if error is None:
            line = last_match(_LINE, evidence.text, ("NameError: ",))
            if line is None:
                return None
            return Match(
                f"NameError: {line.group('message').strip()}",
                around(evidence.text, line.start(), line.end()),
                line.group("name"),
            )
        found = _NAME.search(error.message)
        subject = found.group(1) if found else None
        summary = f"NameError: {error.message}" if error.message else "NameError at import"
        return Match(summary, traceback_excerpt(evidence.text, error), subject)
