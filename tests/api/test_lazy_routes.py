"""Routes built on first use (web/lazy_routes.py) are the routes FastAPI would have built.

The application's routers declare `LazyAPIRoute`; each route, once built, must hold what an
`APIRoute` declared the same way holds, and an application served through lazy routes must
describe and answer itself exactly as one served through eager routes.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from enum import IntEnum
from pathlib import Path as FilePath
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query
from fastapi.routing import APIRoute, _IncludedRouter
from pydantic import BaseModel

from api.live_server import serve_in_thread
from passmuster.api.app import API_PREFIX, create_app
from passmuster.api.routes import ROUTERS as API_ROUTERS
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
from passmuster.web.site import ROUTERS as PAGE_ROUTERS

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


def test_making_the_app_imports_no_router_and_listing_its_routes_builds_none() -> None:
    probe = (
        "from passmuster.api.app import create_app\n"
        "from passmuster.web.lazy_routes import LazyAPIRoute\n"
        "from fastapi.routing import APIRoute\n"
        "import sys\n"
        f"modules = {sorted(m.__name__ for m in _MODULES)!r}\n"
        "app = create_app()\n"
        "print(sum(m in sys.modules for m in modules))\n"
        "routes = [c.original_route for r in app.routes if hasattr(r, 'effective_route_contexts')"
        " for c in r.effective_route_contexts()]\n"
        "print(sum(m in sys.modules for m in modules))\n"
        "print(sum(isinstance(r, APIRoute) for r in routes),"
        " sum(isinstance(r, LazyAPIRoute) and not r.built for r in routes))\n"
    )
    imported_by_making, imported_by_listing, declared_unbuilt = _in_a_fresh_interpreter(probe)
    assert int(imported_by_making) == 0
    assert int(imported_by_listing) == len(_MODULES)
    declared, unbuilt = declared_unbuilt.split()
    assert int(declared) > 80
    assert unbuilt == declared


_TABLES = [
    *((f"passmuster.api.routes.{name}", API_PREFIX, path) for name, path in API_ROUTERS),
    *((f"passmuster.web.{name}", "", path) for name, path in PAGE_ROUTERS),
]


def test_the_tables_list_every_router_the_application_serves() -> None:
    listed = {module for module, _, _ in _TABLES}
    assert listed == {module.__name__ for module in _MODULES}
    api = FilePath(issues.__file__).parent
    assert {f"passmuster.api.routes.{p.stem}" for p in api.glob("[!_]*.py")} <= listed


@pytest.mark.parametrize("module, prefix, path", _TABLES, ids=lambda v: str(v))
def test_every_route_of_a_router_starts_with_the_path_its_table_gives(
    module: str, prefix: str, path: str
) -> None:
    router = importlib.import_module(module).router
    head = (prefix + path).split("{", 1)[0]
    assert router.routes
    for route in router.routes:
        # Non-empty, as including a router without a prefix would check (RouterOnFirstUse).
        assert route.path  # type: ignore[attr-defined]
        assert (prefix + route.path).startswith(head), route.path  # type: ignore[attr-defined]
        assert not isinstance(route, _IncludedRouter)  # it includes no router of its own


def test_a_router_first_used_is_not_imported_by_a_request_it_cannot_answer() -> None:
    probe = (
        "import sys\n"
        "from starlette.routing import Match\n"
        "from passmuster.web.lazy_routes import RouterOnFirstUse\n"
        "name = 'passmuster.api.routes.tokens'\n"
        "router = RouterOnFirstUse(name, path='/api/v1/tokens')\n"
        "scope = {'type': 'http', 'path': '/api/v1/issues', 'method': 'GET', 'root_path': ''}\n"
        "print(router.matches(scope)[0] is Match.NONE, name in sys.modules)\n"
        "print(len(router.routes), name in sys.modules)\n"
    )
    assert _in_a_fresh_interpreter(probe) == ["True False", "3 True"]


def _in_a_fresh_interpreter(probe: str) -> list[str]:
    """The lines `probe` prints, run where no test has imported or built anything yet."""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.splitlines()
