"""Health: probe results → state flips, thresholds, cool-down and dependency-aware suppression.

Pure domain. The monitor probes a target, turns what it saw into a `ProbeResult`, and asks this
module what that means: `observe` folds one result into a target's `TargetState` and says whether
its health flipped; `incident_action` says what a flip does to the target's incident; `root_cause`
finds the down dependency that explains a service being down. Times are epoch milliseconds so
the store can compare them without time-zone arithmetic.

Conditions (`[STATUS] == 200`, `[RESPONSE_TIME] < 300`, `[BODY].status == UP`,
`[CONNECTED] == true`) follow Gatus's syntax so a Gatus file can be brought as it is.
"""

from __future__ import annotations

import enum
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from passmuster.errors import InvalidValue

RECENT_FAILURES = 5  # failure reasons kept for an incident's error details


class Health(enum.StrEnum):
    UNKNOWN = "unknown"
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"

    @property
    def is_serving(self) -> bool:
        """Up or degraded: the service answers, an incident is not warranted."""
        return self in (Health.UP, Health.DEGRADED)


# How urgently a state asks for a person: what the pages sort by and a service with several
# targets shows (its worst). A state this release does not know ranks as unknown.
_URGENCY = {"down": 3, "degraded": 2, "unknown": 1, "up": 0}


def urgency(state: str) -> int:
    return _URGENCY.get(state, 1)


@dataclass(frozen=True, slots=True)
class Thresholds:
    failure: int = 3
    success: int = 2
    cooldown_ms: int = 600_000

    def __post_init__(self) -> None:
        if self.failure < 1:
            raise InvalidValue("failure_threshold", self.failure, ["an integer >= 1"])
        if self.success < 1:
            raise InvalidValue("success_threshold", self.success, ["an integer >= 1"])
        if self.cooldown_ms < 0:
            raise InvalidValue("cooldown", self.cooldown_ms, ["a duration >= 0"])


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one probe saw. `ok` is whether every condition held; `degraded` refines an ok probe
    whose service reported `warn` (application/health+json) or a failing component."""

    ok: bool
    latency: float  # seconds
    at: int  # epoch ms when the probe started
    reason: str = ""
    status_code: int | None = None
    degraded: bool = False

    @property
    def health(self) -> Health:
        if not self.ok:
            return Health.DOWN
        return Health.DEGRADED if self.degraded else Health.UP


@dataclass(frozen=True, slots=True)
class TargetState:
    """A target's health as the store keeps it between probes."""

    health: Health = Health.UNKNOWN
    failures: int = 0  # consecutive failed probes
    successes: int = 0  # consecutive ok probes
    recent_failures: tuple[str, ...] = ()
    since: int | None = None  # when `health` last changed
    incident: int | None = None  # the number of the target's latest incident
    incident_open: bool = False
    incident_closed_at: int | None = None
    flips: int = 0  # how many flips so far; numbers each flip for idempotent notifications


@dataclass(frozen=True, slots=True)
class Flip:
    old: Health
    new: Health
    at: int
    reason: str
    seq: int


@dataclass(frozen=True, slots=True)
class Observation:
    state: TargetState
    flip: Flip | None


def observe(state: TargetState, result: ProbeResult, thresholds: Thresholds) -> Observation:
    """Fold one probe result into the state; a flip happens when a threshold is crossed.

    Failures flip to down after `thresholds.failure` in a row; a down target comes back after
    `thresholds.success` ok probes in a row. An unknown target (just added) takes its first
    ok probe at face value. Up and degraded flip into each other at once: neither opens an
    incident, so there is nothing to debounce.
    """
    if result.ok:
        successes = state.successes + 1
        new = state.health
        target = result.health
        if state.health is Health.DOWN:
            if successes >= thresholds.success:
                new = target
        elif state.health is not target:
            new = target
        next_state = replace(state, failures=0, successes=successes)
    else:
        failures = state.failures + 1
        reasons = (*state.recent_failures, _describe_failure(result))[-RECENT_FAILURES:]
        new = state.health
        if state.health is not Health.DOWN and failures >= thresholds.failure:
            new = Health.DOWN
        next_state = replace(state, failures=failures, successes=0, recent_failures=reasons)
    if new is state.health:
        return Observation(next_state, None)
    seq = state.flips + 1
    flip = Flip(old=state.health, new=new, at=result.at, reason=result.reason, seq=seq)
    next_state = replace(next_state, health=new, since=result.at, flips=seq)
    if new.is_serving:
        next_state = replace(next_state, recent_failures=())
    return Observation(next_state, flip)


def _describe_failure(result: ProbeResult) -> str:
    status = f" (HTTP {result.status_code})" if result.status_code is not None else ""
    return f"{result.reason or 'failed'}{status}"


class IncidentAction(enum.StrEnum):
    NONE = "none"
    OPEN = "open"
    REOPEN = "reopen"
    RESOLVE = "resolve"


def incident_action(state: TargetState, flip: Flip, thresholds: Thresholds) -> IncidentAction:
    """What a flip does to the target's incident. `state` is the state before the flip.

    Down opens an incident, or reopens the last one when it was resolved within the cool-down
    (a flapping service keeps one incident instead of a pile). Coming back resolves it.
    """
    if flip.new is Health.DOWN:
        if state.incident is not None and state.incident_open:
            return IncidentAction.NONE
        if (
            state.incident is not None
            and state.incident_closed_at is not None
            and flip.at - state.incident_closed_at <= thresholds.cooldown_ms
        ):
            return IncidentAction.REOPEN
        return IncidentAction.OPEN
    if flip.new.is_serving and state.incident is not None and state.incident_open:
        return IncidentAction.RESOLVE
    return IncidentAction.NONE


def after_incident(
    state: TargetState, action: IncidentAction, number: int | None, at: int
) -> TargetState:
    """The state once `action` was carried out on the desk (number: the incident's number)."""
    if action in (IncidentAction.OPEN, IncidentAction.REOPEN):
        return replace(state, incident=number, incident_open=True, incident_closed_at=None)
    if action is IncidentAction.RESOLVE:
        return replace(state, incident_open=False, incident_closed_at=at)
    return state


def transitive_dependencies(service: str, depends_on: Mapping[str, Sequence[str]]) -> Iterator[str]:
    """What `service` depends on, following `depends_on` transitively, nearest first (a cycle
    ends where it comes back)."""
    seen = {service}
    queue: deque[str] = deque(depends_on.get(service, ()))
    while queue:
        name = queue.popleft()
        if name in seen:
            continue
        seen.add(name)
        yield name
        queue.extend(depends_on.get(name, ()))


def root_cause(
    service: str, depends_on: Mapping[str, Sequence[str]], down: Iterable[str]
) -> str | None:
    """The nearest dependency of `service` (following `depends_on` transitively) that is down.

    That dependency's incident explains this one: the dependent's incident is linked caused-by
    to it and its notifications are held back. Nearest first, so a chain gateway → identity →
    db blames identity for the gateway when both are down, and db for identity.
    """
    down_set = set(down)
    return next((d for d in transitive_dependencies(service, depends_on) if d in down_set), None)


def failing_dependencies(
    service: str, depends_on: Mapping[str, Sequence[str]], failing: Iterable[str]
) -> list[str]:
    """Dependencies (transitive) that are failing but not yet down: an incident of `service`
    opened now may turn out to be theirs, so its notification waits a little."""
    failing_set = set(failing)
    return [d for d in transitive_dependencies(service, depends_on) if d in failing_set]


def dependency_order(services: Iterable[str], depends_on: Mapping[str, Sequence[str]]) -> list[str]:
    """Services ordered so that dependencies come before their dependents (cycles tolerated):
    when a database and its dependents go down in the same round, the database's flip is
    handled first and the dependents are suppressed at once."""
    wanted = list(dict.fromkeys(services))
    wanted_set = set(wanted)
    ordered: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str) -> None:
        mark = state.get(name)
        if mark is not None:
            return  # done, or a cycle: keep the order we have
        state[name] = 1
        for dep in depends_on.get(name, ()):
            visit(dep)
        state[name] = 2
        if name in wanted_set:
            ordered.append(name)

    for name in wanted:
        visit(name)
    return ordered


# -- conditions --------------------------------------------------------------------------------

_CONDITION = re.compile(
    r"^\s*(?P<left>\[[A-Z_]+\](?:\.[A-Za-z0-9_.\[\]-]+)?|len\(\[BODY\](?:\.[A-Za-z0-9_.\[\]-]+)?\))"
    r"\s*(?P<op>==|!=|<=|>=|<|>)\s*(?P<right>.*?)\s*$"
)
_PLACEHOLDERS = ("[STATUS]", "[RESPONSE_TIME]", "[BODY]", "[CONNECTED]")


@dataclass(frozen=True, slots=True)
class Condition:
    """One Gatus-style condition: `[STATUS] == 200`, `[BODY].status == UP` …"""

    text: str
    placeholder: str  # STATUS, RESPONSE_TIME, BODY, CONNECTED
    path: tuple[str, ...]
    op: str
    right: str
    length: bool = False

    @classmethod
    def parse(cls, text: str) -> Condition:
        match = _CONDITION.match(text)
        if match is None:
            raise InvalidValue(
                "condition", text, ["'[PLACEHOLDER] OP VALUE' with " + ", ".join(_PLACEHOLDERS)]
            )
        left = match["left"]
        length = left.startswith("len(")
        if length:
            left = left[4:-1]
        head, _, rest = left.partition(".")
        if head not in _PLACEHOLDERS:
            raise InvalidValue("condition placeholder", head, _PLACEHOLDERS)
        if rest and head != "[BODY]":
            raise InvalidValue("condition", text, ["a path only after [BODY]"])
        path = tuple(p for p in re.split(r"\.|\[(\d+)\]", rest) if p) if rest else ()
        return cls(text, head[1:-1], path, match["op"], match["right"].strip(), length)

    def holds(self, seen: Seen) -> bool:
        """Whether the condition holds for what a probe saw."""
        left: Any
        if self.placeholder == "STATUS":
            left = seen.status_code
        elif self.placeholder == "RESPONSE_TIME":
            left = seen.latency * 1000.0
        elif self.placeholder == "CONNECTED":
            left = seen.connected
        else:
            left = _walk(seen.body, self.path)
        if self.length:
            left = len(left) if isinstance(left, str | list | dict) else None
        return _compare(left, self.op, self.right)

    def explain(self, seen: Seen) -> str:
        """A failure reason naming the condition and the value seen."""
        if self.placeholder == "STATUS":
            value: Any = seen.status_code
        elif self.placeholder == "RESPONSE_TIME":
            value = f"{seen.latency * 1000.0:.0f}"
        elif self.placeholder == "CONNECTED":
            value = seen.connected
        else:
            value = _walk(seen.body, self.path)
            if self.length:
                value = len(value) if isinstance(value, str | list | dict) else None
        return f"condition {self.text} failed (saw {value!r})"


@dataclass(frozen=True, slots=True)
class Seen:
    """What a probe saw, in the terms conditions speak of."""

    connected: bool
    latency: float
    status_code: int | None = None
    body: Any = None  # parsed JSON when the body was JSON, else the text


def _walk(body: Any, path: tuple[str, ...]) -> Any:
    value = body
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _compare(left: Any, op: str, right: str) -> bool:
    if left is None:
        return op == "!=" and right not in ("", "null", "nil")
    if isinstance(left, bool):
        wanted = right.lower() in ("true", "1", "yes")
        return (left == wanted) if op == "==" else (left != wanted) if op == "!=" else False
    if isinstance(left, int | float):
        try:
            number = float(right)
        except ValueError:
            return op == "!="
        return _ordered(float(left), op, number)
    text = left if isinstance(left, str) else str(left)
    right_text = right.strip('"')
    if op in ("==", "!="):
        return (text == right_text) if op == "==" else (text != right_text)
    try:
        return _ordered(float(text), op, float(right_text))
    except ValueError:
        return False


def _ordered(left: float, op: str, right: float) -> bool:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def check_conditions(conditions: Sequence[Condition], seen: Seen) -> str | None:
    """None when every condition holds, else the reason the first failing one gives."""
    for condition in conditions:
        if not condition.holds(seen):
            return condition.explain(seen)
    return None


def health_json_verdict(body: Any) -> tuple[bool, bool, str]:
    """Read an `application/health+json` body (draft-inadarei-api-health-check).

    Returns (ok, degraded, reason): `fail` fails the probe; `warn`, or any component check that
    is not `pass`, marks it degraded and names the components.
    """
    if not isinstance(body, dict):
        return False, False, "health+json body is not an object"
    status = str(body.get("status", "")).lower()
    if status in ("fail", "error", "down"):
        return False, False, f"service reports status {status}" + _component_note(body)
    problems = _failing_components(body)
    if status == "warn" or problems:
        note = f": {', '.join(problems)}" if problems else ""
        return True, True, f"service reports {status or 'pass'} with degraded components{note}"
    if status in ("pass", "ok", "up"):
        return True, False, ""
    return False, False, f"health+json status {body.get('status')!r} is none of pass, warn, fail"


def _failing_components(body: dict[str, Any]) -> list[str]:
    checks = body.get("checks")
    if not isinstance(checks, dict):
        return []
    found: list[str] = []
    for name, entries in checks.items():
        items = entries if isinstance(entries, list) else [entries]
        for item in items:
            if isinstance(item, dict) and str(item.get("status", "pass")).lower() not in (
                "pass",
                "ok",
                "up",
            ):
                found.append(f"{name} {item.get('status')}")
                break
    return found


def _component_note(body: dict[str, Any]) -> str:
    problems = _failing_components(body)
    return f" ({', '.join(problems)})" if problems else ""
