"""Customers, logins and tokens."""

import os
import app.errors  # noqa: F401  (reports exceptions when SENTRY_DSN is set)
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel

app = FastAPI(title="identity")


class User(BaseModel):
    id: str
    email: str


async def get_current_user(authorization: Annotated[str | None, Header()] = None) -> User:
    if not authorization:
        raise HTTPException(status_code=401, detail="not signed in")
    return User(id="u-1", email="demo@example.com")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/auth/me")
async def me(user: Annotated[User, Depends(get_current_user)]) -> User:
    return user


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        app,
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8001")),
    )
