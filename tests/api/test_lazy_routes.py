"""Routes built on first use (web/lazy_routes.py) are the routes FastAPI would have built.

The application's routers declare `LazyAPIRoute`; each route, once built, must hold what an
`APIRoute` declared the same way holds, and an application served through lazy routes must
describe and answer itself exactly as one served through eager routes.
"""

from __future__ import annotations

import subprocess
import sys
from enum import IntEnum
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.live_server import serve_in_thread
from passmuster.api.app import create_app
from passmuster.api.routes import (
    channels,
    deployments,
    errors,
    events,
    incident_updates,
    issues,
    maintenance,
    reports,
    scans,
    services,
    tokens,
)
from passmuster.web import deployments as web_deployments
from passmuster.web import pages, status_admin, status_page
from passmuster.web.lazy_routes import LazyAPIRoute

_MODULES = [
    channels,
    deployments,
    errors,
    events,
    incident_updates,
    issues,
    maintenance,
    reports,
    scans,
    services,
    tokens,
    web_deployments,
    pages,
    status_admin,
    status_page,
]
ROUTERS = [module.router for module in _MODULES]
# Built from the route's models: compared by what they describe, not by identity.
_MODELS = {"app", "dependant", "body_field", "response_field", "response_fields"}


def _field(field: Any) -> Any:
    return None if field is None else (field.name, repr(field.field_info.annotation))


def _described(route: APIRoute) -> dict[str, Any]:
    """Everything a route holds, its models by their names and types."""
    dependant = route.dependant  # builds a lazy route
    state = {
        key: value
        for key, value in vars(route).items()
        if key not in _MODELS and key not in {"options", "_built"}
    }
    state["path_regex"] = route.path_regex.pattern
    state["body_field"] = _field(route.body_field)
    state["response_field"] = _field(route.response_field)
    state["response_fields"] = {code: _field(f) for code, f in route.response_fields.items()}
    state["parameters"] = [
        (kind, [(p.name, p.field_info.alias, repr(p.field_info.annotation)) for p in params])
        for kind, params in (
            ("path", dependant.path_params),
            ("query", dependant.query_params),
            ("header", dependant.header_params),
            ("cookie", dependant.cookie_params),
            ("body", dependant.body_params),
        )
    ]
    state["dependencies"] = [d.call for d in dependant.dependencies]
    return state


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: r.prefix or r.routes[0].path)
def test_every_declared_route_builds_into_what_fastapi_builds(router: APIRouter) -> None:
    lazy = [route for route in router.routes if isinstance(route, LazyAPIRoute)]
    assert lazy, "the router declares its routes lazily"
    for route in lazy:
        eager = APIRoute(route.path, route.endpoint, **route.options)
        assert _described(route) == _described(eager), route.path
        assert route.built


class Flavour(IntEnum):
    CREATED = 201


class Thing(BaseModel):
    name: str
    size: int = 1


class Problem(BaseModel):
    error: str


def _caller(x_caller: Annotated[str, Header()] = "anyone") -> str:
    return x_caller


def _router(route_class: type[APIRoute]) -> APIRouter:
    router = APIRouter(
        route_class=route_class,
        prefix="/things",
        tags=["things"],
        responses={404: {"model": Problem, "description": "No such thing."}},
    )

    @router.get("/{number}")
    def read(number: Annotated[int, Path(ge=1)], caller: Annotated[str, Depends(_caller)]) -> Thing:
        """Read one thing.

        Longer words.
        \f
        Not shown.
        """
        return Thing(name=f"{caller}-{number}")

    @router.post("", status_code=Flavour.CREATED, summary="Make a thing")
    def make(thing: Thing, dry: Annotated[bool, Query()] = False) -> dict[str, Any]:
        return {"made": thing.model_dump(), "dry": dry}

    @router.get("", response_model=list[Thing], operation_id="every_thing")
    def every(limit: Annotated[int, Query(le=10)] = 2) -> Any:
        return [{"name": f"t{i}", "size": i} for i in range(limit)]

    return router


def _app(route_class: type[APIRoute]) -> FastAPI:
    app = FastAPI(title="things")
    app.include_router(_router(route_class), prefix="/v1")
    app.add_api_route("/healthz", lambda: {"status": "ok"}, include_in_schema=False)
    return app


def test_lazy_and_eager_routes_give_the_same_schema_and_answers() -> None:
    eager, lazy = _app(APIRoute), _app(LazyAPIRoute)
    assert lazy.openapi() == eager.openapi()
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/v1/things/3", {"headers": {"x-caller": "ann"}}),
        ("GET", "/v1/things/0", {}),
        ("GET", "/v1/things/x", {}),
        ("POST", "/v1/things?dry=true", {"json": {"name": "a", "size": 2}}),
        ("POST", "/v1/things", {"json": {"size": "big"}}),
        ("GET", "/v1/things?limit=3", {}),
        ("GET", "/v1/things?limit=11", {}),
        ("DELETE", "/v1/things/3", {}),
    ]
    answers = []
    for app in (eager, lazy):
        with serve_in_thread(app) as base, httpx.Client(base_url=base) as client:
            answers.append(
                [
                    (r.status_code, r.json())
                    for r in (client.request(m, path, **kw) for m, path, kw in requests)
                ]
            )
    assert answers[0] == answers[1]
    assert answers[1][0] == (200, {"name": "ann-3", "size": 1})
    assert answers[1][3][0] == 201


def test_healthz_is_matched_before_any_router() -> None:
    # Matching a request against an included router builds all of that router's routes.
    paths = [getattr(route, "path", None) for route in create_app().routes]
    assert "/healthz" in paths[: paths.index(None)]  # included routers have no path


def test_making_the_app_builds_no_route() -> None:
    # A fresh interpreter: in this one, other tests may have built routes already.
    probe = (
        "from passmuster.api.app import create_app\n"
        "from passmuster.web.lazy_routes import LazyAPIRoute\n"
        "import sys\n"
        "create_app()\n"
        f"routers = [sys.modules[m].router for m in {sorted(m.__name__ for m in _MODULES)!r}]\n"
        "routes = [r for router in routers for r in router.routes]\n"
        "print(len(routes), sum(isinstance(r, LazyAPIRoute) and not r.built for r in routes))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    declared, unbuilt = done.stdout.split()
    assert int(declared) > 80
    assert unbuilt == declared
