"""Issues over the REST API, on SQLite and PostgreSQL: the whole life of an issue, and errors
that name the field at fault."""

from __future__ import annotations

import time

import pytest

from api.helpers import Api, running_api


def file(api: Api, **fields: object) -> dict[str, object]:
    response = api.post("/api/v1/issues", "reporter", json={"title": "Login fails", **fields})
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


def test_it_files_an_issue_with_every_field_and_reads_it_back(api: Api) -> None:
    created = file(
        api,
        type="incident",
        severity="critical",
        priority="immediate",
        services=["identity", "gateway"],
        component="auth",
        description="Users get 500 on /login",
        error_details=["Traceback ...\nKeyError: 'sub'"],
        tasks=[{"text": "roll back", "done": True}, {"text": "add test"}],
        files_changed=[{"path": "identity/app/main.py", "note": "guard"}],
        labels=["prod"],
        extra_sections=[{"name": "Timeline", "body": "10:00 first report"}],
    )
    assert created["ref"] == "#001" and created["reporter"] == "reporter"
    read = api.get("/api/v1/issues/1").json()
    assert read["services"] == ["identity", "gateway"]
    assert read["tasks"] == [
        {"text": "roll back", "done": True},
        {"text": "add test", "done": False},
    ]
    assert read["error_details"] == ["Traceback ...\nKeyError: 'sub'"]
    assert read["extra_sections"] == [{"name": "Timeline", "body": "10:00 first report"}]


def test_it_lists_with_filters_and_paging(api: Api) -> None:
    file(api, title="Gateway 502", severity="high", services=["gateway"])
    file(api, title="Billing slow", severity="low", type="performance", services=["billing"])
    file(api, title="Gateway timeout", severity="high", services=["gateway"])
    page = api.get("/api/v1/issues", params={"service": "gateway", "severity": "high"}).json()
    assert [i["title"] for i in page["items"]] == ["Gateway 502", "Gateway timeout"]
    assert page["total"] == 2
    perf = api.get("/api/v1/issues", params={"type": "performance"}).json()
    assert [i["number"] for i in perf["items"]] == [2]
    second = api.get("/api/v1/issues", params={"limit": 1, "offset": 1}).json()
    assert [i["number"] for i in second["items"]] == [2] and second["total"] == 3
    found = api.get("/api/v1/issues/search", params={"q": "timeout"}).json()
    assert [i["number"] for i in found] == [3]


def test_updates_use_compare_and_set(api: Api) -> None:
    version = file(api)["version"]
    changed = api.patch(
        "/api/v1/issues/1", "coordinator", json={"severity": "high", "expected_version": version}
    )
    assert changed.status_code == 200 and changed.json()["severity"] == "high"
    stale = api.patch(
        "/api/v1/issues/1", "coordinator", json={"severity": "low", "expected_version": version}
    )
    assert stale.status_code == 409
    assert api.get("/api/v1/issues/1").json()["severity"] == "high"


def test_transitions_follow_the_workflow_and_name_the_allowed_ones(api: Api) -> None:
    file(api)
    ok = api.post("/api/v1/issues/1/transitions", "coordinator", json={"to": "in_progress"})
    assert ok.json()["status"] == "in_progress"
    resolved = api.post(
        "/api/v1/issues/1/transitions",
        "coordinator",
        json={"to": "resolved", "resolution": "rotated the key", "root_cause": "expired key"},
    )
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolution"] == "rotated the key"
    bad = api.post("/api/v1/issues/1/transitions", "coordinator", json={"to": "blocked"})
    assert bad.status_code == 409
    assert "allowed: open, closed" in bad.json()["error"]["message"]
    no_reason = api.post("/api/v1/issues/1/transitions", "coordinator", json={"to": "closed"})
    assert no_reason.status_code == 409 and no_reason.json()["error"]["field"] == "close_reason"


def test_comments_links_acknowledgement_and_timeline(api: Api) -> None:
    file(api)
    file(api, title="Second")
    assert (
        api.post("/api/v1/issues/2/comments", "reporter", json={"body": "me too"}).status_code
        == 201
    )
    linked = api.post(
        "/api/v1/issues/2/links", "coordinator", json={"kind": "duplicate_of", "target": 1}
    )
    assert linked.json()["links"] == [{"kind": "duplicate_of", "target": 1}]
    acked = api.post("/api/v1/issues/2/acknowledge", "coordinator")
    assert acked.json()["acknowledged_at"]
    comments = api.get("/api/v1/issues/2/comments").json()
    assert [c["body"] for c in comments] == ["me too"]
    kinds = [e["kind"] for e in api.get("/api/v1/issues/2/events").json()["items"]]
    assert kinds[0] == "created" and {"commented", "linked", "acknowledged"} <= set(kinds)


def test_the_event_timeline_pages_by_cursor(api: Api) -> None:
    for n in range(5):
        file(api, title=f"issue {n}")
    first = api.get("/api/v1/events", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"] == first["items"][-1]["id"]
    seen = [e["id"] for e in first["items"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        page = api.get("/api/v1/events", params={"limit": 2, "after": cursor}).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 5
    only = api.get("/api/v1/events", params={"kind": "created"}).json()["items"]
    assert {e["kind"] for e in only} == {"created"}


def test_ready_and_claim_hand_out_work_once(api: Api) -> None:
    file(api, title="urgent", severity="critical")
    file(api, title="later", severity="low")
    ready = api.get("/api/v1/issues/ready").json()
    assert [i["title"] for i in ready][:1] == ["urgent"]
    first = api.post("/api/v1/issues/claim", "coordinator").json()["issue"]
    second = api.post("/api/v1/issues/claim", "coordinator").json()["issue"]
    assert first["title"] == "urgent" and first["assignee"] == "coordinator"
    assert second["title"] == "later"
    assert api.post("/api/v1/issues/claim", "coordinator").json() == {"issue": None}


def test_errors_are_json_and_name_the_field(api: Api) -> None:
    bad = api.post("/api/v1/issues", "reporter", json={"title": "x", "severity": "urgent"})
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["field"] == "severity" and "critical" in error["message"]
    missing = api.post("/api/v1/issues", "reporter", json={})
    assert missing.json()["error"]["field"] == "title"
    nul = api.post("/api/v1/issues", "reporter", json={"title": "a\u0000b"})
    assert nul.status_code == 422 and "NUL" in nul.json()["error"]["message"]
    big = api.post("/api/v1/issues", "reporter", json={"title": "x", "description": "d" * 100_001})
    assert big.status_code == 422 and big.json()["error"]["field"] == "description"
    long_title = api.post("/api/v1/issues", "reporter", json={"title": "t" * 301})
    assert long_title.status_code == 422 and long_title.json()["error"]["field"] == "title"
    unknown = api.get("/api/v1/issues/999")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert api.get("/api/v1/nothing-here").json()["error"]["code"] == "not_found"
    assert api.get("/api/v1/issues").json()["total"] == 0  # nothing was stored by the bad calls


def test_services_health_reports_and_incidents(api: Api) -> None:
    put = api.client.put(
        "/api/v1/services/identity",
        json={"kind": "service", "depends_on": ["postgres"], "owner": "team-a"},
        headers=api.auth("coordinator"),
    )
    assert put.status_code == 200 and put.json()["depends_on"] == ["postgres"]
    assert api.get("/api/v1/services/identity").json()["owner"] == "team-a"
    assert api.get("/api/v1/services/nope").status_code == 404
    file(api, title="identity down", type="incident", severity="critical", services=["identity"])
    file(api, title="typo", severity="low", services=["identity"])
    incidents = api.get("/api/v1/incidents").json()
    assert [i["title"] for i in incidents["items"]] == ["identity down"]
    assert len(api.get("/api/v1/services/identity/issues").json()) == 2
    health = api.get("/api/v1/services/identity/health").json()
    assert health["name"] == "identity" and health["state"] in ("up", "down", "degraded", "unknown")
    stats = api.get("/api/v1/stats").json()
    assert stats["total"] == 2 and stats["by_type"]["incident"] == 1
    assert isinstance(api.get("/api/v1/sla").json(), list)
    since = api.get("/api/v1/stats", params={"since": "2020-01-01T00:00:00"})
    assert since.status_code == 422 and since.json()["error"]["field"] == "since"


def test_claims_take_leases_that_the_holder_renews_and_releases(api: Api) -> None:
    file(api, title="urgent", severity="critical")
    file(api, title="later", severity="low")
    named = api.post("/api/v1/issues/claim", "coordinator", json={"number": 2, "lease": "90s"})
    claimed = named.json()["issue"]
    assert claimed["number"] == 2 and claimed["lease"]["holder"] == "coordinator"
    ready = [i["number"] for i in api.get("/api/v1/issues/ready").json()]
    assert ready == [1]  # the claimed issue is never offered
    taken = api.post("/api/v1/issues/claim", "admin", json={"number": 2})
    assert taken.status_code == 409 and "claimed by coordinator" in taken.json()["error"]["message"]
    renewed = api.post("/api/v1/issues/2/renew", "coordinator", json={"lease": "45m"}).json()
    assert renewed["lease"]["until"] > claimed["lease"]["until"]
    assert renewed["version"] == claimed["version"]
    assert api.post("/api/v1/issues/2/release", "admin").status_code == 409
    held = api.get("/api/v1/agents").json()
    assert [(h["agent"], h["issue"], h["expired"]) for h in held] == [("coordinator", 2, False)]
    released = api.post("/api/v1/issues/2/release", "coordinator").json()
    assert (released["assignee"], released["lease"], released["status"]) == (None, None, "open")
    assert api.get("/api/v1/agents").json() == []
    bad = api.post("/api/v1/issues/claim", "coordinator", json={"lease": "forever"})
    assert bad.status_code == 422 and "invalid lease 'forever'" in bad.json()["error"]["message"]


def test_the_server_returns_lapsed_claims_to_the_queue_by_itself(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSMUSTER_LEASE_SWEEP_INTERVAL", "0.2")
    with running_api(sqlite_url) as api:
        file(api, title="orphaned by a dead agent")
        claimed = api.post("/api/v1/issues/claim", "coordinator", json={"lease": "1s"})
        assert claimed.json()["issue"]["assignee"] == "coordinator"
        deadline = time.monotonic() + 20
        while api.desk.get(1).assignee is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        issue = api.desk.get(1)
        assert (issue.assignee, issue.lease, issue.status.value) == (None, None, "open")
        expired = [e for e in api.desk.events(issue=1) if e.kind == "lease_expired"]
        assert [e.old for e in expired] == ["coordinator"]


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (
            b'{"title": "x",}',
            {"content-type": "application/json"},
            "the body is not valid JSON at character 14: Expecting property name enclosed in "
            "double quotes",
        ),
        (
            # curl -d without -H 'content-type: application/json' sends a form.
            b'{"title": "x"}',
            {"content-type": "application/x-www-form-urlencoded"},
            "the body must be a JSON object, sent with Content-Type: application/json",
        ),
        (b"[1]", {"content-type": "application/json"}, "the body must be a JSON object"),
    ],
)
def test_a_body_that_is_no_json_object_is_named_as_the_body(
    sqlite_api: Api, body: bytes, headers: dict[str, str], message: str
) -> None:
    response = sqlite_api.client.post(
        "/api/v1/issues", content=body, headers={**sqlite_api.auth("reporter"), **headers}
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": message,
        "field": "body",
    }
