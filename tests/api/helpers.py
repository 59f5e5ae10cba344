"""What the API tests share: the app served for real on 127.0.0.1 and one token per role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from api.live_server import serve_in_thread
from passmuster.api.app import create_app
from passmuster.api.config import ServeSettings
from passmuster.usecases.desk import Desk
from passmuster.usecases.tokens import Role, TokenStore


@dataclass
class Api:
    client: httpx.Client
    secrets: dict[str, str]
    desk: Desk
    app: FastAPI

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[role]}"}

    def get(self, path: str, role: str = "reader", **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers=self.auth(role), **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, role: str = "admin", **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.post(path, headers=self.auth(role), **kwargs)  # type: ignore[arg-type]

    def patch(self, path: str, role: str = "admin", **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.patch(path, headers=self.auth(role), **kwargs)  # type: ignore[arg-type]


def make_tokens(desk: Desk) -> dict[str, str]:
    store = TokenStore(desk.engine)
    return {role.value: store.create(role.value, role, created_by="test")[1] for role in Role}


@contextmanager
def running_api(database_url: str) -> Iterator[Api]:
    desk = Desk.connect(database_url)
    secrets = make_tokens(desk)
    app = create_app(ServeSettings(database_url=database_url, live_poll_interval=0.05))
    try:
        with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=30) as client:
            yield Api(client, secrets, desk, app)
    finally:
        desk.close()
