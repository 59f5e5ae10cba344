"""Page fixtures: a desk with a token per role, the app on a real loopback server, and a
browser-like client (cookies kept) that can log in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api.helpers import make_tokens
from api.live_server import serve_in_thread

from passmuster.api.app import create_app
from passmuster.api.config import ServeSettings
from passmuster.usecases.desk import Desk
from web.helpers import Site


def _site(url: str) -> Iterator[Site]:
    desk = Desk.connect(url)
    secrets = make_tokens(desk)
    app = create_app(ServeSettings(database_url=url, live_poll_interval=0.05))
    with serve_in_thread(app) as base:
        running = Site(base, secrets, desk)
        yield running
        for client in running.clients:
            client.close()
    desk.close()


@pytest.fixture
def site(sqlite_url: str) -> Iterator[Site]:
    yield from _site(sqlite_url)


@pytest.fixture
def site_on_each_store(database_url: str) -> Iterator[Site]:
    """The site on a SQLite desk, then on a PostgreSQL one: for pages whose queries differ."""
    yield from _site(database_url)
