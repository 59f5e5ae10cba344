"""The monitor's side of maintenance windows: which outages open no incident, and which owe one.

A target that goes down while a window covers its service is recorded down, but opens no
incident and pages nobody. If it is still failing when the window ends (or is cancelled), the
next failed probe opens the incident then, as if it had just gone down.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from passmuster.core.epoch_ms import moment
from passmuster.core.health import (
    Flip,
    Health,
    Observation,
    ProbeResult,
    transitive_dependencies,
)
from passmuster.core.maintenance import MaintenanceWindow, covering
from passmuster.core.targets import Target
from passmuster.storage.maintenance_store import MaintenanceStore
from passmuster.storage.target_store import Claimed

Observed = tuple[Claimed, ProbeResult, Observation]


@dataclass(slots=True)
class Held:
    observed: list[Observed]
    silenced: dict[str, int] = field(default_factory=dict)  # target name -> window id


def _names(target: Target) -> list[str]:
    return [n for n in (target.service, target.name) if n]


class MaintenanceGate:
    def __init__(self, store: MaintenanceStore) -> None:
        self.store = store

    def hold(
        self,
        observed: Sequence[Observed],
        depends_on: Mapping[str, Sequence[str]] | None = None,
        down: Callable[[], set[str]] | None = None,
    ) -> Held:
        """Mark flips to down under a window as silenced; turn a still-failing probe of a target
        that went down under a window now ended into a flip that opens the incident.

        A window also covers the dependents (through `depends_on`) of the services it names
        while those are down (`down()`: the labels down now): an API failing because its
        database is down for planned maintenance is part of the planned outage."""
        graph = depends_on or {}
        found: list[set[str]] = []

        def down_now() -> set[str]:
            if not found:
                found.append(down() if down is not None else set())
            return found[0]

        def planned(target: Target) -> list[str]:
            """The names a window may cover for `target` now: its own, and its dependencies
            that are down."""
            deps = list(transitive_dependencies(target.label, graph))
            return _names(target) + [d for d in deps if d in down_now()] if deps else _names(target)

        going_down = [
            (c, r, o)
            for c, r, o in observed
            if o.flip is not None and o.flip.new is Health.DOWN and not c.state.incident_open
        ]
        owed = [
            (c, r, o)
            for c, r, o in observed
            if o.flip is None
            and not r.ok
            and o.state.health is Health.DOWN
            and not o.state.incident_open
            and o.state.since is not None
        ]
        if not going_down and not owed:
            return Held(list(observed))
        every = self.store.every()
        live: list[MaintenanceWindow] = [w for w in every if w.cancelled_at is None]
        silenced: dict[str, int] = {}
        for c, _, o in going_down:
            assert o.flip is not None
            window = covering(live, planned(c.target), moment(o.flip.at))
            if window is not None:
                silenced[c.target.name] = window.id
        result: list[Observed] = []
        owed_names = {c.target.name for c, _, _ in owed}
        for c, r, o in observed:
            if c.target.name not in owed_names:
                result.append((c, r, o))
                continue
            assert o.state.since is not None
            # Whatever it depended on then: a window that silenced it covered one of them.
            then = _names(c.target) + list(transitive_dependencies(c.target.label, graph))
            earlier = covering(every, then, moment(o.state.since))
            if earlier is None or covering(live, planned(c.target), moment(r.at)) is not None:
                result.append((c, r, o))
                continue
            seq = o.state.flips + 1
            flip = Flip(
                old=Health.DOWN,
                new=Health.DOWN,
                at=r.at,
                reason=(
                    f"still down when maintenance window {earlier.id} ended"
                    + (f": {r.reason}" if r.reason else "")
                ),
                seq=seq,
            )
            result.append((c, r, Observation(replace(o.state, flips=seq), flip)))
        return Held(result, silenced)
