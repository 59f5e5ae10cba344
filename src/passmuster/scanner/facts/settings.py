"""Settings classes (pydantic `BaseSettings`) as the environment sees them: which variable each
field reads, whether it has a default, and the prefix and env file the class adds."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from passmuster.scanner.context.model import Platform, PythonFile

# Annotations pydantic fills with None when nothing sets them (pydantic 1 does for Optional).
# What pydantic reads as a bool.
_TRUTH_WORDS = frozenset({"0", "1", "true", "false", "yes", "no", "on", "off", "t", "f", "y", "n"})
_OPTIONAL = re.compile(r"(^Optional\[|\|\s*None\b|\bNone\s*\|)")


@dataclass(frozen=True, slots=True)
class SettingsField:
    attribute: str  # as written in the class
    variable: str  # the environment variable it reads, upper-cased (prefix included)
    line: int
    required: bool  # no default: instantiating the class fails without the variable
    annotation: str = ""  # the field's type, as written (`int`, `list[str]`)
    default: str | None = None  # a constant default, as text (`None` for none or no constant)

    def accepts(self, value: str) -> bool:
        """Whether pydantic could read `value` into this field: a number for `int` and
        `float`, a truth word for `bool`; other types are not judged."""
        text = value.strip().lower()
        match self.annotation:
            case "int":
                return re.fullmatch(r"[+-]?\d+", text) is not None
            case "float":
                return re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", text) is not None
            case "bool":
                return text in _TRUTH_WORDS
            case "str" | "Optional[str]" | "str | None" | "None | str":
                # A flag (`…_ONLY=false`) is no name, model or address: a text setting takes
                # one only when its own default is a truth word too.
                if text in _TRUTH_WORDS - {"0", "1"}:
                    return (self.default or "").strip().lower() in _TRUTH_WORDS
        return True


@dataclass(frozen=True, slots=True)
class SettingsClass:
    name: str
    path: str
    line: int
    fields: tuple[SettingsField, ...]
    env_files: tuple[str, ...]  # the dotenv files the class reads, as written

    def required(self) -> list[SettingsField]:
        return [f for f in self.fields if f.required]


def settings_classes(platform: Platform, path: str) -> list[SettingsClass]:
    """The settings classes defined in one file whose variables can be told (a prefix or env
    file that is not a constant makes the class unknown, so it is left out)."""
    cache: dict[str, list[SettingsClass]] = platform.derived("settings-classes", dict)
    if path not in cache:
        source = platform.python.get(path)
        cache[path] = _read(source) if source is not None else []
    return cache[path]


def instantiated(platform: Platform, files: list[str], name: str) -> bool:
    """Whether any of `files` makes an instance of `name` from the environment alone:
    `Settings()` or `Settings(_env_file=…)`. `ServiceConfig(name=…, url=…)` passes its
    fields, so it is a model filled by code, not settings read from the environment."""
    for path in files:
        source = platform.python.get(path)
        if source is None or f"{name}(" not in source.text or source.tree is None:
            continue
        for node in ast.walk(source.tree):
            if (
                isinstance(node, ast.Call)
                and _name(node.func).rpartition(".")[2] == name
                and not node.args
                and all(k.arg is not None and k.arg.startswith("_") for k in node.keywords)
            ):
                return True
    return False


def _read(source: PythonFile) -> list[SettingsClass]:
    if "Settings" not in source.text:
        return []
    tree = source.tree
    if tree is None:
        return []
    local_classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    found: dict[str, SettingsClass] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [_name(b) for b in node.bases]
        parents = [found[b] for b in bases if b in found]
        if not parents and not any(b.endswith("BaseSettings") for b in bases):
            continue
        read = _class(node, source.path, local_classes, parents)
        if read is not None:
            found[node.name] = read
    return list(found.values())


def _class(
    node: ast.ClassDef, path: str, local_classes: set[str], parents: list[SettingsClass]
) -> SettingsClass | None:
    config: dict[str, ast.expr] = {}
    for child in node.body:
        if isinstance(child, ast.ClassDef) and child.name == "Config":
            for statement in child.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
                    config[statement.targets[0].id] = statement.value
        target = _assigned(child)
        if target == "model_config" and isinstance(child, ast.Assign | ast.AnnAssign):
            value = child.value
            if isinstance(value, ast.Call):
                config.update({k.arg: k.value for k in value.keywords if k.arg})
            elif isinstance(value, ast.Dict):
                for key, entry in zip(value.keys, value.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        config[key.value] = entry
    prefix = ""
    if "env_prefix" in config:
        constant = config["env_prefix"]
        if not isinstance(constant, ast.Constant) or not isinstance(constant.value, str):
            return None
        prefix = constant.value
    env_files: tuple[str, ...] = ()
    if "env_file" in config:
        value = config["env_file"]
        items = value.elts if isinstance(value, ast.Tuple | ast.List) else [value]
        names = [i.value for i in items if isinstance(i, ast.Constant)]
        if len(names) != len(items) or not all(isinstance(n, str) for n in names):
            return None
        env_files = tuple(str(n) for n in names)
    fields: dict[str, SettingsField] = {}
    for parent in parents:
        fields.update({f.attribute: f for f in parent.fields})
        env_files = env_files or parent.env_files
    for child in node.body:
        if not isinstance(child, ast.AnnAssign) or not isinstance(child.target, ast.Name):
            continue
        attribute = child.target.id
        if attribute.startswith("_") or attribute == "model_config":
            continue
        annotation = ast.unparse(child.annotation)
        if annotation.startswith(("ClassVar", "typing.ClassVar")):
            continue
        variable, required = _field(child.value)
        if _OPTIONAL.search(annotation) or annotation.split("[")[0] in local_classes:
            required = False  # None when unset, or a nested model with its own rules
        fields[attribute] = SettingsField(
            attribute,
            (variable or prefix + attribute).upper(),
            child.lineno,
            required,
            annotation,
            _default_text(child.value),
        )
    return SettingsClass(node.name, path, node.lineno, tuple(fields.values()), env_files)


def _default_text(value: ast.expr | None) -> str | None:
    """A constant default (`= "x"`, `= Field("x")`, `= Field(default=3)`) as text."""
    if isinstance(value, ast.Call):
        value = (
            value.args[0]
            if value.args
            else next((k.value for k in value.keywords if k.arg == "default"), None)
        )
    if isinstance(value, ast.Constant) and value.value is not None and value.value is not ...:
        return str(value.value)
    return None


def _field(value: ast.expr | None) -> tuple[str | None, bool]:
    """(the variable an alias names, whether the field is required)."""
    if value is None:
        return None, True
    if not (isinstance(value, ast.Call) and _name(value.func).endswith("Field")):
        return None, False
    keywords = {k.arg: k.value for k in value.keywords if k.arg}
    alias: str | None = None
    for key in ("validation_alias", "alias", "env"):
        node = keywords.get(key)
        if node is None:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            alias = node.value
            break
        return None, False  # AliasChoices, a list of names: several ways to set it
    if "default_factory" in keywords:
        return alias, False
    default = value.args[0] if value.args else keywords.get("default")
    required = default is None or (isinstance(default, ast.Constant) and default.value is ...)
    return alias, required


def _assigned(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Subscript):
        return _name(node.value)
    return ""
