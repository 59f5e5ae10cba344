from __future__ import annotations

from datetime import UTC, datetime, timedelta

from passmuster.core.delivery import Deployment, Trouble, delivery_keys

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)


def _keys(deployments: list[Deployment], troubles: list[Trouble] = (), **kw: object):  # type: ignore[assignment]
    return delivery_keys(
        deployments,
        troubles,
        window=kw.pop("window", 24 * H),
        now=T0 + 30 * 24 * H,
        **kw,  # type: ignore[arg-type]
    )


def test_frequency_counts_successful_deployments_per_day() -> None:
    deps = [Deployment(i, "billing", T0 + i * 24 * H, True) for i in range(4)]
    deps.append(Deployment(9, "billing", T0 + 5 * H, False))
    keys = _keys(deps, since=T0, until=T0 + 4 * 24 * H)
    assert keys.deployments == 4
    assert keys.failed == 1
    assert keys.per_day == 1.0


def test_lead_time_counts_each_change_once_from_its_commit() -> None:
    commit_at = T0 - 10 * H
    deps = [
        Deployment(1, "billing", T0, True, "abc", commit_at),
        Deployment(2, "billing", T0 + 48 * H, True, "abc", commit_at),  # same change again
        Deployment(3, "identity", T0 + 2 * H, True, "def", T0),
    ]
    keys = _keys(deps)
    assert keys.lead_time_hours == 6.0  # median of 10 h and 2 h
    assert keys.lead_time_p90_hours == 10.0


def test_an_incident_soon_after_a_deployment_is_a_change_failure_it_caused() -> None:
    deps = [
        Deployment(1, "billing", T0, True),
        Deployment(2, "billing", T0 + 2 * H, True),
        Deployment(3, "identity", T0, True),
    ]
    troubles = [
        Trouble(7, ("billing",), T0 + 3 * H, T0 + 4 * H),  # after deployment 2, not 1
        Trouble(8, ("identity",), T0 + 30 * H, None),  # outside the window
    ]
    keys = _keys(deps, troubles)
    assert keys.caused == {2: [7]}
    assert keys.change_failures == 1
    assert keys.change_failure_rate == round(1 / 3, 4)
    assert keys.restore_hours == 1.0


def test_a_failed_deployment_is_restored_by_the_next_good_one() -> None:
    deps = [
        Deployment(1, "billing", T0, False),
        Deployment(2, "billing", T0 + 3 * H, True),
        Deployment(3, "tenants", T0, False),  # never fixed
    ]
    keys = _keys(deps)
    assert keys.change_failure_rate == round(2 / 3, 4)
    assert keys.restore_hours == 3.0
    assert keys.unrestored == 1


def test_weeks_carry_the_four_keys_for_charts() -> None:
    deps = [
        Deployment(1, "billing", T0, True, "a", T0 - 2 * H),
        Deployment(2, "billing", T0 + 7 * 24 * H, False),
        Deployment(3, "billing", T0 + 7 * 24 * H + H, True, "b", T0 + 7 * 24 * H - H),
    ]
    weeks = _keys(deps).weeks
    assert [w.label for w in weeks] == ["2026-W10", "2026-W11"]
    assert (weeks[0].deployments, weeks[0].failed, weeks[0].lead_time_hours) == (1, 0, 2.0)
    assert (weeks[1].deployments, weeks[1].failed) == (1, 1)
    assert weeks[1].change_failure_rate == 0.5
    assert weeks[1].restore_hours == 1.0


def test_nothing_recorded_gives_empty_keys() -> None:
    keys = _keys([])
    assert keys.deployments == 0
    assert keys.change_failure_rate is None
    assert keys.lead_time_hours is None
    assert keys.to_dict()["weeks"] == []
