"""CI reports deployments through POST /api/v1/deployments: authenticated, role-checked,
limited in size, and recorded like the CLI's, failure issues included."""

from __future__ import annotations

from typing import Any

from api.helpers import Api

CRASH = (
    "Step 7/7 : CMD uvicorn app.main:app\n"
    'Traceback (most recent call last):\n  File "/app/app/main.py", line 5, in <module>\n'
    "    from fastapi import FastAPI, HTTPStatus\n"
    "ImportError: cannot import name 'HTTPStatus' from 'fastapi'\n"
)


def _event(deployment_id: int, state: str, **extra: Any) -> dict[str, Any]:
    """A GitHub deployment_status webhook body, with passmuster's `service` added."""
    return {
        "action": "created",
        "deployment_status": {
            "state": state,
            "log_url": f"https://ci.example.com/runs/{deployment_id}",
            "created_at": "2026-03-02T10:05:00Z",
            "updated_at": "2026-03-02T10:06:00Z",
        },
        "deployment": {
            "id": deployment_id,
            "sha": "0123456789abcdef0123456789abcdef01234567",
            "ref": "main",
            "environment": "production",
            "created_at": "2026-03-02T10:00:00Z",
            "payload": {},
        },
        "repository": {"full_name": "acme/platform"},
        "service": "billing",
        **extra,
    }


def test_a_ci_deployment_is_recorded_and_updated_by_its_later_statuses(api: Api) -> None:
    running = api.post("/api/v1/deployments", "coordinator", json=_event(41, "in_progress"))
    assert running.status_code == 201, running.text
    attempt = running.json()["attempts"][0]
    assert (attempt["service"], attempt["result"], attempt["source"]) == (
        "billing",
        "running",
        "ci",
    )
    done = api.post("/api/v1/deployments", "coordinator", json=_event(41, "success"))
    assert done.json()["attempts"][0]["id"] == attempt["id"]
    assert done.json()["attempts"][0]["result"] == "succeeded"
    assert done.json()["attempts"][0]["duration"] == 360.0
    listed = api.get("/api/v1/deployments").json()
    assert [(a["service"], a["result"], a["environment"]) for a in listed] == [
        ("billing", "succeeded", "production")
    ]
    assert listed[0]["url"] == "https://ci.example.com/runs/41"


def test_a_failed_ci_deployment_opens_its_class_issue_and_a_success_clears_it(api: Api) -> None:
    failed = api.post(
        "/api/v1/deployments", "coordinator", json=_event(7, "failure", output=CRASH, exit_code=1)
    )
    assert failed.status_code == 201, failed.text
    change = failed.json()["issues"][0]
    assert change["action"] == "opened"
    issue = api.get(f"/api/v1/issues/{change['issue']}").json()
    assert issue["type"] == "deployment"
    assert issue["services"] == ["billing"]
    again = api.post("/api/v1/deployments", "coordinator", json=_event(7, "failure", output=CRASH))
    assert again.json()["issues"] == []  # the same news twice changes nothing
    fixed = api.post("/api/v1/deployments", "coordinator", json=_event(8, "success"))
    assert fixed.json()["issues"][0]["action"] == "resolved"
    assert api.get(f"/api/v1/issues/{change['issue']}").json()["status"] == "resolved"
    detail = api.get(f"/api/v1/deployments/attempts/{failed.json()['attempts'][0]['id']}")
    assert "HTTPStatus" in detail.json()["output"]
    assert detail.json()["failure"] == "import-error"


def test_services_may_come_in_the_deployment_payload(api: Api) -> None:
    body = _event(9, "success")
    del body["service"]
    body["deployment"]["payload"] = {"services": ["identity", "tenants"]}
    done = api.post("/api/v1/deployments", "coordinator", json=body)
    assert sorted(a["service"] for a in done.json()["attempts"]) == ["identity", "tenants"]
    status = api.get("/api/v1/deployments/status").json()
    assert [s["service"] for s in status] == ["identity", "tenants"]


def test_a_report_without_a_service_or_with_a_bad_state_is_refused(api: Api) -> None:
    body = _event(1, "success")
    del body["service"]
    refused = api.post("/api/v1/deployments", "coordinator", json=body)
    assert refused.status_code == 422
    assert "service" in refused.text
    assert (
        api.post("/api/v1/deployments", "coordinator", json=_event(1, "exploded")).status_code
        == 422
    )
    assert (
        api.post(
            "/api/v1/deployments", "coordinator", json=_event(1, "success", service="no way")
        ).status_code
        == 422
    )


def test_only_coordinators_report_deployments(api: Api) -> None:
    anonymous = api.client.post("/api/v1/deployments", json=_event(1, "success"))
    assert anonymous.status_code == 401
    for role in ("reader", "reporter"):
        assert api.post("/api/v1/deployments", role, json=_event(1, "success")).status_code == 403
    assert api.get("/api/v1/deployments").json() == []


def test_a_report_over_the_body_limit_is_refused_before_it_is_read(api: Api) -> None:
    huge = _event(1, "failure", output="x" * (2 * 1024 * 1024))
    assert api.post("/api/v1/deployments", "coordinator", json=huge).status_code == 413


def test_the_delivery_keys_are_served(api: Api) -> None:
    api.post("/api/v1/deployments", "coordinator", json=_event(3, "success"))
    keys = api.get("/api/v1/deployments/delivery").json()
    assert keys["deployments"] == 1
    assert keys["change_failure_rate"] == 0.0
