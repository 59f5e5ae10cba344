"""Tenants: the customers' organisations and their plans."""

from __future__ import annotations

import os
from typing import Annotated
import app.errors  # noqa: F401  (reports exceptions when SENTRY_DSN is set)
import httpx
from fastapi import Depends, FastAPI

app = FastAPI(title="tenants")

# Where identity answers; the hard-coded address only works on a developer's laptop.
IDENTITY_URL = "http://localhost:8001"


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/v1/tenants/mine")
async def my_tenants(user: Annotated[dict, Depends(get_current_user)]) -> list[dict]:
    return [{"id": "t-1", "owner": user.get("id")}]


async def get_current_user() -> dict:
    async with httpx.AsyncClient(timeout=2.0) as client:
        response = await client.get(f"{IDENTITY_URL}/auth/me")
    return response.json() if response.status_code == 200 else {}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        app,
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8002")),
    )
