"""The status page, its JSON, its feed and badges, fetched over real HTTP with no session: they
show incidents, public updates and maintenance of shown services, and nothing else."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from tests.status.seed import PUBLIC_UPDATE, PublicSite, public_site

PUBLIC_PATHS = (
    "/status",
    "/status.json",
    "/status/feed.atom",
    "/status/badges/platform.svg",
    "/status/badges/identity/health.svg",
    "/status/badges/billing/uptime-24h.svg",
    "/status/badges/billing/uptime-7d.svg",
    "/status/badges/billing/uptime-30d.svg",
    "/status/badges/billing/response-time.svg",
)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[PublicSite]:
    with public_site(tmp_path) as running:
        yield running


@pytest.fixture
def outsider(site: PublicSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base, timeout=30) as client:
        yield client


def test_every_public_route_answers_without_a_session_and_leaks_nothing(
    site: PublicSite, outsider: httpx.Client
) -> None:
    for path in PUBLIC_PATHS:
        response = outsider.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        assert "set-cookie" not in response.headers, path
        assert site.leaks_in(response.text) == [], path


def test_the_page_is_gzipped_for_browsers_that_take_it_and_reads_the_same(
    outsider: httpx.Client,
) -> None:
    plain = outsider.get("/status", headers={"Accept-Encoding": "identity"})
    packed = outsider.get("/status", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert plain.headers["vary"] == packed.headers["vary"] == "Accept-Encoding"
    assert int(packed.headers["content-length"]) < len(plain.content) / 3
    # httpx unpacks it; the two may be computed a few seconds apart on a slow machine.
    assert _undated(packed.text) == _undated(plain.text)
    assert plain.headers["content-type"] == "text/html; charset=utf-8"


def _undated(page: str) -> str:
    return re.sub(r"<footer.*</footer>", "", page, flags=re.S)


def test_the_page_shows_the_incident_its_public_update_and_the_maintenance(
    outsider: httpx.Client,
) -> None:
    page = outsider.get("/status").text
    assert "Acme status" in page and "identity is down" in page
    assert PUBLIC_UPDATE in page and "Database upgrade tonight" in page
    assert "Major outage" in page  # identity is down
    assert page.count('class="component"') == 2  # identity and billing, vault hidden
    assert page.index(">identity<") < page.index(">billing<")  # the configured group order
    assert 'http-equiv="refresh"' in page


def test_the_json_and_the_feed_carry_the_same_public_facts(
    site: PublicSite, outsider: httpx.Client
) -> None:
    data = outsider.get("/status.json").json()
    assert data["state"] == "down"
    assert [c["name"] for c in data["components"]] == ["identity", "billing"]
    (incident,) = data["incidents"]
    assert incident["id"] == site.incident and incident["stage"] == "identified"
    assert incident["updates"][0]["message"] == PUBLIC_UPDATE
    assert [m["message"] for m in data["maintenance"]] == ["Database upgrade tonight"]
    assert site.leaks_in(json.dumps(data)) == []
    feed = ElementTree.fromstring(outsider.get("/status/feed.atom").content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert "[identified] identity is down" in titles
    assert "[maintenance] Database upgrade tonight" in titles


def test_badges_are_svg_and_say_what_the_page_says(outsider: httpx.Client) -> None:
    health = outsider.get("/status/badges/identity/health.svg")
    assert health.headers["content-type"].startswith("image/svg+xml")
    assert ElementTree.fromstring(health.content).tag.endswith("svg")
    assert ">down<" in health.text
    assert ">up<" in outsider.get("/status/badges/billing/health.svg").text
    assert "100%" in outsider.get("/status/badges/billing/uptime-24h.svg").text
    assert "20 ms" in outsider.get("/status/badges/billing/response-time.svg").text


def test_hidden_and_unknown_services_have_no_badge(outsider: httpx.Client) -> None:
    assert outsider.get("/status/badges/vault-internal/health.svg").status_code == 404
    assert outsider.get("/status/badges/nobody/health.svg").status_code == 404
    assert outsider.get("/status/badges/billing/secrets.svg").status_code == 404


def test_public_routes_are_read_only(outsider: httpx.Client) -> None:
    before = outsider.get("/status.json").json()
    for path in ("/status", "/status.json", "/status/feed.atom"):
        assert outsider.post(path).status_code == 405
        assert outsider.put(path).status_code in (303, 401, 405)  # a login, never a change
        assert outsider.delete(path).status_code in (303, 401, 405)
    after = outsider.get("/status.json").json()
    assert after["incidents"] == before["incidents"]


def test_the_page_is_off_unless_the_configuration_turns_it_on(tmp_path: Path) -> None:
    with public_site(tmp_path, enabled=False) as site, httpx.Client(base_url=site.base) as client:
        for path in PUBLIC_PATHS:
            response = client.get(path)
            assert response.status_code == 404, path
            assert site.leaks_in(response.text) == [], path


def test_a_broken_edit_of_the_configuration_keeps_the_page_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from passmuster.web import status_page

    monkeypatch.setattr(status_page, "_CONFIG_CHECK_SECONDS", 0.0)
    config = tmp_path / "passmuster.toml"
    with public_site(tmp_path) as site, httpx.Client(base_url=site.base) as client:
        assert "Acme status" in client.get("/status").text
        good = config.read_text()
        config.write_text(good.replace('title = "Acme status"', "refresh = 5"))
        os.utime(config, (time.time() + 5, time.time() + 5))  # a change, even in one tick
        with caplog.at_level("WARNING", logger="passmuster.status"):
            broken = client.get("/status")
        assert broken.status_code == 200
        assert "Acme status" in broken.text
        assert str(tmp_path) not in broken.text
        assert "[status.refresh] Input should be greater than or equal to 10" in caplog.text
        config.write_text(good.replace("Acme status", "Acme platform status"))
        os.utime(config, (time.time() + 10, time.time() + 10))
        assert "Acme platform status" in client.get("/status").text
