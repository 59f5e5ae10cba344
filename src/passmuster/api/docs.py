"""`/api/v1/docs`: the OpenAPI spec in Swagger UI, served from this site.

FastAPI's own page loads Swagger UI from a CDN, which leaves it blank on a machine without
internet access (and asks a third party for a script on every visit). The assets are vendored
under /static/vendor/swagger-ui/ (see vendor/README.md), and the validator badge, which would
send the spec to validator.swagger.io, is off.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

ASSETS = "/static/vendor/swagger-ui"


def install_docs(app: FastAPI, *, path: str, openapi_url: str) -> None:
    """Serve Swagger UI at `path` for the spec at `openapi_url` (no token needed: no desk data)."""

    @app.get(path, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url="data:,",
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
        )
