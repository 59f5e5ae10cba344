"""Schemathesis against the OpenAPI spec, over real HTTP with an admin token: whatever it
generates, the server never answers with a 5xx. Bounded: a few examples per operation.

The live stream (`/events/stream`) is left out: it never ends by design; tests in test_live.py
cover it.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api.helpers import make_tokens
from api.live_server import serve_in_thread
from passmuster.api.app import create_app
from passmuster.api.config import ServeSettings
from passmuster.core.issues import IssueDraft, LinkKind, Status
from passmuster.usecases.desk import Desk

ADMIN: dict[str, str] = {}


def seed(desk: Desk) -> None:
    """A few issues, so generated numbers and names sometimes hit something real."""
    for n in range(1, 6):
        desk.file(IssueDraft(title=f"issue {n}", services=["identity", "gateway"]), actor="seed")
    desk.transition(2, Status.RESOLVED, actor="seed", fields={"resolution": "done"})
    desk.link(3, LinkKind.RELATES_TO, 1, actor="seed")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api_schema(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'desk.db'}"
        drop = None
    else:
        import psycopg

        server = request.getfixturevalue("postgres_server")
        schema_name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'create schema "{schema_name}"')
        url = server.replace("postgresql://", "postgresql+psycopg://", 1)
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema_name}"

        def drop() -> None:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'drop schema "{schema_name}" cascade')

    desk = Desk.connect(url)
    seed(desk)
    ADMIN["Authorization"] = f"Bearer {make_tokens(desk)['admin']}"
    app = create_app(ServeSettings(database_url=url))
    try:
        with serve_in_thread(app) as base:
            spec = httpx.get(f"{base}/api/v1/openapi.json").json()
            yield schemathesis.from_dict(spec, base_url=base).exclude(path_regex="/stream$")
    finally:
        desk.close()
        if drop is not None:
            drop()


with warnings.catch_warnings():
    # Schemathesis 3.39 uses jsonschema APIs deprecated upstream and warns about its own
    # defaults here; nothing in this test is deprecated. Importing its OpenAPI modules now keeps
    # those warnings out of the test run.
    warnings.simplefilter("ignore", DeprecationWarning)
    import schemathesis.specs.openapi.links
    import schemathesis.specs.openapi.references

    # FastAPI writes OpenAPI 3.1; Schemathesis 3.x reads it behind this switch.
    schemathesis.experimental.OPEN_API_3_1.enable()

    schema = schemathesis.from_pytest_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_generated_request_gets_a_server_error(case: Any) -> None:
    response = case.call(headers=dict(ADMIN), timeout=30)
    case.validate_response(response, checks=(not_a_server_error,))
