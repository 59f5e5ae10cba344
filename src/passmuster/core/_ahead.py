"""Functions that libraries write as source and compile with `exec` at every start, compiled
ahead instead.

`dataclasses` writes each class's `__init__`, `__repr__`, `__eq__` (...) as source and runs it
with `exec`; SQLAlchemy does the same for the signature-keeping wrappers of its decorators and
for its visitors' dispatch methods. Compiling those few lines costs about a million instructions
each time, for every class and decorator, in every process: more than a tenth of a short
command. A generated module (core/_dataclass_code.py, cli/_sqlalchemy_code.py) holds the same
sources as ordinary Python, which Python compiles once and caches as bytecode like any module.

`ahead_exec(functions)` makes an `exec` for such a library's module: a source found among the
generated `functions`, executed the way the library executes it, defines the function from the
code compiled ahead, exactly as `exec` would have defined it (same code, named "<string>" and
counted from line 1 as `exec` compiles it, same defaults, globals and namespace). Anything else
(a source the file does not hold, as after an upgrade) is compiled and executed as `exec` does,
with the `__future__` features of the library's module. Tests compare both ways for every
source held and keep the generated files current (tests/test_ahead.py).
"""

from __future__ import annotations
import __future__

import builtins
import sys
from collections.abc import Callable, Mapping, Sequence
from types import CodeType, FunctionType
from typing import Any

# The compiler flags `exec` takes over from the code calling it: its `__future__` features.
_FUTURE_FLAGS = 0
for _name in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _name).compiler_flag


def ahead_exec(
    functions: Mapping[str, FunctionType], flags: int, recorded: list[str] | None = None
) -> Callable[..., None]:
    """An `exec` using `functions` (source -> the function it defines, compiled with `flags`).

    With `recorded`, every source executed is appended to it (how the files are generated).
    """

    def exec_ahead(
        source: str | CodeType,
        globals: dict[str, Any] | None = None,
        locals: Mapping[str, Any] | None = None,
        /,
    ) -> None:
        caller = sys._getframe(1)
        if globals is None:  # exec's own default: the caller's namespaces
            globals = caller.f_globals
            locals = caller.f_locals if locals is None else locals
        inherited = caller.f_code.co_flags & _FUTURE_FLAGS
        if isinstance(source, str):
            if recorded is not None:
                recorded.append(source)
            ahead = functions.get(source) if inherited == flags else None
            if ahead is not None:
                globals.setdefault("__builtins__", builtins.__dict__)  # as exec does
                namespace: Any = globals if locals is None else locals
                namespace[ahead.__name__] = FunctionType(
                    as_if_from_exec(ahead.__code__), globals, ahead.__name__, ahead.__defaults__
                )
                return
            source = compile(source, "<string>", "exec", flags=inherited, dont_inherit=True)
        builtins.exec(source, globals, locals)

    return exec_ahead


def as_if_from_exec(code: CodeType) -> CodeType:
    """The code of a function compiled from the generated file, as `exec` compiles its source
    alone: the file named "<string>" and lines counted from the source's first (the `def`)."""
    return _moved(code, code.co_firstlineno - 1)


def _moved(code: CodeType, lines: int) -> CodeType:
    inner = tuple(_moved(c, lines) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(
        co_filename="<string>", co_firstlineno=code.co_firstlineno - lines, co_consts=inner
    )


def definable(source: str, flags: int) -> bool:
    """Whether `source` only defines one function, with constant defaults and nothing else (no
    decorator, annotation, keyword-only default or other statement): what `ahead_exec` makes
    from code compiled ahead. Other sources stay with `exec`."""
    if not source.startswith(("def ", "async def ")):
        return False
    name = source.split("def ", 1)[1].split("(", 1)[0]
    try:
        code = compile(source, "<string>", "exec", flags=flags, dont_inherit=True)
    except SyntaxError:
        return False
    if code.co_names != (name,):  # it reads no name (a default, a decorator), stores only it
        return False
    namespace: dict[str, Any] = {}
    builtins.exec(code, {}, namespace)
    if list(namespace) != [name]:
        return False
    (function,) = namespace.values()
    return (
        isinstance(function, FunctionType)
        and function.__kwdefaults__ is None
        and not function.__annotations__
        and function.__closure__ is None
    )


def module_source(sources: list[str], *, flags: int, doc: str) -> str:
    """The text of a generated module holding `sources` (those `definable` with `flags`)."""
    head = [f'"""{doc}"""', "# mypy: ignore-errors", "# fmt: off"]
    if flags & __future__.annotations.compiler_flag:
        head.append("from __future__ import annotations")
    head += [
        "from types import FunctionType",
        "",
        f"PYTHON = {tuple(sys.version_info[:2])!r}  # the Python whose libraries wrote them",
        "FUNCTIONS: dict[str, FunctionType] = {}",
    ]
    body: list[str] = []
    for source in dict.fromkeys(sources):  # each once, in the order they were written
        if definable(source, flags):
            name = source.split("def ", 1)[1].split("(", 1)[0]
            body += ["", source.rstrip("\n"), f"FUNCTIONS[{source!r}] = {name}"]
    return "\n".join([*head, *body, ""])


# A regular expression compiled ahead: what `re._compiler.compile` hands `_sre.compile` for it
# (its flags with those set inside the pattern, its code, its group count, names and numbers).
Compiled = tuple[int, tuple[int, ...], int, dict[str, int], tuple[str | None, ...]]


def ahead_compile(
    patterns: Mapping[Any, Compiled],
    compile_pattern: Callable[..., Any],
    recorded: list[tuple[str | bytes, int]] | None = None,
) -> Callable[..., Any]:
    """A `re._compiler.compile` using `patterns` ((pattern, flags) -> `Compiled`): the same
    pattern object made from the code compiled ahead, without parsing the pattern again (the
    part of `re.compile` written in Python). Anything else goes to `compile_pattern`."""
    import _sre  # type: ignore[import-not-found]

    def compile_ahead(pattern: Any, flags: int = 0) -> Any:
        if recorded is not None and isinstance(pattern, str | bytes):
            recorded.append((pattern, int(flags)))
        ahead = patterns.get((pattern, flags)) if isinstance(pattern, str | bytes) else None
        if ahead is None:
            return compile_pattern(pattern, flags)
        final_flags, code, groups, groupindex, indexgroup = ahead
        return _sre.compile(pattern, final_flags, list(code), groups, dict(groupindex), indexgroup)

    return compile_ahead


def compiled(pattern: str | bytes, flags: int) -> Compiled | None:
    """What `re._compiler.compile` gives `_sre.compile` for `pattern`, or None when compiling
    it says something (a warning, or the DEBUG flag's listing) that a copy would not repeat."""
    import re
    import warnings
    from re import _compiler, _parser  # type: ignore[attr-defined]

    if flags & re.DEBUG:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            parsed = _parser.parse(pattern, flags)
            code = _compiler._code(parsed, flags)
        except (Warning, re.error):
            return None
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    return (
        int(flags | parsed.state.flags),
        tuple(int(op) for op in code),
        parsed.state.groups - 1,
        groupindex,
        tuple(indexgroup),
    )


def patterns_source(patterns: Sequence[tuple[str | bytes, int]], *, doc: str) -> str:
    """The text of a generated module holding the compiled `patterns`."""
    import _sre

    lines = [
        f'"""{doc}"""',
        "# mypy: ignore-errors",
        "# fmt: off",
        "",
        f"PYTHON = {tuple(sys.version_info[:2])!r}  # the Python whose re module compiled them",
        f"MAGIC = {_sre.MAGIC!r}  # its regular expression engine's",
        "PATTERNS = {",
    ]
    for pattern, flags in dict.fromkeys(patterns):
        ahead = compiled(pattern, flags)
        if ahead is not None:
            lines.append(f"    {(pattern, flags)!r}: {ahead!r},")
    return "\n".join([*lines, "}", ""])
