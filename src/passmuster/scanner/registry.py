"""Rule registration and selection.

Built-in rules register exactly the way a plugin does: a module is handed to `register_module`,
which registers every `Rule` subclass it defines. Built-ins are the modules under
`passmuster.scanner.checks.<family>`; plugins name a module in the `passmuster.rules` entry-point
group. Selection follows ruff: `select` replaces the default (all rules), `extend_select` adds,
`ignore` removes; each accepts codes, code prefixes (`REQ`, `REQ0`), rule names or `ALL`, and the
most specific selector wins (`select=["REQ"], ignore=["REQ003"]` keeps every REQ rule but one).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from functools import cache
from types import ModuleType

from passmuster.core.plugins import entry_point_modules, register_defined
from passmuster.errors import ConfigError, NotFound
from passmuster.scanner.rule import Rule

ENTRY_POINT_GROUP = "passmuster.rules"


class Registry:
    def __init__(self) -> None:
        self._rules: dict[str, type[Rule]] = {}

    def register(self, rule: type[Rule]) -> type[Rule]:
        """Add one rule class; usable as a decorator. Rejects incomplete or clashing rules."""
        problems = rule.problems()
        if problems:
            raise ConfigError(f"rule {rule.__module__}.{rule.__qualname__}: {'; '.join(problems)}")
        existing = self._rules.get(rule.code)
        if existing is not None and existing is not rule:
            raise ConfigError(
                f"rule code {rule.code} is registered twice: "
                f"{existing.__module__}.{existing.__qualname__} and "
                f"{rule.__module__}.{rule.__qualname__}"
            )
        for other in self._rules.values():
            if other.name == rule.name and other is not rule:
                raise ConfigError(
                    f"rule name {rule.name!r} is used by {other.code} and {rule.code}"
                )
        self._rules[rule.code] = rule
        return rule

    def register_module(self, module: ModuleType) -> list[type[Rule]]:
        """Register every Rule subclass defined in `module` (not merely imported into it)."""
        return register_defined(module, Rule, named_by="code", register=self.register)

    def rules(self) -> list[type[Rule]]:
        return [self._rules[code] for code in sorted(self._rules)]

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, code: object) -> bool:
        return code in self._rules

    def get(self, code_or_name: str) -> type[Rule]:
        key = code_or_name.strip()
        rule = self._rules.get(key.upper())
        if rule is not None:
            return rule
        for candidate in self._rules.values():
            if candidate.name == key.lower():
                return candidate
        raise NotFound(f"no rule {code_or_name!r}; `passmuster rules` lists them")

    def matches(self, selector: str) -> list[type[Rule]]:
        """Rules a selector names: ALL, a code, a code prefix or a rule name."""
        key = selector.strip()
        if key.upper() == "ALL":
            return self.rules()
        by_name = [r for r in self._rules.values() if r.name == key.lower()]
        if by_name:
            return by_name
        return [r for code, r in sorted(self._rules.items()) if code.startswith(key.upper())]

    def select(
        self,
        select: Sequence[str] | None = None,
        ignore: Iterable[str] = (),
        extend_select: Iterable[str] = (),
    ) -> list[type[Rule]]:
        """The rules to run; an unknown selector is a ConfigError naming it."""
        chosen = list(select) if select else ["ALL"]
        enabling = [*chosen, *extend_select]
        disabling = list(ignore)
        for selector in (*enabling, *disabling):
            if not self.matches(selector):
                raise ConfigError(f"no rule matches {selector!r}; `passmuster rules` lists them")
        result = []
        for rule in self.rules():
            best_on = max((_specificity(s, rule) for s in enabling), default=-1)
            best_off = max((_specificity(s, rule) for s in disabling), default=-1)
            if best_on >= 0 and best_on > best_off:
                result.append(rule)
        return result


def _specificity(selector: str, rule: type[Rule]) -> int:
    """How precisely `selector` names `rule`: -1 not at all, 0 ALL, then prefix length."""
    key = selector.strip()
    if key.upper() == "ALL":
        return 0
    if key.lower() == rule.name:
        return 100
    if rule.code.startswith(key.upper()):
        return len(key)
    return -1


def plugin_modules() -> list[ModuleType]:
    """Modules named in the `passmuster.rules` entry-point group."""
    return entry_point_modules(ENTRY_POINT_GROUP)


def build_registry(*, plugins: bool = True, extra_modules: Iterable[str] = ()) -> Registry:
    """A fresh registry with the built-in rules, plugins and any extra modules (dotted names)."""
    from passmuster.scanner.checks import builtin_modules

    registry = Registry()
    for module in builtin_modules():
        registry.register_module(module)
    if plugins:
        for module in plugin_modules():
            registry.register_module(module)
    for name in extra_modules:
        registry.register_module(importlib.import_module(name))
    return registry


@cache
def default_registry() -> Registry:
    """The registry the CLI uses, built once per process."""
    return build_registry()
