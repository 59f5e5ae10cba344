"""Errors a user can cause and understand.

Every error that reaches a user is a `PassmusterError`: the CLI prints its message on one line and
exits with its `exit_code`; the API turns it into a JSON error with `status_code`. Anything else
that escapes is a bug in passmuster, not a user error.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class PassmusterError(Exception):
    """Base of every error meant for a user."""

    exit_code: int = 1
    status_code: int = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class InvalidValue(PassmusterError):
    """A value outside its allowed set; the message lists the valid ones."""

    exit_code = 2
    status_code = 422

    def __init__(self, field: str, value: object, valid: Iterable[str]) -> None:
        valid = tuple(valid)  # may be a one-shot iterator, and is used twice
        # A single entry describes what is wanted ("a list of texts"): "one of" would misread.
        expected = valid[0] if len(valid) == 1 else f"one of {', '.join(valid)}"
        super().__init__(f"invalid {field} {value!r}: expected {expected}", field=field)
        self.value = value
        self.valid = valid


class TooLong(InvalidValue):
    """A text or list longer than the desk takes; the message says by how much."""

    def __init__(self, field: str, size: int, limit: int, unit: str = "characters") -> None:
        PassmusterError.__init__(
            self, f"{field} is too long: {size:,} {unit} (at most {limit:,})", field=field
        )
        self.value = size
        self.valid = (f"at most {limit:,} {unit}",)


class NotFound(PassmusterError):
    exit_code = 3
    status_code = 404


class Conflict(PassmusterError):
    """Someone else changed the thing meanwhile; nothing was written."""

    exit_code = 4
    status_code = 409


class InvalidTransition(PassmusterError):
    exit_code = 4
    status_code = 409


class DeskNotFound(PassmusterError):
    """No desk here or in any parent folder."""

    exit_code = 3
    status_code = 500


class DeskError(PassmusterError):
    """The desk exists but cannot be used: corrupt, or from a newer passmuster."""

    exit_code = 5
    status_code = 500


class ConfigError(PassmusterError):
    """A configuration file or setting is wrong; names the file and the field."""

    exit_code = 2
    status_code = 500


class ParseError(PassmusterError):
    """Input that cannot be read, with the file and line at fault."""

    exit_code = 2
    status_code = 422

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = Path(path)
        self.line = line
        self.detail = message


class AuthError(PassmusterError):
    exit_code = 6
    status_code = 401


class Forbidden(PassmusterError):
    exit_code = 6
    status_code = 403
