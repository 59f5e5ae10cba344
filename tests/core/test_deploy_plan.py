from __future__ import annotations

import pytest

from passmuster.core.deploy.plan import find_cycle, make_plan
from passmuster.errors import ConfigError, InvalidValue

PLATFORM = {
    "postgres": [],
    "redis": [],
    "identity": ["postgres"],
    "billing": ["postgres"],
    "tenants": ["identity", "postgres", "redis"],
    "gateway": ["identity", "tenants", "billing"],
}


def test_services_start_in_waves_after_what_they_need() -> None:
    plan = make_plan(PLATFORM)
    assert plan.waves == (
        ("postgres", "redis"),
        ("billing", "identity"),
        ("tenants",),
        ("gateway",),
    )
    for service in plan.services:
        for dep in PLATFORM[service]:
            assert plan.wave_of(dep) < plan.wave_of(service)


def test_a_selection_checks_the_dependencies_it_leaves_out() -> None:
    plan = make_plan(PLATFORM, ["tenants", "gateway"])
    assert plan.waves == (("tenants",), ("gateway",))
    assert plan.outside == {
        "tenants": ("identity", "postgres", "redis"),
        "gateway": ("billing", "identity"),
    }


def test_left_out_services_are_neither_planned_nor_waited_for() -> None:
    plan = make_plan(PLATFORM, left_out=["redis"])
    assert "redis" not in plan.services
    assert "redis" not in plan.outside.get("tenants", ())


def test_an_unknown_service_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InvalidValue) as caught:
        make_plan(PLATFORM, ["biling"])
    assert "biling" in caught.value.message
    assert "billing" in caught.value.message


def test_a_dependency_cycle_is_named() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": []}
    with pytest.raises(ConfigError) as caught:
        make_plan(graph)
    assert "a -> b -> c -> a" in caught.value.message


def test_a_cycle_among_services_not_deployed_does_not_block_the_others() -> None:
    graph = {"a": ["b"], "b": ["a"], "c": []}
    assert make_plan(graph, ["c"]).waves == (("c",),)


def test_a_dependency_nobody_defines_is_reported_not_fatal() -> None:
    plan = make_plan({"gateway": ["auth-service"]})
    assert plan.unknown == {"gateway": ("auth-service",)}
    assert plan.waves == (("gateway",),)


def test_find_cycle_sees_a_service_depending_on_itself() -> None:
    assert find_cycle({"a": ["a"]}) == ["a", "a"]
    assert find_cycle(PLATFORM) is None


def test_dependents_of_a_failure_are_found_transitively() -> None:
    plan = make_plan(PLATFORM)
    assert plan.dependents(["identity"]) == {"tenants", "gateway"}
    assert plan.blocked_by("gateway", {"postgres"}) == "postgres"
    assert plan.blocked_by("billing", {"identity"}) is None
