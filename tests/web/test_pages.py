"""The pages over real HTTP: login into a session cookie, CSRF on every form, roles, and what
each page shows."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from passmuster.core.catalog import Service
from passmuster.core.issues import IssueDraft, IssueType, Severity, Status, Task
from passmuster.core.limits import TYPED
from web.helpers import CSRF_INPUT, Site


def test_pages_send_a_visitor_without_a_session_to_the_login_form(site: Site) -> None:
    client = site.browser()
    for path in ("/board", "/issues", "/issues/1", "/services", "/stats", "/sla", "/live"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    assert client.post("/issues/new", data={"title": "x"}).status_code == 303
    assert site.desk.count() == 0


def test_login_sets_an_httponly_samesite_cookie_and_a_wrong_token_is_refused(site: Site) -> None:
    client = site.browser()
    csrf = CSRF_INPUT.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    wrong = client.post("/login", data={"token": "pm_wrong", "csrf_token": csrf})
    assert wrong.status_code == 401 and "unknown token" in wrong.text
    right = client.post(
        "/login", data={"token": site.secrets["reader"], "csrf_token": csrf, "next": "//evil.test"}
    )
    assert right.status_code == 303 and right.headers["location"] == "/board"
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert site.secrets["reader"] not in right.headers["set-cookie"]
    assert client.get("/board").status_code == 200


def test_login_never_sends_a_browser_to_another_site(site: Site) -> None:
    for target in ("//evil.test", "/\\evil.test", "https://evil.test", "evil.test"):
        client = site.browser()
        csrf = CSRF_INPUT.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
        done = client.post(
            "/login", data={"token": site.secrets["reader"], "csrf_token": csrf, "next": target}
        )
        assert done.headers["location"] == "/board", target


def test_login_itself_needs_the_forms_csrf_value(site: Site) -> None:
    client = site.browser()
    client.get("/login")
    response = client.post("/login", data={"token": site.secrets["admin"], "csrf_token": "forged"})
    assert response.status_code == 403
    assert client.get("/board").status_code == 303


def test_every_form_needs_the_sessions_csrf_value(site: Site) -> None:
    client, csrf = site.logged_in("admin")
    assert client.post("/issues/new", data={"title": "no csrf"}).status_code == 403
    forged = client.post("/issues/new", data={"title": "forged", "csrf_token": "x" * 32})
    assert forged.status_code == 403
    assert site.desk.count() == 0
    by_header = client.post(
        "/issues/new", data={"title": "via htmx"}, headers={"X-CSRF-Token": csrf}
    )
    assert by_header.status_code == 303
    assert client.post("/logout", data={}).status_code == 403


def test_filing_transitioning_and_commenting_through_the_forms(site: Site) -> None:
    client, csrf = site.logged_in("coordinator")
    filed = client.post(
        "/issues/new",
        data={
            "csrf_token": csrf,
            "title": "Gateway returns 502",
            "severity": "critical",
            "type": "incident",
            "description": "Every request fails",
            "tasks": "check upstream\nroll back",
        },
    )
    assert filed.status_code == 303 and filed.headers["location"] == "/issues/1"
    issue = site.desk.get(1)
    assert issue.severity is Severity.CRITICAL and issue.type is IssueType.INCIDENT
    assert [t.text for t in issue.tasks] == ["check upstream", "roll back"]
    page = client.get("/issues/1").text
    assert "Gateway returns 502" in page and "check upstream" in page
    moved = client.post("/issues/1/transition", data={"csrf_token": csrf, "to": "in_progress"})
    assert moved.status_code == 303
    assert site.desk.get(1).status is Status.IN_PROGRESS
    client.post("/issues/1/comment", data={"csrf_token": csrf, "body": "upstream is fine"})
    assert "upstream is fine" in client.get("/issues/1").text
    closed = client.post("/issues/1/transition", data={"csrf_token": csrf, "to": "closed"})
    assert closed.status_code == 409 and "closing needs a reason" in closed.text
    resolved = client.post(
        "/issues/1/transition",
        data={"csrf_token": csrf, "to": "resolved", "resolution": "restarted the pool"},
    )
    assert resolved.status_code == 303
    assert site.desk.get(1).resolution == "restarted the pool"


def test_a_bad_form_is_shown_again_with_the_field_named(site: Site) -> None:
    client, csrf = site.logged_in("reporter")
    response = client.post("/issues/new", data={"csrf_token": csrf, "title": "  "})
    assert response.status_code == 422
    assert "invalid title" in response.text and 'aria-invalid="true"' in response.text
    assert site.desk.count() == 0


def test_the_new_issue_form_meets_the_desks_limits_and_stores_nothing_over_them(
    site: Site,
) -> None:
    client, csrf = site.logged_in("reporter")
    huge = "d" * (TYPED.text + 1)
    refused = client.post(
        "/issues/new", data={"csrf_token": csrf, "title": "Big", "description": huge}
    )
    assert refused.status_code == 422
    assert "description is too long: 100,001 characters (at most 100,000)" in refused.text
    title = client.post("/issues/new", data={"csrf_token": csrf, "title": "t" * 301})
    assert title.status_code == 422 and "title is too long" in title.text
    nul = client.post("/issues/new", data={"csrf_token": csrf, "title": "a\x00b"})
    assert nul.status_code == 422 and "NUL" in nul.text
    assert site.desk.count() == 0
    comment = client.post("/issues/1/comment", data={"csrf_token": csrf, "body": huge})
    assert comment.status_code == 422


def test_a_nul_in_the_list_filters_is_refused_as_the_api_refuses_it(site: Site) -> None:
    client, _ = site.logged_in("reader")
    assert client.get("/issues", params={"q": "a\x00b"}).status_code == 422
    assert client.get("/issues", params={"service": "a\x00"}).status_code == 422


def test_board_list_and_issue_page_show_claimed_resolved_still_detected(site: Site) -> None:
    flagged = site.desk.file(
        IssueDraft(title="Copied requirements", labels=["rule:REQ001", "still-detected"]),
        actor="x",
    )
    site.desk.transition(flagged.number, Status.RESOLVED, actor="x")
    site.desk.file(IssueDraft(title="Open one", labels=["still-detected"]), actor="x")
    client, _ = site.logged_in("reader")
    flag = 'class="flag still-detected"'
    board = client.get("/board").text
    resolved = board[board.index('data-status="resolved"') :]
    assert resolved.count(flag) == 1
    assert board.count(flag) == 1  # an open issue claims no fix
    assert client.get("/issues", params={"status": "resolved"}).text.count(flag) == 1
    assert flag in client.get(f"/issues/{flagged.number}").text


def test_roles_hold_on_the_pages_too(site: Site) -> None:
    site.desk.file(IssueDraft(title="Existing"), actor="x")
    reader, csrf = site.logged_in("reader")
    assert reader.post("/issues/new", data={"csrf_token": csrf, "title": "t"}).status_code == 403
    assert (
        reader.post("/issues/1/comment", data={"csrf_token": csrf, "body": "b"}).status_code == 403
    )
    reporter, csrf2 = site.logged_in("reporter")
    close = reporter.post(
        "/issues/1/transition", data={"csrf_token": csrf2, "to": "closed", "reason": "invalid"}
    )
    assert close.status_code == 403
    assert site.desk.get(1).status is Status.OPEN
    assert "cannot move issues" in reporter.get("/issues/1").text


def test_a_revoked_token_ends_its_sessions(site: Site) -> None:
    client, _ = site.logged_in("reader")
    assert client.get("/board").status_code == 200
    admin = {"Authorization": f"Bearer {site.secrets['admin']}"}
    revoked = site.browser().delete("/api/v1/tokens/reader", headers=admin)
    assert revoked.status_code == 200
    assert client.get("/board").status_code == 303


def test_board_and_list_show_issues_by_status_with_filters(site: Site) -> None:
    site.desk.file(
        IssueDraft(title="Gateway 502", severity=Severity.HIGH, services=["gateway"]), actor="x"
    )
    site.desk.file(
        IssueDraft(title="Billing slow", type=IssueType.PERFORMANCE, services=["billing"]),
        actor="x",
    )
    site.desk.transition(2, Status.IN_PROGRESS, actor="x")
    client, _ = site.logged_in("reader")
    board = client.get("/board").text
    open_col = board.split('data-status="open"')[1].split("</section>")[0]
    progress_col = board.split('data-status="in_progress"')[1].split("</section>")[0]
    assert "Gateway 502" in open_col and "Billing slow" in progress_col
    by_service = client.get("/issues", params={"service": "billing"}).text
    assert "Billing slow" in by_service and "Gateway 502" not in by_service
    by_text = client.get("/issues", params={"q": "gateway"}).text
    assert "Gateway 502" in by_text and "Billing slow" not in by_text
    by_type = client.get("/issues", params={"type": "performance", "status": "in_progress"}).text
    assert "Billing slow" in by_type and "Gateway 502" not in by_type
    bad = client.get("/issues", params={"severity": "urgent"})
    assert bad.status_code == 422 and "critical" in bad.text


def test_sla_page_lists_breached_issues_most_urgent_first(site: Site) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=3)
    site.desk.file(
        IssueDraft(title="Old critical", severity=Severity.CRITICAL, reported_at=long_ago),
        actor="x",
    )
    site.desk.file(
        IssueDraft(title="Old medium", severity=Severity.MEDIUM, reported_at=long_ago), actor="x"
    )
    site.desk.file(IssueDraft(title="Fresh low", severity=Severity.LOW), actor="x")
    client, _ = site.logged_in("reader")
    page = client.get("/sla").text
    breached = page.split("Breached")[1].split("At risk")[0]
    assert breached.index("Old critical") < breached.index("Old medium")
    assert "Fresh low" not in page
    assert "sla-breached" in client.get("/issues").text


def test_services_page_shows_health_counts_and_the_dependency_graph(site: Site) -> None:
    site.desk.ensure_service(Service(name="postgres", kind="database"))
    site.desk.ensure_service(Service(name="identity", depends_on=["postgres"]))
    site.desk.file(
        IssueDraft(title="identity down", type=IssueType.INCIDENT, services=["identity"]), actor="x"
    )
    client, _ = site.logged_in("reader")
    page = client.get("/services").text
    row = page.split('id="svc-identity"')[1].split("</tr>")[0]
    assert 'data-state="unknown"' in page
    assert ">1</a>" in row  # one open issue, one incident, both linked
    assert '<svg class="graph"' in page and 'data-service="postgres"' in page
    assert "<line" in page  # identity → postgres


def test_statistics_page_carries_chart_data(site_on_each_store: Site) -> None:
    import html
    import json

    site = site_on_each_store
    site.desk.file(IssueDraft(title="a", severity=Severity.HIGH), actor="x")
    site.desk.file(IssueDraft(title="b", severity=Severity.LOW), actor="x")
    site.desk.transition(2, Status.RESOLVED, actor="x", fields={"resolution": "done"})
    client, _ = site.logged_in("reader")
    page = client.get("/stats").text
    raw = page.split('data-charts="')[1].split('"')[0]
    charts = json.loads(html.unescape(raw))
    months = {d["label"]: sum(d["data"]) for d in charts["months"]["datasets"]}
    assert months["high"] == 1 and months["low"] == 1
    assert sum(charts["resolution"]["datasets"][0]["data"]) == 1
    assert '<canvas id="chart-months"' in page and "/static/vendor/chart.umd.min.js" in page


def test_assets_are_served_from_this_site(site: Site) -> None:
    client = site.browser()
    for path in (
        "/static/vendor/htmx.min.js",
        "/static/vendor/htmx-ext-sse.min.js",
        "/static/vendor/chart.umd.min.js",
        "/static/app.css",
        "/static/app.js",
    ):
        assert client.get(path).status_code == 200, path
    page = client.get("/login").text
    assert "https://" not in page and "http://" not in page


def test_the_api_docs_page_loads_swagger_ui_from_this_site(site: Site) -> None:
    client = site.browser()
    page = client.get("/api/v1/docs")  # no token: the spec holds no desk data
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in sources
    assert all(not s.startswith(("http:", "https:", "//")) for s in sources), sources
    assert '"validatorUrl": null' in page.text  # the spec is never sent to validator.swagger.io
    for asset in sources:
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset


def test_descriptions_and_comments_are_markdown_without_html_or_script_links(
    site: Site,
) -> None:
    hostile = (
        "**Bold** and a list:\n\n- one\n- two\n\n<script>alert(1)</script>"
        "<img src=x onerror=alert(2)> [click](javascript:alert(3)) [docs](https://example.org)"
        " ![tracker](https://example.org/pixel.png)"
    )
    filed = site.desk.file(IssueDraft(title="Markdown", description=hostile), actor="x")
    site.desk.comment(filed.number, "A *comment* with [bad](JaVaScRiPt:alert(4))", actor="x")
    client, _ = site.logged_in("reader")
    page = client.get(f"/issues/{filed.number}").text
    assert "<strong>Bold</strong>" in page and "<li>one</li>" in page
    assert "<em>comment</em>" in page
    assert "<script>alert" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text
    assert not re.search(r'href="\s*javascript:', page, re.IGNORECASE)  # kept as plain text
    assert "[click](javascript:alert(3))" in page
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">docs</a>' in page
    # An image becomes a link to it: a description cannot make readers' browsers fetch it.
    assert '<a href="https://example.org/pixel.png" rel="nofollow noopener noreferrer">' in page


def test_the_timeline_says_which_task_was_checked(site: Site) -> None:
    filed = site.desk.file(
        IssueDraft(title="Tasks", tasks=[Task("Create the endpoint"), Task("Write docs")]),
        actor="x",
    )
    site.desk.update(
        filed.number,
        {"tasks": [Task("Create the endpoint", done=True), Task("Write docs")]},
        actor="x",
    )
    client, _ = site.logged_in("reader")
    page = client.get(f"/issues/{filed.number}").text
    assert "checked &#39;Create the endpoint&#39;" in page
    timeline = page[page.index('class="timeline"') :]
    assert "done" not in timeline and "{" not in timeline  # no raw JSON


def test_the_statistics_chart_has_a_bar_for_every_month_empty_ones_included(
    site_on_each_store: Site,
) -> None:
    site = site_on_each_store
    for reported in (datetime(2025, 1, 10, tzinfo=UTC), datetime(2025, 4, 2, tzinfo=UTC)):
        site.desk.file(IssueDraft(title="x", reported_at=reported), actor="x")
    client, _ = site.logged_in("reader")
    page = client.get("/stats").text
    found = re.search(r'data-charts="([^"]*)"', page)
    assert found is not None
    charts = json.loads(html.unescape(found.group(1)))
    assert charts["months"]["labels"] == ["Jan 2025", "Feb 2025", "Mar 2025", "Apr 2025"]
    medium = next(d for d in charts["months"]["datasets"] if d["label"] == "medium")
    assert medium["data"] == [1, 0, 0, 1]


def test_an_open_issue_shows_resolved_look_alikes_with_their_fix(site: Site) -> None:
    site.desk.file(IssueDraft(title="HTTPStatus import crashes identity"), actor="x")
    site.desk.transition(
        1, Status.RESOLVED, actor="x", fields={"resolution": "import it from http instead"}
    )
    site.desk.file(IssueDraft(title="HTTPStatus import crashes billing"), actor="x")
    client, _ = site.logged_in("reader")
    page = client.get("/issues/2").text
    known = page.split("Known fixes")[1].split("</section>")[0]
    assert "#001" in known and "import it from http instead" in known


def test_the_issue_page_shows_how_often_scans_saw_the_finding(site: Site) -> None:
    finding = site.desk.file(
        IssueDraft(title="PORT001 host port clash", type=IssueType.FINDING, source="scan"),
        actor="passmuster-scan",
    )
    typed = site.desk.file(IssueDraft(title="typed by hand"), actor="alice")
    for n in range(1, 5):
        site.desk.record_occurrences([finding.number], seen_in=f"scan-{n} at commit {n}{n}{n}")
    client, _ = site.logged_in("reader")
    page = client.get(f"/issues/{finding.number}").text
    assert "Seen by scans" in page
    assert "4 scans; first" in page
    assert "(scan-1 at commit 111), last" in page and "(scan-4 at commit 444)" in page
    assert "Seen by scans" not in client.get(f"/issues/{typed.number}").text


def test_sla_page_lists_the_most_overdue_and_counts_them_all(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from passmuster.web import views

    monkeypatch.setattr(views, "SLA_PAGE_ROWS", 2)
    now = datetime.now(UTC)
    site.desk.file_many(
        [
            IssueDraft(
                title=f"Overdue {n} days",
                severity=Severity.HIGH,
                reported_at=now - timedelta(days=n),
            )
            for n in (1, 2, 3)
        ],
        actor="x",
    )
    client, _ = site.logged_in("reader")
    page = client.get("/sla").text
    breached = page.split("Breached")[1].split("At risk")[0]
    assert '<span class="count">6</span>' in breached  # three issues, two clocks each
    assert breached.count('<tr class="clock-breached"') == 2
    assert "Overdue 3 days" in breached and "Overdue 1 days" not in breached
    assert "The 2 most overdue of 6" in breached
    assert "most overdue of" not in page.split("At risk")[1]
