"""The rollout plan: which services to deploy, in which order.

Services start in *waves*: a wave holds services whose dependencies inside the plan all sit in
earlier waves, so the services of one wave can start together (up to `--parallel` at once) and
each waits for what it needs. A dependency outside the plan (a database started some other way,
a service not selected this time) is not deployed but must answer its health probe before its
dependents start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from passmuster.errors import ConfigError, InvalidValue


@dataclass(frozen=True, slots=True)
class Plan:
    """Waves of service names, each wave sorted; `outside` maps a service to the dependencies it
    needs that the plan does not deploy; `unknown` lists dependencies no service answers to."""

    waves: tuple[tuple[str, ...], ...]
    depends_on: Mapping[str, tuple[str, ...]]  # within the plan
    outside: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unknown: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def services(self) -> list[str]:
        return [name for wave in self.waves for name in wave]

    def wave_of(self, service: str) -> int:
        for index, wave in enumerate(self.waves):
            if service in wave:
                return index
        raise KeyError(service)

    def dependents(self, failed: Iterable[str]) -> set[str]:
        """Every planned service that needs one of `failed`, directly or through another."""
        needs: dict[str, set[str]] = {}
        for service, deps in self.depends_on.items():
            for dep in deps:
                needs.setdefault(dep, set()).add(service)
        found: set[str] = set()
        stack = list(failed)
        while stack:
            for dependent in needs.get(stack.pop(), ()):
                if dependent not in found:
                    found.add(dependent)
                    stack.append(dependent)
        return found

    def blocked_by(self, service: str, failed: Iterable[str]) -> str | None:
        """The first of `failed` that `service` needs, directly or transitively, or None."""
        failed_set = set(failed)
        seen: set[str] = set()
        stack = list(self.depends_on.get(service, ()))
        while stack:
            dep = stack.pop(0)
            if dep in seen:
                continue
            seen.add(dep)
            if dep in failed_set:
                return dep
            stack.extend(self.depends_on.get(dep, ()))
        return None


def make_plan(
    graph: Mapping[str, Sequence[str]],
    selected: Sequence[str] | None = None,
    *,
    left_out: Iterable[str] = (),
) -> Plan:
    """The plan for `selected` services (all of `graph` when None or empty).

    `graph` maps every known service to what it depends on. `left_out` are services that
    cannot be deployed here (and are not needed to answer); edges to them are dropped.
    Raises InvalidValue for a selected name the graph does not know and ConfigError naming the
    cycle when the dependencies go round in a circle.
    """
    excluded = set(left_out)
    known = sorted(graph)
    chosen: list[str] = []
    for name in selected or [n for n in known if n not in excluded]:
        if name not in graph:
            raise InvalidValue("service", name, known)
        if name not in chosen:
            chosen.append(name)
    in_plan = set(chosen)
    depends_on: dict[str, tuple[str, ...]] = {}
    outside: dict[str, tuple[str, ...]] = {}
    unknown: dict[str, tuple[str, ...]] = {}
    for name in chosen:
        deps = [d for d in dict.fromkeys(graph[name]) if d != name]
        depends_on[name] = tuple(sorted(d for d in deps if d in in_plan))
        outer = sorted(d for d in deps if d not in in_plan and d in graph and d not in excluded)
        if outer:
            outside[name] = tuple(outer)
        missing = sorted(d for d in deps if d not in graph)
        if missing:
            unknown[name] = tuple(missing)
    cycle = find_cycle(graph)
    if cycle is not None and any(name in in_plan for name in cycle):
        raise ConfigError(f"dependency cycle: {' -> '.join(cycle)} (check depends_on)")
    return Plan(_waves(depends_on), depends_on, outside, unknown)


def _waves(depends_on: Mapping[str, Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    # Kahn's algorithm, one layer at a time: a layer is everything whose needs are all placed.
    placed: set[str] = set()
    remaining = set(depends_on)
    waves: list[tuple[str, ...]] = []
    while remaining:
        ready = sorted(n for n in remaining if all(d in placed for d in depends_on[n]))
        if not ready:  # a cycle; make_plan reports it before this can happen
            raise ConfigError(f"dependency cycle among {', '.join(sorted(remaining))}")
        waves.append(tuple(ready))
        placed.update(ready)
        remaining.difference_update(ready)
    return tuple(waves)


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """One dependency cycle as a path that returns to its start (`a -> b -> a`), or None."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for start in sorted(graph):
        if colour[start] != white:
            continue
        path: list[str] = [start]
        iterators = [iter(sorted(graph[start]))]
        colour[start] = grey
        while iterators:
            step = next(iterators[-1], None)
            if step is None:
                colour[path.pop()] = black
                iterators.pop()
                continue
            if step not in colour:  # a dependency nobody defines: not part of a cycle
                continue
            if colour[step] == grey:
                return [*path[path.index(step) :], step]
            if colour[step] == white:
                colour[step] = grey
                path.append(step)
                iterators.append(iter(sorted(graph[step])))
    return None
