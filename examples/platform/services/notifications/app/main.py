"""E-mail notifications for the other services."""

import os
import app.errors  # noqa: F401  (reports exceptions when SENTRY_DSN is set)
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="notifications")


class Message(BaseModel):
    to: str
    subject: str
    body: str = ""


@app.post("/api/v1/notify", status_code=202)
async def notify(message: Message) -> dict[str, str]:
    return {"queued": message.to}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        app,
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8005")),
    )
