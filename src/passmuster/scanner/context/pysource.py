"""Facts about one Python module, read from its syntax tree and never by importing it.

`ModuleFacts` walks a module once and keeps everything the code rules ask about (its imports,
web apps, routes, string constants, engine calls and names used before their definition); a
scanned file keeps its facts (`PythonFile.facts`), so five rules looking at one file cost one
walk.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from functools import cached_property

HTTP_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "options", "head", "trace", "api_route", "route"}
)
ROUTE_DECORATORS = HTTP_METHODS | {"websocket", "websocket_route"}
WEB_APP_CLASSES = frozenset({"FastAPI", "Flask", "Quart", "Starlette"})
ROUTER_CLASSES = frozenset({"APIRouter", "Blueprint", "Router"})
ENGINE_FACTORIES = frozenset({"create_engine", "create_async_engine"})
_BUILTINS = frozenset(dir(builtins))
_DYNAMIC_CALLS = frozenset({"globals", "vars", "exec", "_convert_", "setattr"})
# Settings classes: pydantic's BaseSettings and a project's own base (BaseServiceSettings).
_SETTINGS_BASES = ("Settings", "BaseConfig")
_SETTINGS_NAMES = frozenset({"settings", "config", "cfg", "conf"})
# Libraries that read environment variables themselves: a call to one reads these.
_IMPLICIT_READS = {"from_env": ("DOCKER_HOST",)}
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass(frozen=True, slots=True)
class ImportedName:
    """One `name` (or `name as alias`) of a `from module import ...` statement."""

    name: str
    alias: str | None
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class FromImport:
    """A `from X import Y` statement; `guarded` when it sits under `try/except ImportError`
    or `if TYPE_CHECKING:` (a deliberate fallback, or never run)."""

    module: str
    level: int
    names: tuple[ImportedName, ...]
    line: int
    end_line: int
    col: int
    end_col: int
    guarded: bool
    node: ast.ImportFrom = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class EarlyUse:
    """A name evaluated at import time on `line` but bound only later, on `defined_line`.

    `where` is `decorator`, `default`, `annotation`, `base` or `statement`. `deferred` is true
    for annotations under `from __future__ import annotations` read by a route decorator: no
    NameError, but FastAPI cannot resolve the dependency and treats it as a query parameter.
    `lazy` is true for an annotation nothing reads at import (a class attribute's, a function's
    that no route decorator reads): from Python 3.14 on annotations are evaluated only when
    read (PEP 649), so it is no error there.
    """

    name: str
    line: int
    col: int
    defined_line: int
    where: str
    deferred: bool
    lazy: bool = False


# Keywords of pydantic's `Field` naming the environment variable (v2 `alias`,
# `validation_alias`; v1 `env`).
_ALIAS_KEYWORDS = frozenset({"alias", "validation_alias", "env"})


@dataclass(frozen=True, slots=True)
class StringConstant:
    value: str
    line: int
    col: int
    # The environment variable this constant is the fallback for (`os.getenv("X", "...")`, or a
    # default of a pydantic settings field), when it is one.
    env_default_for: str | None
    # The name the value is given to, nearest first: the assigned variable or attribute, the
    # keyword argument, the dictionary key, or the called function (`allow_origins`,
    # `FRONTEND_URL`, `CORSMiddleware`); empty when none.
    context: tuple[str, ...] = ()
    in_settings: bool = False  # inside a settings class (pydantic BaseSettings): a default
    # Variables read before `env_default_for` in a chain of fallbacks
    # (`getenv("A", getenv("B", "..."))` gives B, then A here): any of them set replaces it.
    outer_defaults_for: tuple[str, ...] = ()
    # A piece of an f-string that an interpolation follows (`f"https://api-{env}.example.com"`
    # gives `https://api-`): its last word is cut short, not whole.
    cut: bool = False
    # The settings field this constant is the default of (`secret_key`), when it is one: the
    # name code reads, which an alias (`alias="JWT_SECRET"`) makes differ from the variable.
    field: str | None = None
    # The default is an attribute of a plain configuration class (`class Config:` with
    # `X = os.getenv("X", "...")`), read as `Config.X`, not a pydantic field.
    class_attribute: bool = False

    def overridden_by(self, environment: Container[str]) -> bool:
        """Whether an environment setting any variable this constant is the fallback for
        replaces it."""
        return any(v in environment for v in (self.env_default_for, *self.outer_defaults_for) if v)


@dataclass(frozen=True, slots=True)
class EngineCall:
    """A `create_engine`/`create_async_engine` call and where its URL comes from."""

    factory: str
    line: int
    url: str | None
    env_var: str | None


@dataclass(frozen=True, slots=True)
class EnvRead:
    """A read of an environment variable: `os.getenv("X", "d")`, `os.environ["X"]`,
    `config("X", default=…)` (python-decouple), `getattr(settings, "x", …)`, a pydantic
    settings field, or a library reading one itself (`docker.from_env()` reads DOCKER_HOST).

    `default` is the fallback when it is a string constant; `has_default` also covers other
    fallbacks. `module_level` when the read runs at import, not inside a function.
    """

    name: str
    has_default: bool
    default: str | None
    line: int
    module_level: bool
    # The settings field (`worker_metrics_host`) when the read is a pydantic settings field's:
    # code reads it through that attribute, and a field no code reads configures nothing.
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Imported:
    """An `import a.b` or `from .a import b` anywhere in the module (level 0 = absolute)."""

    module: str
    level: int
    names: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class _Deep:
    """What only a walk over the whole tree (function bodies included) can tell."""

    all_names: tuple[str, ...] | None
    web_apps: tuple[tuple[str, str, int], ...]
    routes: tuple[tuple[str, int], ...]
    strings: tuple[StringConstant, ...]
    engine_calls: tuple[EngineCall, ...]
    dynamic: bool
    env_reads: tuple[EnvRead, ...]
    at_import: frozenset[int]  # ids of the nodes that run when the module is imported


class ModuleFacts:
    """Facts about one module, each computed on first use: module-level statements are read
    in one pass; a walk over the whole tree happens only when a rule asks for what needs it."""

    def __init__(self, tree: ast.Module, text: str | None = None) -> None:
        self._text = text
        self._collector = _Collector(tree, text)
        self._module_pass_done = False
        self.future_annotations = self._collector.future

    def _module_pass(self) -> _Collector:
        if not self._module_pass_done:
            self._collector.module_pass()
            self._module_pass_done = True
        return self._collector

    @cached_property
    def _deep(self) -> _Deep:
        return self._collector.deep_pass()

    @property
    def from_imports(self) -> tuple[FromImport, ...]:
        return tuple(self._module_pass().from_imports)

    @property
    def early_uses(self) -> tuple[EarlyUse, ...]:
        return tuple(self._module_pass().early)

    @cached_property
    def defined(self) -> frozenset[str] | None:
        """Module-level names; None when unknowable (star import, `__getattr__`, names made
        at run time)."""
        collector = self._collector
        if collector.dynamic:
            return None
        # The source text, when known, rules out run-time names without walking the tree.
        maybe_dynamic = self._text is None or any(
            f"{name}(" in self._text for name in _DYNAMIC_CALLS
        )
        if maybe_dynamic and self._deep.dynamic:
            return None
        return frozenset(collector.first_binding)

    @property
    def all_names(self) -> tuple[str, ...] | None:
        return self._deep.all_names

    @property
    def web_apps(self) -> tuple[tuple[str, str, int], ...]:
        """(class, variable, line) of each `FastAPI()`/`Flask()`/… assignment."""
        return self._deep.web_apps

    @property
    def routes(self) -> tuple[tuple[str, int], ...]:
        """(path or router prefix, line) of each route."""
        return self._deep.routes

    @property
    def strings(self) -> tuple[StringConstant, ...]:
        return self._deep.strings

    @property
    def engine_calls(self) -> tuple[EngineCall, ...]:
        return self._deep.engine_calls

    @property
    def env_reads(self) -> tuple[EnvRead, ...]:
        return self._deep.env_reads

    @cached_property
    def imports(self) -> tuple[Imported, ...]:
        """Every import statement, at any depth (statements only are walked: cheap)."""
        found: list[Imported] = []
        for node in _statements(self._collector.tree.body):
            if isinstance(node, ast.Import):
                found.extend(Imported(a.name, 0, (), node.lineno) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                names = tuple(a.name for a in node.names)
                found.append(Imported(node.module or "", node.level, names, node.lineno))
        return tuple(found)

    @cached_property
    def module_imports(self) -> tuple[Imported, ...]:
        """Absolute imports written directly in the module body: they run whenever the module
        is imported, whatever the configuration (no `if`, `try` or function around them)."""
        found: list[Imported] = []
        for node in self._collector.tree.body:
            if isinstance(node, ast.Import):
                found.extend(Imported(a.name, 0, (), node.lineno) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = tuple(a.name for a in node.names)
                found.append(Imported(node.module, 0, names, node.lineno))
        return tuple(found)

    @cached_property
    def startup_calls(self) -> tuple[tuple[str, int], ...]:
        """(called name, line) of the calls made while the service starts: at import, and in
        start-up hooks (`@app.on_event("startup")`, a `lifespan`, `before_first_request`)."""
        return tuple(_startup_calls(self._collector.tree, set(self._deep.at_import)))

    @cached_property
    def function_calls(self) -> dict[str, tuple[str, ...]]:
        """The names each module-level function calls (to follow `init_db()` one step)."""
        return _function_calls(self._collector.tree)


_WEB_TOKENS = (
    *(f".{name}(" for name in ROUTE_DECORATORS),
    *(f"{name}(" for name in WEB_APP_CLASSES | ROUTER_CLASSES),
    "add_url_rule(",
    "add_route(",
    "Route(",
)


def may_define_web(text: str) -> bool:
    """Cheap text test before walking a module for apps and routes: False means it has none."""
    return any(token in text for token in _WEB_TOKENS)


def _call_name(node: ast.expr) -> str | None:
    """`f` for `f(...)` or `x.y.f(...)`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _const_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _unset_branches(guard: ast.If) -> Iterator[tuple[str, list[ast.stmt]]]:
    """(name, statements) for the branch of `guard` that runs when the variable `name` is
    unset or empty: the body of `if not x:` / `if x is None:`, the else of `if x:`."""
    test = guard.test
    if isinstance(test, ast.Name):
        yield test.id, guard.orelse
    elif (
        isinstance(test, ast.UnaryOp)
        and isinstance(test.op, ast.Not)
        and isinstance(test.operand, ast.Name)
    ):
        yield test.operand.id, guard.body
    elif (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Is | ast.Eq)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value in (None, "")
    ):
        yield test.left.id, guard.body


def env_var_of(node: ast.expr) -> str | None:
    """The variable name read by `os.getenv("X")`, `os.environ.get("X")`, `os.environ["X"]`."""
    if isinstance(node, ast.Call):
        name = _dotted(node.func) or ""
        # `os.environ.setdefault("X", "d")` is X's value too: "d" only when X is unset.
        if name.endswith(("getenv", "environ.get", "environ.setdefault")) and node.args:
            return _const_str(node.args[0])
        if name in ("config", "decouple.config", "env", "env.str") and node.args:
            # python-decouple's `config("X", default=…)`, environs' `env("X", …)`.
            found = _const_str(node.args[0])
            return found if found is not None and found.isupper() else None
        if (
            name == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id.lower() in _SETTINGS_NAMES
        ):
            attribute = _const_str(node.args[1])
            return attribute.upper() if attribute else None
    if isinstance(node, ast.Subscript) and (_dotted(node.value) or "").endswith("environ"):
        return _const_str(node.slice)
    # `settings.database_url`: pydantic settings read DATABASE_URL for it.
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id.lower() in _SETTINGS_NAMES
    ):
        return node.attr.upper()
    return None


def _default_argument(node: ast.Call) -> ast.expr | None:
    """The fallback given to an environment read (`getattr`'s third argument)."""
    position = 2 if _call_name(node.func) == "getattr" else 1
    if len(node.args) > position:
        return node.args[position]
    return next((k.value for k in node.keywords if k.arg == "default"), None)


def _env_read(node: ast.Call, module_level: bool) -> EnvRead | None:
    variable = env_var_of(node)
    if variable is not None:
        default = _default_argument(node)
        text = _const_str(default) if default is not None else None
        return EnvRead(variable, default is not None, text, node.lineno, module_level)
    implicit = _IMPLICIT_READS.get(_call_name(node.func) or "")
    if implicit and (_dotted(node.func) or "").startswith(("docker.", "DockerClient.")):
        return EnvRead(implicit[0], False, None, node.lineno, module_level)
    return None


_STARTUP_DECORATORS = frozenset(
    {"on_event", "before_first_request", "before_serving", "on_startup", "before_app_serving"}
)


def _is_startup_hook(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if node.name in ("lifespan", "startup", "on_startup", "startup_event"):
        return True
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = _call_name(target)
        if name in _STARTUP_DECORATORS:
            if name == "on_event" and isinstance(decorator, ast.Call):
                return bool(decorator.args) and _const_str(decorator.args[0]) == "startup"
            return True
    return False


def _called(node: ast.Call) -> str | None:
    """`requests.get` for `requests.get(…)`, `connect` for `self.pool.connect(…)`."""
    return _dotted(node.func) or _call_name(node.func)


def _calls_in(node: ast.AST) -> list[tuple[str, int]]:
    return [
        (name, child.lineno)
        for child in ast.walk(node)
        if isinstance(child, ast.Call) and (name := _called(child)) is not None
    ]


def _startup_calls(tree: ast.Module, at_import: set[int]) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) in at_import:
            name = _called(node)
            if name is not None:
                found.append((name, node.lineno))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_startup_hook(node):
            found.extend(_calls_in(node))
    return found


def _function_calls(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    return {
        stmt.name: tuple(dict.fromkeys(name for name, _ in _calls_in(stmt)))
        for stmt in tree.body
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _walk(tree: ast.Module, *, with_names: bool) -> Iterator[tuple[ast.AST, tuple[str, ...], bool]]:
    """Every node once, with the names its value is given to (nearest first: the assigned
    variable, keyword, dictionary key or called function; only `with_names`), and whether it
    runs when the module is imported (not in a function or lambda body; their decorators and
    defaults do run)."""
    stack: list[tuple[ast.AST, tuple[str, ...], bool]] = [(tree, (), True)]
    while stack:
        node, names, now = stack.pop()
        yield node, names, now
        if isinstance(node, ast.Constant):
            continue
        given = _given_names(node) if with_names and isinstance(node, _GIVING) else {}
        inherited = names
        if with_names and isinstance(node, ast.Call):
            call = _call_name(node.func)
            if call:
                inherited = (call, *names)
        evaluated_now: set[int] | None = None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = node.args
            early: list[ast.AST] = [*args.defaults, *(d for d in args.kw_defaults if d)]
            if not isinstance(node, ast.Lambda):
                early.extend(node.decorator_list)
            evaluated_now = {id(child) for child in early}
        for child in ast.iter_child_nodes(node):
            child_now = now and (evaluated_now is None or id(child) in evaluated_now)
            extra = given.get(id(child))
            stack.append((child, (extra, *inherited) if extra else inherited, child_now))


_GIVING = (ast.Assign, ast.AnnAssign, ast.keyword, ast.Dict, ast.Return)


# Clients that call an application in the same process, never over the network.
_IN_PROCESS_TRANSPORTS = frozenset({"ASGITransport", "WSGITransport"})
_IN_PROCESS_CLIENTS = frozenset({"TestClient"})


def _in_process_client(node: ast.Call) -> bool:
    """`TestClient(app, base_url=…)`, or a client given `transport=ASGITransport(app=…)`."""
    if (_call_name(node.func) or "").rsplit(".", 1)[-1] in _IN_PROCESS_CLIENTS:
        return True
    return any(
        k.arg == "transport"
        and isinstance(k.value, ast.Call)
        and (_call_name(k.value.func) or "").rsplit(".", 1)[-1] in _IN_PROCESS_TRANSPORTS
        for k in node.keywords
    )


_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical"})


def _is_message(node: ast.Call) -> bool:
    """`print(...)`, or a logger's method (`logger.info(...)`, `logging.warning(...)`)."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "print"
    if not isinstance(func, ast.Attribute) or func.attr not in _LOG_METHODS:
        return False
    receiver = func.value
    name = (
        receiver.id
        if isinstance(receiver, ast.Name)
        else receiver.attr
        if isinstance(receiver, ast.Attribute)
        else ""
    )
    return "log" in name.lower()


def _class_attribute_defaults(classes: list[ast.ClassDef]) -> dict[int, str]:
    """Constant id -> attribute, for the constants in `X = os.getenv("X", "...")` in the body
    of a plain configuration class: the value is the class attribute `X`, which code reads as
    `Config.X`. An attribute the class body itself uses (`URL = f"...{X}..."`) is left out."""
    found: dict[int, str] = {}
    for cls in classes:
        used = {
            n.id for n in ast.walk(cls) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
        for child in cls.body:
            if isinstance(child, ast.Assign) and len(child.targets) == 1:
                target, value = child.targets[0], child.value
            elif isinstance(child, ast.AnnAssign) and child.value is not None:
                target, value = child.target, child.value
            else:
                continue
            if not isinstance(target, ast.Name) or target.id in used:
                continue
            nodes = list(ast.walk(value))
            if not any(isinstance(n, ast.Call) and env_var_of(n) is not None for n in nodes):
                continue
            found.update((id(n), target.id) for n in nodes if isinstance(n, ast.Constant))
    return found


def _given_names(node: ast.AST) -> dict[int, str]:
    """For the children of `node` that are values given to a name: child id -> the name."""
    given: dict[int, str] = {}
    if isinstance(node, ast.Assign):
        name = next((n for n in map(_target_name, node.targets) if n), None)
        if name:
            given[id(node.value)] = name
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        name = _target_name(node.target)
        if name:
            given[id(node.value)] = name
    elif isinstance(node, ast.keyword) and node.arg:
        given[id(node.value)] = node.arg
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            key_name = _const_str(key) if key is not None else None
            if key_name:
                given[id(value)] = key_name
    elif isinstance(node, ast.Return) and node.value is not None:
        given[id(node.value)] = "return"
    return given


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, nested ones included (function and class bodies, if/try/with/for)."""
    stack = list(reversed(body))
    while stack:
        statement = stack.pop()
        yield statement
        for field_name in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(statement, field_name, None)
            if isinstance(children, list):
                for child in reversed(children):
                    if isinstance(child, ast.stmt):
                        stack.append(child)
                    elif isinstance(child, ast.ExceptHandler):
                        stack.extend(reversed(child.body))
        if isinstance(statement, ast.Match):
            for case in statement.cases:
                stack.extend(reversed(case.body))


def _target_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _const_str(node.slice) or _target_name(node.value)
    return None


def binds(stmt: ast.stmt) -> list[str]:
    """Names a module-level statement binds (not looking inside function or class bodies)."""
    out: list[str] = []

    def targets(node: ast.expr) -> None:
        if isinstance(node, ast.Name):
            out.append(node.id)
        elif isinstance(node, ast.Tuple | ast.List):
            for elt in node.elts:
                targets(elt)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    match stmt:
        case ast.FunctionDef() | ast.AsyncFunctionDef() | ast.ClassDef():
            out.append(stmt.name)
        case ast.Assign():
            for target in stmt.targets:
                targets(target)
        case ast.AugAssign():
            targets(stmt.target)
        case ast.AnnAssign() if stmt.value is not None:
            targets(stmt.target)
        case ast.For() | ast.AsyncFor():
            targets(stmt.target)
        case ast.With() | ast.AsyncWith():
            for item in stmt.items:
                if item.optional_vars is not None:
                    targets(item.optional_vars)
        case ast.Import():
            for alias in stmt.names:
                out.append(alias.asname or alias.name.split(".")[0])
        case ast.ImportFrom():
            for alias in stmt.names:
                if alias.name != "*":
                    out.append(alias.asname or alias.name)
        case ast.Try():
            for handler in stmt.handlers:
                if handler.name:
                    out.append(handler.name)
    return out


def _child_blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """Statement lists run at the same scope as `stmt` (if/try/with/for bodies)."""
    match stmt:
        case ast.If() | ast.For() | ast.AsyncFor() | ast.While():
            return [stmt.body, stmt.orelse]
        case ast.With() | ast.AsyncWith():
            return [stmt.body]
        case ast.Try() | ast.TryStar():
            return [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]
        case ast.Match():
            return [case.body for case in stmt.cases]
    return []


def _is_type_checking(test: ast.expr) -> bool:
    return (_dotted(test) or "").endswith("TYPE_CHECKING")


def _catches_import_error(stmt: ast.Try | ast.TryStar) -> bool:
    for handler in stmt.handlers:
        if handler.type is None:
            return True
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(_call_name(kind) in _IMPORT_ERRORS for kind in kinds):
            return True
    return False


def _loads(node: ast.AST) -> list[ast.Name]:
    """Names read when `node` is evaluated now: lambda bodies wait, comprehension targets are
    their own."""
    found: list[ast.Name] = []
    local: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Lambda):
            stack.extend(current.args.defaults)
            stack.extend(d for d in current.args.kw_defaults if d is not None)
            continue
        if isinstance(current, ast.comprehension):
            local.update(n.id for n in ast.walk(current.target) if isinstance(n, ast.Name))
        if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Load):
            found.append(current)
        stack.extend(ast.iter_child_nodes(current))
    return [n for n in found if n.id not in local]


def _is_route_decorator(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ROUTE_DECORATORS
    )


class _Collector:
    def __init__(self, tree: ast.Module, text: str | None = None) -> None:
        self.tree = tree
        self._text = text  # the source, when known: lets some walks be skipped
        self.future = any(
            isinstance(s, ast.ImportFrom)
            and s.module == "__future__"
            and any(a.name == "annotations" for a in s.names)
            for s in tree.body
        )
        self.first_binding: dict[str, int] = {}
        self.dynamic = False
        self._index_bindings(tree.body)
        self.from_imports: list[FromImport] = []
        self.early: list[EarlyUse] = []

    # -- module-level bindings ------------------------------------------------------------
    def _index_bindings(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            for name in binds(stmt):
                self.first_binding.setdefault(name, stmt.lineno)
            if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
                self.dynamic = True
            if isinstance(stmt, ast.FunctionDef) and stmt.name == "__getattr__":
                self.dynamic = True
            for block in _child_blocks(stmt):
                self._index_bindings(block)

    # -- names read before they are bound -----------------------------------------------------
    def _check(
        self,
        node: ast.AST,
        bound: set[str],
        where: str,
        deferred: bool = False,
        lazy: bool = False,
    ) -> None:
        for name in _loads(node):
            defined = self.first_binding.get(name.id)
            if (
                defined is not None
                and name.id not in bound
                and defined > name.lineno
                and name.id not in _BUILTINS
            ):
                self.early.append(
                    EarlyUse(name.id, name.lineno, name.col_offset, defined, where, deferred, lazy)
                )

    def _function_header(
        self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, bound: set[str]
    ) -> None:
        for decorator in stmt.decorator_list:
            self._check(decorator, bound, "decorator")
        args = stmt.args
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self._check(default, bound, "default")
        annotations = [
            a.annotation
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            if a is not None and a.annotation is not None
        ]
        if stmt.returns is not None:
            annotations.append(stmt.returns)
        route = any(_is_route_decorator(d) for d in stmt.decorator_list)
        if not self.future:
            for annotation in annotations:
                self._check(annotation, bound, "annotation", lazy=not route)
        elif route:
            for annotation in annotations:
                self._check(annotation, bound, "annotation", deferred=True)

    def _walk_scope(self, body: list[ast.stmt], bound: set[str], guarded: bool) -> None:
        for stmt in body:
            self._statement(stmt, bound, guarded)
            bound.update(binds(stmt))

    def _statement(self, stmt: ast.stmt, bound: set[str], guarded: bool) -> None:
        match stmt:
            case ast.FunctionDef() | ast.AsyncFunctionDef():
                self._function_header(stmt, bound)
            case ast.ClassDef():
                for expr in [*stmt.decorator_list, *stmt.bases, *(k.value for k in stmt.keywords)]:
                    self._check(expr, bound, "base")
                inner = set(bound)
                for child in stmt.body:
                    if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                        self._function_header(child, inner)
                    elif isinstance(child, ast.AnnAssign):
                        if child.value is not None:
                            self._check(child.value, inner, "statement")
                        if not self.future:
                            self._check(child.annotation, inner, "annotation", lazy=True)
                    elif not isinstance(child, ast.ClassDef):
                        self._check_expressions(child, inner)
                    inner.update(binds(child))
            case ast.ImportFrom():
                self.from_imports.append(
                    FromImport(
                        module=stmt.module or "",
                        level=stmt.level,
                        names=tuple(
                            ImportedName(a.name, a.asname, a.lineno, a.col_offset)
                            for a in stmt.names
                        ),
                        line=stmt.lineno,
                        end_line=stmt.end_lineno or stmt.lineno,
                        col=stmt.col_offset,
                        end_col=stmt.end_col_offset or 0,
                        guarded=guarded,
                        node=stmt,
                    )
                )
            case ast.Import():
                pass
            case ast.If():
                self._check(stmt.test, bound, "statement")
                is_tc = _is_type_checking(stmt.test)
                self._walk_scope(stmt.body, bound, guarded or is_tc)
                self._walk_scope(stmt.orelse, bound, guarded)
            case ast.Try() | ast.TryStar():
                catches = _catches_import_error(stmt)
                self._walk_scope(stmt.body, bound, guarded or catches)
                for handler in stmt.handlers:
                    self._walk_scope(handler.body, bound, guarded)
                self._walk_scope(stmt.orelse, bound, guarded)
                self._walk_scope(stmt.finalbody, bound, guarded)
            case ast.For() | ast.AsyncFor() | ast.While() | ast.With() | ast.AsyncWith():
                self._check_expressions(stmt, bound)
                for block in _child_blocks(stmt):
                    self._walk_scope(block, bound, guarded)
            case _:
                self._check_expressions(stmt, bound)

    def _check_expressions(self, stmt: ast.stmt, bound: set[str]) -> None:
        """The expressions of a simple statement, or the header of a compound one."""
        for name, value in ast.iter_fields(stmt):
            if name in {"body", "orelse", "finalbody", "handlers"}:
                continue
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, ast.expr | ast.withitem | ast.keyword):
                    self._check(item, bound, "statement")

    # -- whole-tree facts ----------------------------------------------------------------------
    def module_pass(self) -> None:
        self._walk_scope(self.tree.body, set(), guarded=False)

    def deep_pass(self) -> _Deep:
        dynamic = False
        web_apps: list[tuple[str, str, int]] = []
        routes: list[tuple[str, int]] = []
        engines: list[EngineCall] = []
        env_defaults: dict[int, str] = {}
        outer_defaults: dict[int, list[str]] = {}
        settings_classes: list[ast.ClassDef] = []
        plain_classes: list[ast.ClassDef] = []
        all_names: tuple[str, ...] | None = None
        constants: list[tuple[str, ast.Constant]] = []
        reads: list[EnvRead] = []
        text = self._text
        # The names values are given to matter for addresses (CODE005): only modules with a
        # URL pay for carrying them down the walk.
        with_names = text is None or "://" in text
        contexts: dict[int, tuple[str, ...]] = {}
        at_import: set[int] = set()
        # One walk over the whole tree collects everything below.
        # A string standing alone as a statement (a docstring) is documentation: the URLs in
        # its examples are no addresses the code uses.
        prose: set[int] = set()
        cut: set[int] = set()
        # `url = os.getenv("X")` then `if not url: url = "http://..."`: the constant is X's
        # fallback, as with `or`.
        read_into: dict[str, str] = {}
        guards: list[ast.If] = []
        for node, names, now in _walk(self.tree, with_names=with_names):
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                prose.add(id(node.value))
                continue
            if isinstance(node, ast.JoinedStr):
                for part, after in zip(node.values, node.values[1:], strict=False):
                    if isinstance(part, ast.Constant) and isinstance(after, ast.FormattedValue):
                        cut.add(id(part))
            if isinstance(node, ast.Call) and _is_message(node):
                # `print(f"Jaeger UI: http://localhost:16686")`, `logger.info("...")`: text
                # for a person reading the output, no address the code uses.
                prose.update(
                    id(c)
                    for a in (*node.args, *(k.value for k in node.keywords))
                    for c in ast.walk(a)
                    if isinstance(c, ast.Constant)
                )
            if isinstance(node, ast.Call) and _in_process_client(node):
                # `AsyncClient(transport=ASGITransport(app=app), base_url="http://test")`:
                # requests go to the app in this process, the URL names no host to reach.
                prose.update(
                    id(v)
                    for v in (*node.args, *(k.value for k in node.keywords))
                    if isinstance(v, ast.Constant)
                )
            if isinstance(node, ast.Constant):
                if isinstance(node.value, str) and id(node) not in prose:
                    constants.append((node.value, node))
                    if names:
                        contexts[id(node)] = names
                continue
            if now and isinstance(node, ast.Call | ast.Subscript):
                at_import.add(id(node))
            if isinstance(node, ast.Assign):
                self._assignment(node, web_apps)
                variable = env_var_of(node.value)
                if variable is not None:
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            read_into[target.id] = variable
                if any(
                    isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
                ) and isinstance(node.value, ast.List | ast.Tuple):
                    all_names = tuple(
                        v for v in (_const_str(e) for e in node.value.elts) if v is not None
                    )
            elif isinstance(node, ast.If):
                guards.append(node)
            elif isinstance(node, ast.ClassDef):
                if any((_call_name(b) or "").endswith(_SETTINGS_BASES) for b in node.bases):
                    settings_classes.append(node)
                else:
                    plain_classes.append(node)
            elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
                # `os.getenv("X") or "http://..."`: the constant is X's fallback.
                first = next((v for n in node.values if (v := env_var_of(n)) is not None), None)
                if first is not None:
                    for operand in node.values:
                        if isinstance(operand, ast.Constant) and id(operand) not in env_defaults:
                            env_defaults[id(operand)] = first
            elif isinstance(node, ast.Subscript):
                variable = env_var_of(node)
                if variable is not None and isinstance(node.ctx, ast.Load):
                    reads.append(EnvRead(variable, False, None, node.lineno, id(node) in at_import))
            elif isinstance(node, ast.Call):
                self._call(node, routes, engines, env_defaults, outer_defaults)
                read = _env_read(node, id(node) in at_import)
                if read is not None:
                    reads.append(read)
                # Modules that make names at run time (`globals()[...] =`, enum `_convert_`).
                if _call_name(node.func) in _DYNAMIC_CALLS:
                    dynamic = True
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for decorator in node.decorator_list:
                    if _is_route_decorator(decorator) and isinstance(decorator, ast.Call):
                        path = _const_str(decorator.args[0]) if decorator.args else None
                        if path is None:
                            path = next(
                                (
                                    _const_str(k.value)
                                    for k in decorator.keywords
                                    if k.arg in {"path", "rule"}
                                ),
                                None,
                            )
                        if path is not None:
                            routes.append((path, decorator.lineno))

        for guard in guards:
            for name, branch in _unset_branches(guard):
                variable = read_into.get(name)
                if variable is None:
                    continue
                for stmt in branch:
                    if (
                        isinstance(stmt, ast.Assign)
                        and isinstance(stmt.value, ast.Constant)
                        and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)
                    ):
                        env_defaults.setdefault(id(stmt.value), variable)

        setting_fields: dict[int, str] = {}
        for cls in settings_classes:
            for child in cls.body:
                if not isinstance(child, ast.AnnAssign) or not isinstance(child.target, ast.Name):
                    continue
                variable = child.target.id.upper()
                value = child.value
                if isinstance(value, ast.Call) and _call_name(value.func) == "Field":
                    # `Field("x", alias="JWT_SECRET")`: the variable read is the alias.
                    alias = next(
                        (
                            _const_str(k.value)
                            for k in value.keywords
                            if k.arg in _ALIAS_KEYWORDS and _const_str(k.value)
                        ),
                        None,
                    )
                    variable = alias.upper() if alias else variable
                    value = (
                        value.args[0]
                        if value.args
                        else next((k.value for k in value.keywords if k.arg == "default"), None)
                    )
                    if isinstance(value, ast.Constant) and value.value is Ellipsis:
                        value = None
                if isinstance(value, ast.Constant):
                    env_defaults[id(value)] = variable
                    setting_fields[id(value)] = child.target.id
                default = _const_str(value) if value is not None else None
                reads.append(
                    EnvRead(
                        variable, value is not None, default, child.lineno, True, child.target.id
                    )
                )

        in_settings = {
            id(child)
            for cls in settings_classes
            for child in ast.walk(cls)
            if isinstance(child, ast.Constant)
        }
        attributes = _class_attribute_defaults(plain_classes)
        in_settings.update(attributes)
        setting_fields.update(attributes)
        strings = [
            StringConstant(
                value,
                node.lineno,
                node.col_offset,
                env_defaults.get(id(node)),
                contexts.get(id(node), ()),
                id(node) in in_settings,
                tuple(outer_defaults.get(id(node), ())),
                id(node) in cut,
                setting_fields.get(id(node)),
                id(node) in attributes,
            )
            for value, node in constants
        ]
        return _Deep(
            all_names=all_names,
            web_apps=tuple(web_apps),
            routes=tuple(routes),
            strings=tuple(strings),
            engine_calls=tuple(engines),
            dynamic=dynamic,
            env_reads=tuple(reads),
            at_import=frozenset(at_import),
        )

    @staticmethod
    def _assignment(node: ast.Assign, web_apps: list[tuple[str, str, int]]) -> None:
        if not isinstance(node.value, ast.Call):
            return
        cls = _call_name(node.value.func)
        if cls in WEB_APP_CLASSES:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    web_apps.append((cls, target.id, node.lineno))

    @staticmethod
    def _call(
        node: ast.Call,
        routes: list[tuple[str, int]],
        engines: list[EngineCall],
        env_defaults: dict[int, str],
        outer_defaults: dict[int, list[str]],
    ) -> None:
        name = _call_name(node.func)
        if name in {"add_api_route", "add_url_rule", "add_route", "Route", "include_router"} | (
            ROUTER_CLASSES
        ):
            texts = [_const_str(a) for a in node.args[:1]]
            texts += [_const_str(k.value) for k in node.keywords if k.arg in {"prefix", "path"}]
            routes.extend((t, node.lineno) for t in texts if t is not None)
        if name in ENGINE_FACTORIES and node.args:
            first = node.args[0]
            engines.append(EngineCall(name, node.lineno, _const_str(first), env_var_of(first)))
        variable = env_var_of(node)
        if variable is not None:
            default = _default_argument(node)
            if isinstance(default, ast.Constant):
                env_defaults[id(default)] = variable
            elif isinstance(default, ast.Call):
                # `getenv("A", getenv("B", "x"))`: "x" is also A's fallback.
                inner: ast.expr | None = default
                while isinstance(inner, ast.Call) and env_var_of(inner) is not None:
                    inner = _default_argument(inner)
                    if isinstance(inner, ast.Constant):
                        outer_defaults.setdefault(id(inner), []).append(variable)
