"""The public status page: what it shows, decided without touching storage.

`[status]` in passmuster.toml turns the page on and says what it shows: a title, services in
groups, services kept off it. Everything the page, its JSON and its feed show passes through
`PublicStatus`, built from the parts listed here, so nothing internal (comments, events,
non-incident issues, hidden services, configuration) can reach them by another road.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from passmuster.core.epoch_ms import moment
from passmuster.core.incident_updates import UpdateStage
from passmuster.core.uptime import Day, Level, Tally, bar_starts, percent


class StatusConfig(BaseModel):
    """The `[status]` section of passmuster.toml."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    title: str = Field(default="Service status", min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    # Group name -> its services, in the order shown; services in no group follow under "Services".
    groups: dict[str, list[str]] = Field(default_factory=dict)
    hidden: list[str] = Field(default_factory=list)  # internal services kept off the page
    refresh: int = Field(default=60, ge=10, le=3600)  # seconds between the page's reloads
    history_days: int = Field(default=14, ge=1, le=90)  # past incidents shown, by day
    upcoming_days: int = Field(default=30, ge=1, le=365)  # scheduled maintenance shown ahead


OTHER_GROUP = "Services"
# Component states as the page words them, worst first.
STATE_WORDS = {
    "down": "Major outage",
    "degraded": "Degraded performance",
    "maintenance": "Under maintenance",
    "up": "Operational",
    "unknown": "No data",
}
_RANK = {"down": 0, "degraded": 1, "maintenance": 2, "unknown": 3, "up": 4}


def worst(states: Iterable[str]) -> str:
    found = sorted(states, key=lambda s: _RANK.get(s, 3))
    return found[0] if found else "unknown"


@dataclass(frozen=True, slots=True)
class Component:
    """A service on the page. Its bar is kept as counts, not as 90 `Day`s: the page draws
    200 services' bars straight from them, and the JSON needs none."""

    name: str
    state: str  # up, degraded, down, maintenance, unknown
    today_ms: int  # the bar ends with this day
    counts: Mapping[int, tuple[int, int]]  # day start -> (probes, passed); days with probes
    incidents: Mapping[int, int]  # day start -> incidents touching that day
    uptime_90d: float | None

    @property
    def words(self) -> str:
        return STATE_WORDS.get(self.state, self.state)

    def cells(self) -> Iterator[tuple[int, int, int, int]]:
        """(day start, probes, passed, incidents) for each day of the bar, oldest first."""
        counts, incidents = self.counts, self.incidents
        for start in bar_starts(self.today_ms):
            probes, passed = counts.get(start, (0, 0))
            yield start, probes, passed, incidents.get(start, 0)

    @property
    def days(self) -> list[Day]:
        return [Day(start, Tally(c, o), n) for start, c, o, n in self.cells()]


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    components: list[Component]


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    stage: UpdateStage
    message: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PublicIncident:
    number: int
    title: str
    services: tuple[str, ...]
    severity: str
    opened_at: datetime
    resolved_at: datetime | None
    stage: UpdateStage
    updates: list[PublicUpdate]

    @property
    def current(self) -> bool:
        return self.stage is not UpdateStage.RESOLVED

    @property
    def changed_at(self) -> datetime:
        times = [self.opened_at, *(u.at for u in self.updates)]
        if self.resolved_at is not None:
            times.append(self.resolved_at)
        return max(times)


@dataclass(frozen=True, slots=True)
class PublicMaintenance:
    id: int
    message: str
    services: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    recurring: bool
    active: bool


@dataclass(frozen=True, slots=True)
class PublicStatus:
    title: str
    description: str
    generated_at: datetime
    refresh: int
    state: str  # the platform's: the worst of its components (maintenance counts as such)
    groups: list[Group]
    incidents: list[PublicIncident]  # current ones
    maintenance: list[PublicMaintenance]  # under way and upcoming
    past: list[tuple[datetime, list[PublicIncident]]] = field(default_factory=list)

    @property
    def components(self) -> list[Component]:
        return [c for g in self.groups for c in g.components]

    @property
    def headline(self) -> str:
        if self.state == "down":
            return "Major outage"
        if self.state == "degraded":
            return "Some systems are degraded"
        if self.state == "maintenance":
            return "Maintenance under way"
        if self.state == "unknown":
            return "Status not known yet"
        return "All systems operational"


def visible_services(config: StatusConfig, services: Iterable[str]) -> list[str]:
    """The services the page shows, in page order: grouped ones first, as configured."""
    hidden = set(config.hidden)
    known = list(dict.fromkeys(services))
    known_set = set(known)
    ordered = [s for members in config.groups.values() for s in members if s in known_set]
    ordered += [s for s in known if s not in set(ordered)]
    return [s for s in dict.fromkeys(ordered) if s not in hidden]


def group(config: StatusConfig, components: Mapping[str, Component]) -> list[Group]:
    """Components in their configured groups, the rest under OTHER_GROUP; empty groups dropped."""
    placed: set[str] = set()
    groups: list[Group] = []
    for name, members in config.groups.items():
        found = [components[m] for m in members if m in components and m not in placed]
        placed.update(c.name for c in found)
        if found:
            groups.append(Group(name, found))
    rest = [c for n, c in components.items() if n not in placed]
    if rest:
        groups.append(Group(OTHER_GROUP, rest))
    return groups


def public_stage(active: bool, updates: Sequence[PublicUpdate]) -> UpdateStage:
    """The stage readers see: the latest update's; without one, investigating while the
    incident is active and resolved once it is not. An incident resolved on the desk is
    resolved on the page, whatever its last update said."""
    if not active:
        return UpdateStage.RESOLVED
    return updates[-1].stage if updates else UpdateStage.INVESTIGATING


def bar_title(day: Day) -> str:
    """The hover text of one day of a bar."""
    when = moment(day.start_ms).strftime("%d %b %Y")
    figure = "no data" if day.tally.count == 0 else f"{percent(day.tally.uptime)} up"
    text = f"{when}: {figure}"
    if day.incidents:
        text += f", {day.incidents} incident" + ("s" if day.incidents > 1 else "")
    return text


__all__ = [
    "Component",
    "Day",
    "Group",
    "Level",
    "PublicIncident",
    "PublicMaintenance",
    "PublicStatus",
    "PublicUpdate",
    "StatusConfig",
    "Tally",
]
