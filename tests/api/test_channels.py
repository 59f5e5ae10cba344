"""A disabled notification channel shows wherever people look — the API, /metrics, every page
— and a coordinator can enable it again from there."""

from __future__ import annotations

from api.helpers import Api
from tests.monitor.helpers import disable_pager


def test_the_api_lists_channels_and_a_coordinator_enables_one(api: Api) -> None:
    disable_pager(api.desk)
    listed = {c["name"]: c for c in api.get("/api/v1/channels").json()}
    assert listed["pager"]["state"] == "disabled" and listed["pager"]["pending"] == 1
    assert "HTTP 404" in listed["pager"]["disabled_reason"]
    assert listed["ops"]["state"] == "enabled"
    assert api.post("/api/v1/channels/pager/enable", "reporter").status_code == 403
    enabled = api.post("/api/v1/channels/pager/enable", "coordinator")
    assert enabled.status_code == 200 and enabled.json()["state"] == "enabled"
    assert enabled.json()["pending"] == 1  # still waiting: the monitor sends it next round
    assert api.post("/api/v1/channels/nope/enable", "coordinator").status_code == 404


def test_metrics_show_the_disabled_channel(api: Api) -> None:
    disable_pager(api.desk)
    scraped = api.get("/metrics", "reader").text
    assert 'passmuster_channel_disabled{channel="pager"} 1.0' in scraped
    assert 'passmuster_channel_disabled{channel="ops"} 0.0' in scraped
