from __future__ import annotations

import re

from passmuster.core.deploy.classify import (
    LINE_PREFIX,
    Classifier,
    Evidence,
    Match,
    around,
    last_match,
    lines_after,
    traceback_excerpt,
)

_VAR = r"[A-Za-z_][A-Za-z0-9_]{1,}"
_TEXT = re.compile(
    rf"required variable (?P<v1>{_VAR}) is missing a value|"
    rf"(?:[Ee]nvironment variable|env var)\s+['\"`]?(?P<v2>{_VAR})['\"`]?\s+"
    r"(?:is\s+)?(?:not set|missing|required|must be set|is required|undefined)|"
    rf"[Mm]issing (?:required )?environment variables?:?\s*['\"`]?(?P<v3>{_VAR})|"
    rf"Set the (?P<v4>{_VAR}) environment variable|"
    rf"\b(?P<v5>[A-Z][A-Z0-9_]{{2,}}) (?:is not set|must be set|is required but not set)|"
    # Compose v1: `Missing mandatory value for "environment" option interpolating
    # {'DB_PASSWORD': '${APP_DB_PASSWORD:?err}'} in service "db"`.
    rf"Missing mandatory value for [^\n]{{0,2000}}?\$\{{(?P<v6>{_VAR}):?\?|"
    # Django: `ImproperlyConfigured: The SECRET_KEY setting must not be empty.`
    r"The (?P<v7>[A-Z][A-Z0-9_]{2,}) setting must not be empty",
)
_KEY_ERROR = re.compile(rf"{LINE_PREFIX}KeyError: ['\"](?P<name>{_VAR})['\"]\s*$", re.M)
_SETTINGS_LINE = re.compile(
    r"ValidationError: \d+ validation errors? for (?P<model>\w*(?:Settings|Config)\w*)"
)
_PYDANTIC_MISSING = re.compile(
    r"validation errors? for (?P<model>\w*Settings\w*|\w*Config\w*)\n"
    rf"(?P<field>{_VAR})\n\s+Field required",
)

_TEXT_NEEDLES = (
    "is missing a value",
    "nvironment variable",
    "env var",
    " is not set",
    " must be set",
    " is required but not set",
    "Missing mandatory value",
    "setting must not be empty",
)


class MissingEnv(Classifier):
    """## What it catches
    A service that stops at start-up because an environment variable is not set:
    `KeyError: 'DATABASE_URL'` raised by `os.environ[...]`, a pydantic `Settings` model with a
    `Field required`, compose's `required variable X is missing a value` (compose v1's `Missing
    mandatory value`), and messages such as `environment variable JWT_SECRET is not set`.

    ## Why it happens
    The variable is set for one service and forgotten for its sibling (a worker built from the
    API's image), renamed in the code but not in compose, or expected from a `.env` file that
    exists on one machine only.

    ## How to fix it
    Set the variable in the service's `environment:` (or an `env_file` the repository keeps)
    next to its siblings; give the code a safe default only when one exists. The scanner's
    ENV005 lists variables a service's siblings set that it lacks, ENV001 the compose variables
    with no value.
    """

    name = "missing-env"
    title = "Services stop at start-up: an environment variable is not set"
    order = 30
    predicted_by = ("ENV005", "ENV001")

    def match(self, evidence: Evidence) -> Match | None:
        text = evidence.text
        error = evidence.python_error
        if error is not None and error.type == "KeyError":
            name = error.message.strip("'\" ")
            if re.fullmatch(_VAR, name) and _from_environ(error.frames, name):
                return Match(
                    f"environment variable {name} is not set (KeyError)",
                    traceback_excerpt(text, error),
                    name,
                )
        if error is None:
            # A traceback whose head was cut off: the KeyError line, `environ` just above it.
            key = last_match(_KEY_ERROR, text, ("KeyError: ",))
            if key is not None and _from_environ(
                text[max(0, key.start() - 600) : key.start("name")], key.group("name")
            ):
                name = key.group("name")
                return Match(
                    f"environment variable {name} is not set (KeyError)",
                    around(text, key.start(), key.end(), before=6, after=1),
                    name,
                )
        settings = last_match(_SETTINGS_LINE, text, ("validation error",))
        if settings is not None and (error is None or error.type == "ValidationError"):
            # pydantic lists each field on its own line, "Field required" under it.
            following = lines_after(text, settings.end(), 40)
            for index, line in enumerate(following[1:], start=1):
                if line.strip().startswith("Field required"):
                    name = following[index - 1].strip().upper().replace(".", "__")
                    model = settings.group("model")
                    excerpt = (
                        traceback_excerpt(text, error, extra=index + 1)
                        if error is not None
                        else around(text, settings.start(), settings.end(), after=index + 1)
                    )
                    return Match(
                        f"environment variable {name} is not set ({model}: field required)",
                        excerpt,
                        name,
                    )
        missing = last_match(_PYDANTIC_MISSING, text, ("validation error",))
        if missing is not None:
            name = missing.group("field").upper()
            return Match(
                f"environment variable {name} is not set ({missing.group('model')}: field "
                "required)",
                around(text, missing.start(), missing.end()),
                name,
            )
        found = last_match(_TEXT, text, _TEXT_NEEDLES)
        if found is None:
            return None
        name = next(v for v in found.groups() if v)
        return Match(
            f"environment variable {name} is not set",
            around(text, found.start(), found.end()),
            name,
        )


def _from_environ(frames: str, name: str) -> bool:
    """Whether a KeyError for `name` came from looking the environment up: `os.environ[...]`
    in the frames, or (Python 2, whose `os.environ` is a `UserDict`) UserDict's `__getitem__`
    failing on a name spelled like a variable."""
    return "environ" in frames or ("UserDict.py" in frames and name.isupper())
