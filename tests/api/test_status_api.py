"""Maintenance windows and incident updates over the REST API: written by coordinators, read by
readers, bad input refused with the field named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from api.helpers import Api, running_api
from passmuster.core.catalog import Service
from passmuster.core.issues import IssueDraft, IssueType


@pytest.fixture
def api(sqlite_url: str) -> Iterator[Api]:
    with running_api(sqlite_url) as running:
        running.desk.ensure_service(Service(name="billing"))
        yield running


def _window(**changes: object) -> dict[str, object]:
    start = datetime.now(UTC) + timedelta(hours=1)
    body: dict[str, object] = {
        "message": "Database upgrade",
        "services": ["billing"],
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
    }
    body.update(changes)
    return body


def test_a_coordinator_schedules_lists_and_cancels_a_window(api: Api) -> None:
    made = api.post(
        "/api/v1/maintenance", role="coordinator", json=_window(recurrence="FREQ=WEEKLY;BYDAY=SU")
    )
    assert made.status_code == 201, made.text
    window = made.json()
    assert window["services"] == ["billing"] and window["recurrence"] == "FREQ=WEEKLY;BYDAY=SU"
    assert [w["id"] for w in api.get("/api/v1/maintenance").json()] == [window["id"]]
    assert api.post("/api/v1/maintenance", role="reporter", json=_window()).status_code == 403
    gone = api.client.delete(f"/api/v1/maintenance/{window['id']}", headers=api.auth("coordinator"))
    assert gone.status_code == 204
    assert api.get("/api/v1/maintenance").json() == []
    again = api.client.delete(
        f"/api/v1/maintenance/{window['id']}", headers=api.auth("coordinator")
    )
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"services": ["nobody"]}, "services"),
        ({"ends_at": "2020-01-01T00:00:00Z"}, "ends_at"),
        ({"starts_at": "2027-01-01T00:00:00", "ends_at": "2027-01-01T01:00:00"}, "starts_at"),
        ({"recurrence": "FREQ=SOMETIMES"}, "recurrence"),
        ({"recurrence": "FREQ=MINUTELY"}, "recurrence"),  # occurrences would overlap
        ({"starts_at": "tomorrow"}, "starts_at"),
    ],
)
def test_a_bad_window_is_refused_with_its_field(
    api: Api, changes: dict[str, object], field: str
) -> None:
    response = api.post("/api/v1/maintenance", role="coordinator", json=_window(**changes))
    assert response.status_code == 422, response.text
    assert field in response.text
    assert api.get("/api/v1/maintenance").json() == []


def test_updates_are_posted_to_incidents_only(api: Api) -> None:
    incident = api.desk.file(
        IssueDraft(title="billing is down", type=IssueType.INCIDENT, services=["billing"]),
        actor="monitor",
    )
    bug = api.desk.file(IssueDraft(title="a bug"), actor="bob")
    path = f"/api/v1/issues/{incident.number}/updates"
    posted = api.post(
        path, role="coordinator", json={"stage": "identified", "message": "A bad deploy."}
    )
    assert posted.status_code == 201, posted.text
    assert [u["stage"] for u in api.get(path).json()] == ["identified"]
    refused = api.post(
        f"/api/v1/issues/{bug.number}/updates",
        role="coordinator",
        json={"stage": "identified", "message": "x"},
    )
    assert refused.status_code == 422 and "incident" in refused.text
    assert (
        api.post(path, role="coordinator", json={"stage": "fixed?", "message": "x"}).status_code
        == 422
    )
    assert (
        api.post(path, role="reporter", json={"stage": "monitoring", "message": "x"}).status_code
        == 403
    )
    # The internal timeline records who told the public what.
    events = [e for e in api.desk.events(issue=incident.number) if e.field == "public update"]
    assert [(e.actor, e.new) for e in events] == [("coordinator", "identified")]
