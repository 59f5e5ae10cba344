"""Routes that build their validation models when first needed, not when they are declared.

FastAPI builds a route's pydantic models (its parameters, body, response and every error
response) as soon as the route is declared, and builds them again for the application when the
route's router is included (lazily, on the first request that reaches that router). The first
build is never used by a route that is only served through an included router, and it was about a
third of the server's start-up. A `LazyAPIRoute` keeps the cheap facts at hand (its path, methods,
name and options, all that matching a request and including the router read) and builds the rest
the first time anything else is asked of it, with exactly FastAPI's own `APIRoute.__init__`, so a
built route is an ordinary route.

Every router in `api/routes/` and `web/` declares `route_class=LazyAPIRoute` (it lives in web/,
the lower of the two layers).

A `RouterOnFirstUse` goes one step further: it stands in, in `include_router`, for the router of a
module that is imported only when a request could reach one of its routes (its path starts with
what every route of the router starts with), or when anything else asks for its routes (the
OpenAPI schema, `url_path_for`, a listing of the application's routes). Importing the route
modules and their schemas was the passmuster part of the server's start-up.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Callable
from enum import IntEnum
from typing import Any

from fastapi.routing import APIRoute, APIRouter
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, compile_path, get_name
from starlette.types import Scope

# APIRoute's keyword options with their defaults, read from FastAPI itself so they stay in step.
_DEFAULTS: dict[str, Any] = {
    name: parameter.default
    for name, parameter in inspect.signature(APIRoute.__init__).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
}
# Options APIRoute keeps as given; including a router reads them from the declared route.
_AS_GIVEN = (
    "response_model",  # a default is resolved from the return annotation when the route is built
    "stream_item_type",
    "summary",
    "response_description",
    "deprecated",
    "operation_id",
    "response_model_include",
    "response_model_exclude",
    "response_model_by_alias",
    "response_model_exclude_unset",
    "response_model_exclude_defaults",
    "response_model_exclude_none",
    "include_in_schema",
    "response_class",
    "dependency_overrides_provider",
    "callbacks",
    "openapi_extra",
    "generate_unique_id_function",
    "strict_content_type",
)
# One build at a time: a route half built in one thread must not look unbuilt to another.
_BUILDING = threading.RLock()


class LazyAPIRoute(APIRoute):
    """An `APIRoute` whose models, dependencies and handler are built on first use."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        given = {**_DEFAULTS, **options}
        self.options = options  # as declared, to build from
        self._built = False
        self.path = path
        self.endpoint = endpoint
        for key in _AS_GIVEN:
            setattr(self, key, given.get(key))
        self.tags = given["tags"] or []
        self.responses = given["responses"] or {}
        self.dependencies = list(given["dependencies"] or [])
        status_code = given["status_code"]
        self.status_code = int(status_code) if isinstance(status_code, IntEnum) else status_code
        self.name = get_name(endpoint) if given["name"] is None else given["name"]
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.methods = {method.upper() for method in given["methods"] or ["GET"]}
        description = given["description"] or inspect.cleandoc(endpoint.__doc__ or "")
        self.description = description.split("\f")[0].strip()
        unique_id = given["generate_unique_id_function"]
        self.unique_id = self.operation_id or getattr(unique_id, "value", unique_id)(self)

    @property
    def built(self) -> bool:
        return bool(self.__dict__.get("_built", True))

    def __getattr__(self, name: str) -> Any:
        # Called only for what is not set yet: the parts built from the route's models.
        with _BUILDING:
            if not self.built:
                self._built = True
                APIRoute.__init__(self, self.path, self.endpoint, **self.options)
        # Raises AttributeError, as for any object, when the built route has no such attribute.
        return object.__getattribute__(self, name)


class RouterOnFirstUse(APIRouter):
    """The `router` of `module`, imported when first needed.

    `path` is what the path of every route of that router starts with, where the router is
    included (the include prefix and the router's own); a request elsewhere passes the router
    without importing the module. The router included is this one, holding the module router's
    very routes once imported, so it answers, describes itself and builds its routes (on first
    use, `LazyAPIRoute`) exactly as the module's router would.
    """

    def __init__(self, module: str, *, path: str = "") -> None:
        self.module = module
        # Up to its first parameter: the part of the path every request to the router repeats.
        self.path_head = path.split("{", 1)[0]
        self._router: APIRouter | None = None
        self._including = False
        super().__init__()

    @property
    def loaded(self) -> bool:
        return self._router is not None

    def router(self) -> APIRouter:
        """The module's router, the module imported now if it was not yet."""
        if self._router is None:
            router = importlib.import_module(self.module).router
            # What including a router reads from it at once; a deferred router must not need it.
            assert not router.on_startup and not router.on_shutdown, self.module
            self._router = router
        return self._router

    # Starlette's and FastAPI's routers keep these as attributes, which their __init__ sets to
    # empty lists: here they are the module router's own, read when first asked for.
    @property
    def routes(self) -> list[BaseRoute]:
        return [] if self._including else self.router().routes

    @routes.setter
    def routes(self, routes: list[BaseRoute]) -> None:
        assert not routes, "routes are declared in the module"

    @property
    def _low_priority_routes(self) -> list[BaseRoute]:
        return self.router()._low_priority_routes

    @_low_priority_routes.setter
    def _low_priority_routes(self, routes: list[BaseRoute]) -> None:
        assert not routes, "routes are declared in the module"

    @property
    def _routes_version(self) -> int:
        # Included routers cache what they derive from the routes under this number.
        return self.router()._routes_version

    @_routes_version.setter
    def _routes_version(self, version: int) -> None:
        # APIRouter.__init__ sets 0; routes are added in the module, never to this router.
        assert not self.loaded or version == self._routes_version, self.module

    def include_in(self, parent: APIRouter, **options: Any) -> None:
        """`parent.include_router(self, **options)`, without importing the module.

        Including a router reads its routes only to check them (that it does not include
        `parent`, that a route's path is not empty when the prefix is): checks that hold for
        every route module, as tests/api/test_lazy_routes.py asserts, and would import it here.
        """
        self._including = True
        try:
            parent.include_router(self, **options)
        finally:
            self._including = False

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # No route of this router matches a path that does not start with its head (nor does
        # one differing by a trailing slash, which is all a redirect looks for).
        if not get_route_path(scope).startswith(self.path_head):
            return Match.NONE, {}
        return super().matches(scope)
