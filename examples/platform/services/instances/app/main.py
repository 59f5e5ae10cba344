"""Odoo instances: create, start, stop; the heavy work runs in the Celery worker."""

import os
import app.errors  # noqa: F401  (reports exceptions when SENTRY_DSN is set)
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="instances")


class InstanceCreate(BaseModel):
    tenant_id: str
    name: str
    odoo_version: str = "17.0"


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/v1/instances/", status_code=202)
async def create_instance(body: InstanceCreate) -> dict[str, str]:
    return {"status": "creating", "name": body.name}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        app,
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8003")),
    )
