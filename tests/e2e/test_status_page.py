"""The public status page in Debian's Chromium, with no session cookie: it renders, shows the
components with their 90-day bars and hover text, fits a phone's width, fetches nothing from
outside this site, and shows nothing internal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.status.seed import PUBLIC_UPDATE, PublicSite, public_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[PublicSite]:
    with public_site(tmp_path) as running:
        yield running


def test_the_status_page_renders_for_a_visitor_without_a_session(
    chromium: Any, site: PublicSite, artifacts: Path
) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 844})  # a phone
    assert context.cookies() == []
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    response = page.goto(f"{site.base}/status")
    assert response is not None and response.status == 200
    assert page.url == f"{site.base}/status"  # not sent to the login page
    assert page.locator("h1").inner_text() == "Acme status"
    assert page.locator(".overall").inner_text() == "Major outage"
    components = page.locator(".component")
    assert components.count() == 2
    assert components.nth(0).locator(".bar i").count() == 90
    today = components.nth(0).locator(".bar i").last
    assert "up" in (today.get_attribute("title") or "")
    assert "1 incident" in (today.get_attribute("title") or "")
    assert page.get_by_text(PUBLIC_UPDATE).is_visible()
    assert page.get_by_text("Database upgrade tonight").is_visible()
    # Readable on a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert all(url.startswith(site.base) for url in requests), requests
    assert errors == []
    assert site.leaks_in(page.content()) == []
    assert context.cookies() == []  # the page set none
    page.screenshot(path=str(artifacts / "status-page-phone.png"), full_page=False)
    context.close()
