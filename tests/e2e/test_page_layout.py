"""What a reader sees, measured in a real browser: readable SLA rows, long titles kept to two
lines, and the API docs drawn with nothing fetched from outside this site."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api.helpers import make_tokens
from api.live_server import passmuster_serve

from passmuster.core.issues import IssueDraft, IssueType, Severity
from passmuster.usecases.desk import Desk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 20_000
LONG_TITLE = (
    "REQ001 5 of 7 packages of requirements.shared.txt are copied here instead of included; use "
    "`-r ../../requirements.shared.txt` so that a shared upgrade reaches this service as well, "
    "and the drift between services stops being a thing people have to notice by hand"
)

# WCAG relative luminance and contrast ratio of two `rgb(r, g, b)` colours, in the page.
CONTRAST_JS = """([a, b]) => {
    const lum = (c) => {
        const [r, g, bl] = c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
            v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
    };
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
}"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    desk = Desk.connect(url)
    secrets = make_tokens(desk)
    long_ago = datetime.now(UTC) - timedelta(days=3)
    desk.file(
        IssueDraft(title="Checkout down", severity=Severity.CRITICAL, reported_at=long_ago),
        actor="x",
    )
    desk.file(
        IssueDraft(title=LONG_TITLE, type=IssueType.FINDING, severity=Severity.HIGH),
        actor="x",
    )
    desk.close()
    with passmuster_serve(url, cwd=tmp_path) as base:
        yield base, secrets


def log_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/board")


def colours(locator: Any) -> tuple[str, str]:
    """The text colour of `locator` and the background it is painted on."""
    found: tuple[str, str] = locator.evaluate(
        """(el) => {
            let node = el, bg = 'rgba(0, 0, 0, 0)';
            while (node && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
                bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
            }
            return [getComputedStyle(el).color, bg];
        }"""
    )
    return found


def lines(locator: Any) -> float:
    """How many lines of text `locator` takes on the page."""
    locator.wait_for(timeout=WAIT_MS)
    line = float(locator.evaluate("(el) => parseFloat(getComputedStyle(el).lineHeight)"))
    return float(locator.bounding_box()["height"]) / line


def test_breached_sla_rows_keep_links_and_badges_readable(
    chromium: Any, site: tuple[str, dict[str, str]], artifacts: Path
) -> None:
    base, secrets = site
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        log_in(page, base, secrets["reader"])
        page.goto(f"{base}/sla")
        row = page.locator("tr[data-number='1']").first
        row.wait_for(timeout=WAIT_MS)
        for part in ("a", ".sev", ".sla", ".status"):
            text, background = colours(row.locator(part).first)
            ratio = page.evaluate(CONTRAST_JS, [text, background])
            assert ratio >= 4.5, (part, text, background, ratio)
        badge = row.locator(".sla").first
        row_background = row.locator("td").first.evaluate(
            "(el) => getComputedStyle(el).backgroundColor"
        )
        badge_background = badge.evaluate("(el) => getComputedStyle(el).backgroundColor")
        assert badge_background != row_background  # the badge stands out from its row
        page.screenshot(path=str(artifacts / "sla-breached.png"), full_page=True)
    finally:
        context.close()


def test_a_long_title_keeps_its_row_and_card_to_a_few_lines_on_a_phone(
    chromium: Any, site: tuple[str, dict[str, str]], artifacts: Path
) -> None:
    base, secrets = site
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        log_in(page, base, secrets["reader"])
        page.goto(f"{base}/issues")
        title = page.locator("tr[data-number='2'] a.clamp")
        assert round(lines(title)) <= 2
        assert title.get_attribute("title") == LONG_TITLE  # the whole title on hover
        page.goto(f"{base}/board")
        assert round(lines(page.locator(".issue-card[data-number='2'] .title"))) <= 3
        page.screenshot(path=str(artifacts / "long-title-phone.png"), full_page=True)
    finally:
        context.close()


def test_the_api_docs_draw_with_every_request_kept_on_this_site(
    chromium: Any, site: tuple[str, dict[str, str]], artifacts: Path
) -> None:
    base, _ = site
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    elsewhere: list[str] = []

    def only_this_site(route: Any) -> None:
        if route.request.url.startswith(base) or route.request.url.startswith("data:"):
            route.continue_()
        else:  # as on a machine without internet access
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_site)
    try:
        page = context.new_page()
        page.goto(f"{base}/api/v1/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=WAIT_MS)
        assert page.locator(".swagger-ui .info .title").inner_text().startswith("passmuster")
        assert page.locator(".swagger-ui .opblock").count() > 20  # every route is listed
        assert elsewhere == []
        page.screenshot(path=str(artifacts / "api-docs.png"))
    finally:
        context.close()
