"""The public entry point: routes /api/<service>/... to the services behind it."""

import os
import app.errors  # noqa: F401  (reports exceptions when SENTRY_DSN is set)
import httpx
from fastapi import FastAPI, Request, Response

app = FastAPI(title="gateway")

UPSTREAMS = {
    "identity": os.environ.get("IDENTITY_SERVICE_URL", "http://identity:8001"),
    "tenants": os.environ.get("TENANTS_SERVICE_URL", "http://tenants:8002"),
    "instances": os.environ.get("INSTANCES_SERVICE_URL", "http://instances:8003"),
    "billing": os.environ.get("BILLING_SERVICE_URL", "http://billing:8004"),
}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.api_route("/api/{service}/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
async def proxy(service: str, path: str, request: Request) -> Response:
    base = UPSTREAMS.get(service)
    if base is None:
        return Response(status_code=404)
    async with httpx.AsyncClient(base_url=base, timeout=5.0) as client:
        upstream = await client.request(request.method, f"/{path}", content=await request.body())
    return Response(upstream.content, status_code=upstream.status_code)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        app,
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8000")),
    )
