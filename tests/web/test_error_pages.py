"""Runtime errors on the pages and the API: the issue's histogram, latest stack trace with
in-app frames first, releases; each service's errors per hour."""

from __future__ import annotations

import httpx
from sentry_events import envelope, exception_event

from passmuster import IssueDraft
from passmuster.usecases.ingest_keys import IngestKeys
from web.helpers import Site


def send(site: Site, *events: dict[str, object]) -> None:
    dsn = IngestKeys(site.desk).dsn_for("billing", actor="test")
    for event in events:
        response = httpx.post(
            f"{site.base}/api/{dsn.project_id}/envelope/",
            content=envelope(event),
            headers={"X-Sentry-Auth": f"Sentry sentry_key={dsn.public_key}"},
        )
        assert response.status_code == 200, response.text


def test_the_issue_page_shows_counts_histogram_releases_and_the_latest_trace(site: Site) -> None:
    send(site, *[exception_event(release="billing@1.0.0") for _ in range(3)])
    send(site, exception_event(release="billing@1.1.0", user="u-2"))
    client, _ = site.logged_in("reader")
    page = client.get("/issues/1").text
    assert 'id="runtime-errors"' in page and 'data-events="4"' in page
    assert "billing@1.0.0 · 3" in page and "billing@1.1.0 · 1" in page
    assert '<svg class="bars"' in page
    in_app = page.index('class="in-app"')
    library = page.index("1 library frame")
    assert in_app < library  # the app's own frames first, the library's folded below
    assert "return settings[key]" in page
    services = client.get("/services").text
    assert 'data-errors="4"' in services


def test_an_issue_without_runtime_errors_has_no_errors_panel(site: Site) -> None:
    site.desk.file(IssueDraft(title="typed"), actor="alice")
    client, _ = site.logged_in("reader")
    assert 'id="runtime-errors"' not in client.get("/issues/1").text


def test_the_api_gives_the_error_side_the_kept_events_and_resolves_in_the_next_release(
    site: Site,
) -> None:
    send(site, exception_event(release="2.0"), exception_event(release="2.1"))
    auth = {"Authorization": f"Bearer {site.secrets['coordinator']}"}
    with httpx.Client(base_url=site.base, headers=auth) as api:
        errors = api.get("/api/v1/issues/1/errors").json()
        assert errors["events"] == 2 and errors["users"] == 1
        assert {r["name"] for r in errors["releases"]} == {"2.0", "2.1"}
        assert errors["latest_event"]["exceptions"][0]["frames"][0]["in_app"] is True
        kept = api.get("/api/v1/issues/1/errors/events").json()
        assert len(kept) == 2 and kept[0]["event"]["release"] == "2.1"
        assert api.get("/api/v1/errors/per-hour").json()["billing"][-1] == 2
        resolved = api.post("/api/v1/issues/1/resolve-in-next-release", json={}).json()
        assert resolved["status"] == "resolved" and "after 2.1" in resolved["resolution"]
        assert api.get("/api/v1/issues/1/errors").json()["events"] == 2
        assert api.post("/api/v1/services/billing/dsn").status_code == 403  # admins only
    admin = {"Authorization": f"Bearer {site.secrets['admin']}"}
    made = httpx.post(f"{site.base}/api/v1/services/billing/dsn", headers=admin).json()
    assert made["dsn"].startswith("http://") and made["dsn"].endswith(f"/{made['project_id']}")
