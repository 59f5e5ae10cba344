"""The example platform's services report their runtime errors with the Sentry SDK, as the
demo runs them: a real `serve`, the services as local processes, SENTRY_DSN from the desk."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from api.live_server import serve_in_thread

from passmuster.api.app import create_app
from passmuster.api.config import ServeSettings
from passmuster.core.issues import IssueDraft, IssueQuery, IssueType, LinkKind
from passmuster.usecases.desk import Desk
from passmuster.usecases.ingest_keys import IngestKeys
from passmuster.usecases.local_platform import start_local_platform

PLATFORM = Path(__file__).parents[2] / "examples" / "platform"


def _wait(check: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_the_example_services_report_their_errors_to_the_desk(
    sqlite_url: str, tmp_path: Path
) -> None:
    desk = Desk.connect(sqlite_url)
    # The scanner's finding about billing's import, as `passmuster scan` files it.
    finding = desk.file(
        IssueDraft(
            title="CODE001 `from fastapi import HTTPStatus`: fastapi has no HTTPStatus",
            type=IssueType.FINDING,
            services=["billing"],
            component="services/billing/app/main.py",
            description="At `services/billing/app/main.py:5` (first detected by scan-1).",
            source="scan",
        ),
        actor="passmuster-scan",
    )
    app = create_app(ServeSettings(database_url=sqlite_url))
    with serve_in_thread(app) as base:
        keys = IngestKeys(desk)

        def reporting(name: str) -> dict[str, str]:
            dsn = keys.dsn_for(name, actor="demo", base_url=base)
            return {"SENTRY_DSN": str(dsn), "SENTRY_RELEASE": f"{name}@1.0.0"}

        only = ["gateway", "billing"]
        with start_local_platform(PLATFORM, only=only, log_dir=tmp_path, env=reporting) as local:
            assert "billing" in local.failed
            errors = IssueQuery(labels=["runtime-error"])
            # billing's crash at import is reported while it dies, and linked to the finding.
            assert _wait(lambda: desk.count(errors) == 1), local.failed["billing"]
            crash = desk.issues(errors)[0]
            assert crash.title.startswith("billing: ImportError: cannot import name 'HTTPStatus'")
            assert [(link.kind, link.target) for link in crash.links] == [
                (LinkKind.RELATES_TO, finding.number)
            ]
            # The gateway fails to reach billing: its error arrives as another issue.
            gateway = local.services["gateway"].url
            for _ in range(3):
                response = httpx.get(f"{gateway}/api/billing/api/v1/subscriptions/42", timeout=10)
                assert response.status_code == 500
            assert _wait(lambda: desk.count(errors) == 2)
            failing = next(i for i in desk.issues(errors) if i.services == ["gateway"])
            assert "ConnectError" in failing.title
