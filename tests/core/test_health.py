from __future__ import annotations

import pytest

from passmuster.core.health import (
    Condition,
    Health,
    IncidentAction,
    ProbeResult,
    Seen,
    TargetState,
    Thresholds,
    after_incident,
    check_conditions,
    dependency_order,
    failing_dependencies,
    health_json_verdict,
    incident_action,
    observe,
    root_cause,
)
from passmuster.errors import InvalidValue

T = Thresholds(failure=3, success=2, cooldown_ms=60_000)


def _fail(at: int, reason: str = "connection refused") -> ProbeResult:
    return ProbeResult(ok=False, latency=0.001, at=at, reason=reason)


def _ok(at: int, degraded: bool = False) -> ProbeResult:
    return ProbeResult(ok=True, latency=0.001, at=at, status_code=200, degraded=degraded)


def _run(state: TargetState, results: list[ProbeResult]) -> tuple[TargetState, list[Health]]:
    flips = []
    for result in results:
        seen = observe(state, result, T)
        state = seen.state
        if seen.flip:
            flips.append(seen.flip.new)
    return state, flips


def test_a_target_goes_down_only_after_the_failure_threshold() -> None:
    state, flips = _run(TargetState(health=Health.UP), [_fail(1), _fail(2)])
    assert flips == [] and state.health is Health.UP and state.failures == 2
    state, flips = _run(state, [_fail(3)])
    assert flips == [Health.DOWN]
    assert state.recent_failures == ("connection refused",) * 3


def test_a_success_in_between_resets_the_failure_count() -> None:
    state, flips = _run(TargetState(health=Health.UP), [_fail(1), _fail(2), _ok(3), _fail(4)])
    assert flips == [] and state.failures == 1


def test_a_down_target_needs_the_success_threshold_to_come_back() -> None:
    down, _ = _run(TargetState(health=Health.UP), [_fail(1), _fail(2), _fail(3)])
    state, flips = _run(down, [_ok(4)])
    assert flips == [] and state.health is Health.DOWN
    state, flips = _run(state, [_ok(5)])
    assert flips == [Health.UP] and state.recent_failures == ()
    assert state.flips == 2 and state.since == 5


def test_a_new_target_takes_its_first_answer_at_face_value() -> None:
    _, flips = _run(TargetState(), [_ok(1, degraded=True), _ok(2)])
    assert flips == [Health.DEGRADED, Health.UP]


def test_failure_reasons_keep_only_the_last_few_with_status() -> None:
    results = [
        ProbeResult(ok=False, latency=0, at=i, reason=f"r{i}", status_code=503) for i in range(9)
    ]
    state, _ = _run(TargetState(health=Health.UP), results)
    assert state.recent_failures == tuple(f"r{i} (HTTP 503)" for i in range(4, 9))


def test_incident_opens_then_resolves_then_reopens_within_the_cooldown() -> None:
    state = TargetState(health=Health.UP)
    obs = observe(state, _fail(0), Thresholds(failure=1, success=1, cooldown_ms=100))
    assert obs.flip is not None
    assert incident_action(state, obs.flip, T) is IncidentAction.OPEN
    state = after_incident(obs.state, IncidentAction.OPEN, 7, 0)
    up = observe(state, _ok(10), Thresholds(failure=1, success=1))
    assert up.flip is not None
    assert incident_action(state, up.flip, T) is IncidentAction.RESOLVE
    state = after_incident(up.state, IncidentAction.RESOLVE, None, 10)
    again = observe(state, _fail(50), Thresholds(failure=1, success=1))
    assert again.flip is not None
    assert incident_action(state, again.flip, T) is IncidentAction.REOPEN
    late = observe(state, _fail(10 + 60_001), Thresholds(failure=1, success=1))
    assert late.flip is not None
    assert incident_action(state, late.flip, T) is IncidentAction.OPEN


def test_root_cause_is_the_nearest_down_dependency() -> None:
    deps = {"gateway": ["identity"], "identity": ["db"], "billing": ["db", "cache"]}
    assert root_cause("gateway", deps, {"db"}) == "db"
    assert root_cause("gateway", deps, {"db", "identity"}) == "identity"
    assert root_cause("billing", deps, {"mail"}) is None
    assert failing_dependencies("billing", deps, {"cache", "gateway"}) == ["cache"]


def test_dependencies_come_before_dependents_even_with_a_cycle() -> None:
    deps = {"a": ["db"], "b": ["a"], "db": [], "x": ["y"], "y": ["x"]}
    order = dependency_order(["b", "a", "db", "x", "y"], deps)
    assert order.index("db") < order.index("a") < order.index("b")
    assert set(order) == {"a", "b", "db", "x", "y"}


@pytest.mark.parametrize(
    ("text", "seen", "holds"),
    [
        ("[STATUS] == 200", Seen(True, 0.01, 200), True),
        ("[STATUS] == 200", Seen(True, 0.01, 503), False),
        ("[STATUS] < 300", Seen(True, 0.01, 204), True),
        ("[RESPONSE_TIME] < 300", Seen(True, 0.2, 200), True),
        ("[RESPONSE_TIME] < 300", Seen(True, 0.4, 200), False),
        ("[BODY].status == UP", Seen(True, 0, 200, {"status": "UP"}), True),
        ("[BODY].status == UP", Seen(True, 0, 200, {"status": "DOWN"}), False),
        ("[BODY].data[1].ok == true", Seen(True, 0, 200, {"data": [{}, {"ok": True}]}), True),
        ("len([BODY].items) == 2", Seen(True, 0, 200, {"items": [1, 2]}), True),
        ("[CONNECTED] == true", Seen(True, 0), True),
        ("[CONNECTED] == true", Seen(False, 0), False),
        ("[BODY].missing == UP", Seen(True, 0, 200, {}), False),
    ],
)
def test_gatus_conditions(text: str, seen: Seen, holds: bool) -> None:
    assert Condition.parse(text).holds(seen) is holds


def test_a_failing_condition_explains_what_it_saw() -> None:
    reason = check_conditions([Condition.parse("[STATUS] == 200")], Seen(True, 0, 503))
    assert reason == "condition [STATUS] == 200 failed (saw 503)"


@pytest.mark.parametrize("text", ["STATUS == 200", "[FOO] == 1", "[STATUS].x == 1", "[STATUS] ~ 1"])
def test_a_malformed_condition_is_refused_with_the_syntax(text: str) -> None:
    with pytest.raises(InvalidValue):
        Condition.parse(text)


def test_health_json_warn_or_a_failing_component_is_degraded() -> None:
    assert health_json_verdict({"status": "pass"}) == (True, False, "")
    ok, degraded, reason = health_json_verdict(
        {"status": "pass", "checks": {"db:responseTime": [{"status": "warn"}]}}
    )
    assert ok and degraded and "db:responseTime warn" in reason
    assert health_json_verdict({"status": "warn"})[:2] == (True, True)
    ok, _, reason = health_json_verdict({"status": "fail", "checks": {"db": [{"status": "fail"}]}})
    assert not ok and "db fail" in reason


def test_thresholds_refuse_nonsense() -> None:
    with pytest.raises(InvalidValue):
        Thresholds(failure=0)
