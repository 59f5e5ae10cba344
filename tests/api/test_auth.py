"""Who may do what: no token reads and writes nothing; roles are a ladder, enforced per route."""

from __future__ import annotations

import pytest

from api.helpers import Api

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def api_operations(api: Api) -> list[tuple[str, str]]:
    """Every (method, concrete path) the OpenAPI spec lists, path parameters filled in."""
    spec = api.client.get("/api/v1/openapi.json").json()
    out = []
    for template, operations in spec["paths"].items():
        path = template.replace("{number}", "1").replace("{name}", "identity")
        out += [(method.upper(), path) for method in operations]
    return out


def test_without_a_token_nothing_can_be_read_or_written(api: Api) -> None:
    api.post("/api/v1/issues", json={"title": "exists", "services": ["identity"]})
    operations = api_operations(api)
    assert len(operations) > 20
    for method, path in operations:
        response = api.client.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] == "auth_error"
        assert response.headers["www-authenticate"] == "Bearer"


def test_an_unknown_or_malformed_token_is_refused(api: Api) -> None:
    for header in ("Bearer pm_nope", "Basic abc", "pm_nope"):
        response = api.client.get("/api/v1/issues", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_a_reader_can_read_but_not_write(api: Api) -> None:
    api.post("/api/v1/issues", json={"title": "exists", "services": ["identity"]})
    assert api.get("/api/v1/issues").status_code == 200
    assert api.get("/api/v1/issues/1").status_code == 200
    for method, path in api_operations(api):
        if method not in WRITES or path == "/api/v1/issues/known-fixes":
            continue
        response = api.client.request(method, path, json={}, headers=api.auth("reader"))
        assert response.status_code == 403, (method, path, response.text)
        assert "needs" in response.json()["error"]["message"]


def test_a_reporter_files_and_comments_but_cannot_close_or_make_tokens(api: Api) -> None:
    filed = api.post("/api/v1/issues", "reporter", json={"title": "Checkout 500"})
    assert filed.status_code == 201
    number = filed.json()["number"]
    comment = api.post(f"/api/v1/issues/{number}/comments", "reporter", json={"body": "seen too"})
    assert comment.status_code == 201
    close = api.post(
        f"/api/v1/issues/{number}/transitions",
        "reporter",
        json={"to": "closed", "reason": "invalid"},
    )
    assert close.status_code == 403
    token = api.post("/api/v1/tokens", "reporter", json={"name": "x", "role": "admin"})
    assert token.status_code == 403
    assert api.get(f"/api/v1/issues/{number}").json()["status"] == "open"


def test_a_coordinator_transitions_but_cannot_manage_tokens(api: Api) -> None:
    number = api.post("/api/v1/issues", "reporter", json={"title": "Queue stuck"}).json()["number"]
    moved = api.post(
        f"/api/v1/issues/{number}/transitions", "coordinator", json={"to": "in_progress"}
    )
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress"
    assert api.get("/api/v1/tokens", "coordinator").status_code == 403


def test_an_admin_manages_tokens_and_the_new_secret_works_once_shown(api: Api) -> None:
    created = api.post("/api/v1/tokens", "admin", json={"name": "bot", "role": "reporter"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    listed = api.get("/api/v1/tokens", "admin").json()
    assert "bot" in [t["name"] for t in listed]
    assert all("secret" not in t for t in listed)
    headers = {"Authorization": f"Bearer {secret}"}
    assert (
        api.client.post("/api/v1/issues", json={"title": "t"}, headers=headers).status_code == 201
    )
    assert api.client.request("DELETE", "/api/v1/tokens/bot", headers=api.auth("admin")).json()[
        "revoked_at"
    ]
    assert api.client.get("/api/v1/issues", headers=headers).status_code == 401


@pytest.mark.parametrize("role", ["reader", "reporter", "coordinator", "admin"])
def test_every_role_can_read(api: Api, role: str) -> None:
    assert api.get("/api/v1/issues", role).status_code == 200
    assert api.get("/api/v1/stats", role).status_code == 200


def test_dsn_key_routes_take_a_dsn_key_and_no_api_token(api: Api) -> None:
    """The role matrix proves no token opens them; here the DSN key does."""
    from api.test_role_matrix import API, DSN_KEY
    from passmuster.usecases.ingest_keys import IngestKeys

    dsn = IngestKeys(api.desk).dsn_for("identity", actor="test")
    event = b'{}\n{"type": "event"}\n{"message": "hello"}\n'
    routes = sorted(route for route, needed in API.items() if needed == DSN_KEY)
    assert len(routes) == 4
    for method, template in routes:
        path = template.replace("{project_id:int}", str(dsn.project_id))
        body = b'{"message": "hello"}' if "store" in path else event
        assert api.client.request(method, path, content=body).status_code == 401, path
        for role in ("reader", "reporter", "coordinator", "admin"):
            response = api.client.request(method, path, content=body, headers=api.auth(role))
            assert response.status_code == 401, (path, role)
        key = {"X-Sentry-Auth": f"Sentry sentry_key={dsn.public_key}"}
        response = api.client.request(method, path, content=body, headers=key)
        assert response.status_code == 200, (path, response.text)


def test_a_dsn_key_opens_no_other_route_however_it_is_sent(api: Api) -> None:
    """A DSN key lives in services' configuration: it may send errors and do nothing else."""
    from passmuster.usecases.ingest_keys import IngestKeys

    api.post("/api/v1/issues", json={"title": "exists", "services": ["identity"]})
    key = IngestKeys(api.desk).dsn_for("identity", actor="test").public_key
    ways = (
        ({"Authorization": f"Bearer {key}"}, ""),
        ({"Authorization": f"Sentry sentry_key={key}"}, ""),
        ({"X-Sentry-Auth": f"Sentry sentry_key={key}"}, ""),
        ({}, f"?sentry_key={key}"),
    )
    operations = [(m, p) for m, p in api_operations(api) if p.startswith("/api/v1/")]
    assert len(operations) > 20
    for method, path in operations:
        for headers, query in ways:
            response = api.client.request(method, path + query, json={}, headers=headers)
            assert response.status_code == 401, (method, path, headers, query)
    assert api.desk.count() == 1
