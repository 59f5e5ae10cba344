"""What the page tests share: a signed-in browser session on the real app."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx

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
