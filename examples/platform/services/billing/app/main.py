"""Subscriptions and payments (PayNow, EcoCash)."""

import os
import app.errors  # noqa: F401  (reports exceptions when SENTRY_DSN is set)
from fastapi import FastAPI, HTTPException, HTTPStatus

app = FastAPI(title="billing")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/v1/subscriptions/{customer_id}")
async def subscription(customer_id: str) -> dict[str, str]:
    if not customer_id:
        raise HTTPException(status_code=HTTPStatus.NOT_FOUND)
    return {"customer_id": customer_id, "plan": "basic", "status": "active"}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        app,
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8004")),
    )
