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
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from enum import IntEnum
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import compile_path, get_name

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
