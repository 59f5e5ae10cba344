"""Page fixtures: a desk with a token per role, the app on a real loopback server, and a
browser-like client (cookies kept) that can log in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from api.conftest import make_tokens
from api.live_server import serve_in_thread

from passmuster.api.app import create_app
from passmuster.api.config import ServeSettings
from passmuster.usecases.desk import Desk

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    base: str
    secrets: dict[str, str]
    desk: Desk
    clients: list[httpx.Client] = field(default_factory=list)

    def browser(self) -> httpx.Client:
        client = httpx.Client(base_url=self.base, timeout=30, follow_redirects=False)
        self.clients.append(client)
        return client

    def logged_in(self, role: str) -> tuple[httpx.Client, str]:
        """A client logged in with `role`'s token, and its CSRF value."""
        client = self.browser()
        form = client.get("/login")
        csrf = CSRF_INPUT.search(form.text)
        assert csrf, form.text
        done = client.post(
            "/login",
            data={"token": self.secrets[role], "csrf_token": csrf.group(1), "next": "/board"},
        )
        assert done.status_code == 303, done.text
        board = client.get("/board")
        after = CSRF_INPUT.search(board.text)
        assert after
        return client, after.group(1)


@pytest.fixture
def site(sqlite_url: str) -> Iterator[Site]:
    desk = Desk.connect(sqlite_url)
    secrets = make_tokens(desk)
    app = create_app(ServeSettings(database_url=sqlite_url, live_poll_interval=0.05))
    with serve_in_thread(app) as base:
        running = Site(base, secrets, desk)
        yield running
        for client in running.clients:
            client.close()
    desk.close()
