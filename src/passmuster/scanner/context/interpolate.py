"""Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`,
`${VAR?e}`, `${VAR:+r}`, `${VAR+r}`, `$$`, with nested templates inside the default.

Written here because no maintained Python library implements the compose rules (python-dotenv and
os.path.expandvars each do a different subset); the behaviour follows the compose specification
and compose-go's template tests, which tests/scanner/test_interpolate.py replays.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

_NAME_START = frozenset("_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
# Longest first so ":-" wins over "-" at the same position.
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class TemplateError(ValueError):
    """An invalid template, or a required variable without a value."""


class RequiredVariableMissing(TemplateError):
    """`${VAR:?message}` without a value: the file is fine, whoever runs it must set VAR."""


@dataclass(frozen=True, slots=True)
class VariableUse:
    """One variable a template referred to, and how."""

    name: str
    operator: str | None  # None for plain $VAR / ${VAR}
    default: str | None  # the raw text after the operator
    is_set: bool

    @property
    def has_default(self) -> bool:
        return self.operator in (":-", "-")

    @property
    def required(self) -> bool:
        return self.operator in (":?", "?")


@dataclass(slots=True)
class Interpolator:
    """Substitute templates against `values`, remembering every variable used."""

    values: Mapping[str, str]
    uses: list[VariableUse] = field(default_factory=list)

    def __call__(self, text: str) -> str:
        if "$" not in text:
            return text
        return _substitute(text, self.values.get, self.uses)


class Interpolated(str):
    """A value after interpolation that remembers the template it came from, so rules can
    judge `${VAR:-fallback}` by its fallback as well as by its value."""

    template: str

    def __new__(cls, value: str, template: str) -> Interpolated:
        made = super().__new__(cls, value)
        made.template = template
        return made


def template_of(value: object) -> str | None:
    """The template an interpolated value came from, or None for a literal."""
    return value.template if isinstance(value, Interpolated) else None


def variables_in(template: str) -> list[VariableUse]:
    """The variables a template refers to (also inside defaults), unset; [] when invalid."""
    found = Interpolator({})
    with contextlib.suppress(TemplateError):
        found(template)
    return found.uses


def fallback_of(template: str) -> str | None:
    """What a template gives when none of its variables is set (its defaults), or None when
    it is invalid or requires a variable."""
    try:
        return interpolate(template, {})
    except TemplateError:
        return None


def interpolate(text: str, values: Mapping[str, str]) -> str:
    """Substitute one template; raises TemplateError for invalid or unmet required variables."""
    return Interpolator(values)(text)


def _substitute(text: str, lookup: Callable[[str], str | None], uses: list[VariableUse]) -> str:
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch != "$":
            j = text.find("$", i)
            if j < 0:
                out.append(text[i:])
                break
            out.append(text[i:j])
            i = j
            continue
        nxt = text[i + 1] if i + 1 < n else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt in _NAME_START and nxt:
            j = i + 1
            while j < n and text[j] in _NAME_CHARS:
                j += 1
            name = text[i + 1 : j]
            value = lookup(name)
            uses.append(VariableUse(name, None, None, value is not None))
            out.append(value or "")
            i = j
        elif nxt == "{":
            end = _closing_brace(text, i + 2)
            if end < 0:
                raise TemplateError(f"Invalid template: {text!r} (unclosed '${{')")
            out.append(_braced(text[i + 2 : end], text, lookup, uses))
            i = end + 1
        else:
            raise TemplateError(f"Invalid template: {text!r} (write '$$' for a literal '$')")
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` closing a `${` whose body starts at `start`, nested templates included."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "$" and i + 1 < len(text) and text[i + 1] == "$":
            i += 2
            continue
        if ch == "$" and i + 1 < len(text) and text[i + 1] == "{":
            depth += 1
            i += 2
            continue
        if ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _braced(
    body: str, whole: str, lookup: Callable[[str], str | None], uses: list[VariableUse]
) -> str:
    j = 0
    while j < len(body) and body[j] in _NAME_CHARS:
        j += 1
    name = body[:j]
    if not name or name[0] not in _NAME_START:
        raise TemplateError(f"Invalid template: {whole!r}")
    rest = body[j:]
    if not rest:
        value = lookup(name)
        uses.append(VariableUse(name, None, None, value is not None))
        return value or ""
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise TemplateError(f"Invalid template: {whole!r}")
    argument = rest[len(operator) :]
    value = lookup(name)
    uses.append(VariableUse(name, operator, argument, value is not None))
    empty = value is None or value == ""
    if operator == ":-":
        return _substitute(argument, lookup, uses) if empty else value or ""
    if operator == "-":
        return _substitute(argument, lookup, uses) if value is None else value
    if operator in (":?", "?"):
        missing = empty if operator == ":?" else value is None
        if missing:
            message = _substitute(argument, lookup, uses)
            detail = f": {message}" if message else ""
            raise RequiredVariableMissing(f"required variable {name} is missing a value{detail}")
        return value or ""
    if operator == ":+":
        return "" if empty else _substitute(argument, lookup, uses)
    return "" if value is None else _substitute(argument, lookup, uses)  # "+"
