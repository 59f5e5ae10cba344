"""A disabled notification channel shows on every page; the services page enables it."""

from __future__ import annotations

import re

from tests.monitor.helpers import disable_pager
from web.helpers import Site


def test_every_page_warns_of_a_disabled_channel_and_the_services_page_enables_it(
    site: Site,
) -> None:
    disable_pager(site.desk)
    reader, _ = site.logged_in("reader")
    board = reader.get("/board").text
    assert "Notifications are not going out: channel <strong>pager</strong> is disabled" in board
    services = reader.get("/services").text
    assert 'data-channel="pager" data-state="disabled"' in services
    assert "/channels/pager/enable" not in services  # a reader gets no button
    coordinator, csrf = site.logged_in("coordinator")
    page = coordinator.get("/services").text
    assert re.search(r'action="/channels/pager/enable"', page)
    done = coordinator.post("/channels/pager/enable", data={"csrf_token": csrf})
    assert done.status_code == 303
    assert "Notifications are not going out" not in coordinator.get("/board").text
    assert 'data-channel="pager" data-state="enabled"' in coordinator.get("/services").text
