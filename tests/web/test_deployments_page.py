"""The Deployments page: the services × attempts matrix, the four keys, an attempt's output."""

from __future__ import annotations

import json
import re

from passmuster.core.deploy.attempts import Result, Version
from passmuster.usecases.deployments import DeployLog, Outcome
from web.helpers import Site

CRASH = (
    'Traceback (most recent call last):\n  File "m.py", line 1\n'
    "NameError: name 'x' is not defined\n"
)


def _record(site: Site) -> None:
    log = DeployLog(site.desk, actor="bot")
    for service, outcome in (
        ("billing", Outcome(Result.SUCCEEDED, output="ready")),
        ("billing", Outcome(Result.FAILED, exit_code=1, output=CRASH)),
        ("identity", Outcome(Result.SUCCEEDED)),
    ):
        run = log.begin([service], commit="c" * 40)
        log.finish(log.start(run, service, wave=0, version=Version("c" * 40)), outcome)


def test_the_page_shows_each_service_s_recent_attempts_and_the_four_keys(site: Site) -> None:
    _record(site)
    client, _ = site.logged_in("reader")
    page = client.get("/deployments")
    assert page.status_code == 200
    text = page.text
    rows = re.findall(r'<td><a href="/issues\?service=(\w+)">', text)
    assert rows == ["billing", "identity"]
    assert text.count('class="attempt succeeded"') == 2
    assert text.count('class="attempt failed"') == 1
    assert "name-error" in text  # in the failed cell's title
    assert "change failure rate" in text
    charts = re.search(r'data-charts="([^"]+)"', text)
    assert charts is not None
    data = json.loads(charts.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    assert sum(data["frequency"]["datasets"][0]["data"]) == 2
    assert sum(data["frequency"]["datasets"][1]["data"]) == 1
    assert 'href="/deployments"' in client.get("/board").text


def test_an_attempt_page_shows_its_output(site: Site) -> None:
    _record(site)
    client, _ = site.logged_in("reader")
    page = client.get("/deployments/attempts/2")
    assert page.status_code == 200
    assert "NameError: name &#39;x&#39; is not defined" in page.text
    assert "name-error" in page.text
    assert client.get("/deployments/attempts/99").status_code == 404


def test_the_page_needs_a_login(site: Site) -> None:
    assert site.browser().get("/deployments").status_code == 303


def test_an_empty_desk_says_how_to_record_deployments(site: Site) -> None:
    client, _ = site.logged_in("reader")
    assert "POST /api/v1/deployments" in client.get("/deployments").text
