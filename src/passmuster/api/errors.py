"""Errors as JSON: `{"error": {"code", "message", "field"}}` with the right status code.

Every `PassmusterError` keeps its message and the field at fault; request validation errors name
the first bad field (and list all of them); anything unexpected is a 500 whose body says only
that, while the traceback goes to the server log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from passmuster.errors import PassmusterError

log = logging.getLogger("passmuster.api")


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
    errors: list[ErrorDetail] = []


# Documented on every route, so the OpenAPI spec says what an error looks like.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No token, or an unknown or revoked one."},
    403: {"model": ErrorBody, "description": "The token's role does not allow this."},
    422: {"model": ErrorBody, "description": "A field is missing or invalid; `field` names it."},
}


def _code(exc: Exception) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def error_response(
    status: int, code: str, message: str, field: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "field": field}}
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _body_problem(err: Any) -> str | None:
    """What is wrong with a request body that is no JSON object at all, said for a person: its
    fields cannot be named, and pydantic would name the character where the JSON broke as the
    field ("14: JSON decode error") or ask for "a valid dictionary" of a form-encoded body."""
    loc = tuple(err.get("loc", ()))
    if not loc or loc[0] != "body":
        return None
    kind = err.get("type")
    if kind == "json_invalid":
        where = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
        reason = (err.get("ctx") or {}).get("error")
        return f"the body is not valid JSON{where}" + (f": {reason}" if reason else "")
    if len(loc) == 1 and kind in ("model_attributes_type", "dict_type", "model_type"):
        if isinstance(err.get("input"), bytes | str):
            return "the body must be a JSON object, sent with Content-Type: application/json"
        return "the body must be a JSON object"
    return None


def _field_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


PageHandler = Callable[[Request, Exception], Awaitable[Response | None]]


def install_error_handlers(app: FastAPI, *, pages: PageHandler | None = None) -> None:
    """JSON errors for the API; `pages` may answer first for requests to the web pages."""

    async def passmuster_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, PassmusterError)
        if pages is not None and (page := await pages(request, exc)) is not None:
            return page
        response = error_response(exc.status_code, _code(exc), exc.message, exc.field)
        # A refusal that says when to come back (429) says it in the headers clients read.
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        for key, value in (getattr(exc, "headers", None) or {}).items():
            response.headers[key] = value
        return response

    async def validation_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, RequestValidationError)
        details = []
        for err in exc.errors():
            field = _field_of(tuple(err.get("loc", ())))
            msg = str(err.get("msg", "invalid value"))
            body = _body_problem(err)
            if body is not None:
                field, msg = "body", body
            details.append(
                {
                    "code": str(err.get("type", "invalid")),
                    "message": f"{field}: {msg}" if field and body is None else msg,
                    "field": field,
                }
            )
        first = (
            details[0]
            if details
            else {"code": "invalid", "message": "invalid request", "field": None}
        )
        return error_response(
            422, "invalid_request", str(first["message"]), first["field"], errors=details
        )

    async def http_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, StarletteHTTPException)
        if pages is not None and (page := await pages(request, exc)) is not None:
            return page
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.detail else code.replace("_", " ")
        response = error_response(exc.status_code, code, message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    async def unexpected(request: Request, exc: Exception) -> Any:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error; see the server log")

    app.add_exception_handler(PassmusterError, passmuster_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
