"""The dashboard in a real browser against a real `passmuster serve` process.

One person files and moves an issue while a second page stays open and follows along without a
reload; the statistics page draws its charts; a service killed in the example platform turns red
on the services page, seen by the monitor running inside `serve --monitor`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api.helpers import make_tokens
from api.live_server import passmuster_serve

from passmuster.usecases.desk import Desk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "platform"
WAIT_MS = 20_000


def log_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/board")


def live(page: Any) -> None:
    """Wait until the page's live feed is connected."""
    page.wait_for_selector("body.live-connected", timeout=WAIT_MS)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    desk = Desk.connect(url)
    secrets = make_tokens(desk)
    desk.close()
    with passmuster_serve(url, cwd=tmp_path) as base:
        yield base, secrets


def test_filing_and_moving_an_issue_shows_on_a_second_page_without_reload(
    chromium: Any, server: tuple[str, dict[str, str]], artifacts: Path
) -> None:
    from playwright.sync_api import expect

    base, secrets = server
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    watcher_context = chromium.new_context(viewport={"width": 390, "height": 844})  # a phone
    try:
        page = context.new_page()
        log_in(page, base, secrets["coordinator"])
        watcher = watcher_context.new_page()
        log_in(watcher, base, secrets["reader"])
        live(watcher)

        page.goto(f"{base}/issues/new")
        page.fill("#title", "Checkout returns 500 after deploy")
        page.select_option("select[name=severity]", "critical")
        page.select_option("select[name=type]", "incident")
        page.fill("textarea[name=description]", "Every checkout fails since 14:02.")
        page.click('form[action="/issues/new"] button[type=submit]')
        page.wait_for_url(f"{base}/issues/1")
        expect(page.locator("#issue h1")).to_contain_text("Checkout returns 500")
        page.screenshot(path=str(artifacts / "issue-filed.png"), full_page=True)

        open_column = watcher.locator('.column[data-status="open"]')
        expect(open_column).to_contain_text("Checkout returns 500", timeout=WAIT_MS)
        watcher.screenshot(path=str(artifacts / "board-phone-after-filing.png"), full_page=True)

        with page.expect_navigation():
            page.click('form.transition[data-to="in_progress"] button')
        expect(page.locator("#issue")).to_have_attribute("data-status", "in_progress")

        moved = watcher.locator('.column[data-status="in_progress"]')
        expect(moved).to_contain_text("Checkout returns 500", timeout=WAIT_MS)
        expect(open_column).not_to_contain_text("Checkout returns 500")
        watcher.screenshot(path=str(artifacts / "board-phone-after-transition.png"), full_page=True)
    finally:
        context.close()
        watcher_context.close()


def test_statistics_page_draws_its_charts(
    chromium: Any, server: tuple[str, dict[str, str]], artifacts: Path
) -> None:
    import httpx

    base, secrets = server
    headers = {"Authorization": f"Bearer {secrets['coordinator']}"}
    for title, severity in (("a", "high"), ("b", "low"), ("c", "critical")):
        httpx.post(
            f"{base}/api/v1/issues", json={"title": title, "severity": severity}, headers=headers
        ).raise_for_status()
    httpx.post(
        f"{base}/api/v1/issues/2/transitions", json={"to": "resolved"}, headers=headers
    ).raise_for_status()
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        log_in(page, base, secrets["reader"])
        page.goto(f"{base}/stats")
        page.wait_for_selector('#charts[data-ready="true"]', timeout=WAIT_MS)
        totals = page.evaluate(
            """() => ['chart-months', 'chart-resolution', 'chart-sla'].map(id => {
                const chart = Chart.getChart(document.getElementById(id));
                return chart ? chart.data.datasets.flatMap(d => d.data).reduce((a, b) => a + b, 0)
                             : -1;
            })"""
        )
        assert totals[0] == 3  # three issues this month, stacked by severity
        assert totals[1] == 1  # one resolved issue in the time-to-resolve histogram
        assert totals[2] > 0  # SLA clocks met, missed or running
        drawn = page.evaluate("() => document.getElementById('chart-months').toDataURL().length")
        blank = page.evaluate(
            """() => { const c = document.createElement('canvas');
                const s = document.getElementById('chart-months');
                c.width = s.width; c.height = s.height; return c.toDataURL().length; }"""
        )
        assert drawn > blank * 2  # the canvas holds a drawing, not an empty surface
        page.screenshot(path=str(artifacts / "statistics.png"), full_page=True)
    finally:
        context.close()


def test_deployments_page_draws_the_four_keys(
    chromium: Any, server: tuple[str, dict[str, str]], artifacts: Path
) -> None:
    import httpx

    base, secrets = server
    headers = {"Authorization": f"Bearer {secrets['coordinator']}"}
    for number, (service, state) in enumerate(
        (("billing", "success"), ("billing", "failure"), ("identity", "success")), start=1
    ):
        httpx.post(
            f"{base}/api/v1/deployments",
            json={
                "deployment": {"id": number, "sha": "ab" * 20},
                "deployment_status": {"state": state},
                "service": service,
                "output": "ModuleNotFoundError: No module named 'asyncpg'",
            },
            headers=headers,
        ).raise_for_status()
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        log_in(page, base, secrets["reader"])
        page.goto(f"{base}/deployments")
        page.wait_for_selector('#delivery-charts[data-ready="true"]', timeout=WAIT_MS)
        totals = page.evaluate(
            """() => ['chart-frequency', 'chart-lead', 'chart-failure', 'chart-restore']
                .map(id => Chart.getChart(document.getElementById(id)) ? 1 : 0)"""
        )
        assert totals == [1, 1, 1, 1]
        deployed = page.evaluate(
            """() => Chart.getChart(document.getElementById('chart-frequency'))
                .data.datasets.map(d => d.data.reduce((a, b) => a + b, 0))"""
        )
        assert deployed == [2, 1]  # two deployed, one failed
        assert page.locator(".deploy-matrix .attempt.failed").count() == 1
        page.screenshot(path=str(artifacts / "deployments.png"), full_page=True)
    finally:
        context.close()


def first_up(base: str, token: str, candidates: list[str], *, timeout: float = 30.0) -> str:
    """The first of `candidates` the monitor reports up (some example services are broken on
    purpose, and one whose health check calls others may be slow on a busy machine)."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        health = httpx.get(f"{base}/api/v1/health", headers=headers, timeout=10).json()
        up = [h["name"] for h in health if h["state"] == "up" and h["name"] in candidates]
        if up:
            return str(up[0])
        time.sleep(0.25)
    raise AssertionError(f"none of {candidates} came up within {timeout}s")


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Any]:
    if not EXAMPLE.is_dir():
        pytest.skip("the example platform is not in this checkout")
    from passmuster.usecases.local_platform import start_local_platform

    root = tmp_path / "platform"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".passmuster"))
    # Probe fast and call a service down after two failures, so the test takes seconds.
    with (root / "passmuster.toml").open("a") as config:
        config.write("\n[monitor]\ninterval = 0.5\nfailure_threshold = 2\nsuccess_threshold = 1\n")
    local = start_local_platform(root, log_dir=tmp_path / "logs")
    try:
        yield local
    finally:
        local.stop()


def test_a_service_killed_in_the_example_platform_turns_red(
    chromium: Any, platform: Any, tmp_path: Path, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    from passmuster.monitor.configuration import discover_services
    from passmuster.settings import find_config

    running = [name for name, s in platform.services.items() if s.running]
    assert running, f"no example service started: {platform.failed}"
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    desk = Desk.connect(url)
    for service in discover_services(find_config(platform.root)):
        desk.ensure_service(service)
    secrets = make_tokens(desk)
    desk.close()
    args = ["--monitor", "--platform", str(platform.root)]
    for name, base_url in platform.base_urls.items():
        args += ["--base-url", f"{name}={base_url}"]
    with passmuster_serve(url, cwd=tmp_path, args=tuple(args)) as base:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            log_in(page, base, secrets["reader"])
            victim = first_up(base, secrets["reader"], running)
            page.goto(f"{base}/services")
            live(page)
            row = page.locator(f'tr[data-service="{victim}"]')
            expect(row).to_have_attribute("data-state", "up", timeout=WAIT_MS)
            page.screenshot(path=str(artifacts / "services-all-up.png"), full_page=True)
            platform.kill(victim)
            expect(row).to_have_attribute("data-state", "down", timeout=WAIT_MS)
            colour = row.locator(".health").evaluate("e => getComputedStyle(e).backgroundColor")
            assert colour == "rgb(207, 34, 46)"  # the page's red
            node = page.locator(f'svg.graph g[data-service="{victim}"]')
            assert "state-down" in (node.get_attribute("class") or "")
            page.screenshot(path=str(artifacts / "services-one-down.png"), full_page=True)
        finally:
            context.close()
