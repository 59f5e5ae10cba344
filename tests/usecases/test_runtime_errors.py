"""Runtime errors on the desk: one issue per cause, exact counts, regressions, known fixes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sentry_events import exception_event

from passmuster.core.error_events import read_event
from passmuster.core.grouping import group
from passmuster.core.issues import CloseReason, IssueDraft, IssueType, LinkKind, Status
from passmuster.errors import AuthError, InvalidValue
from passmuster.usecases.desk import Desk
from passmuster.usecases.ingest_keys import IngestKeys
from passmuster.usecases.runtime_errors import (
    ErrorIntake,
    Incoming,
    error_summary,
    errors_per_hour,
    recent_events,
    resolve_in_next_release,
)


class Sender:
    """A service sending events straight into the intake (no HTTP)."""

    def __init__(self, desk: Desk, service: str = "billing", *, keep: int = 5) -> None:
        self.desk = desk
        self.service = service
        self.project = IngestKeys(desk).dsn_for(service, actor="test").project_id
        self.intake = ErrorIntake(desk, keep=keep)

    def incoming(self, payload: dict[str, Any]) -> Incoming:
        event = read_event(payload, payload["event_id"])
        return Incoming(
            self.project, self.service, event, group(event), json.dumps(payload).encode()
        )

    def send(self, *payloads: dict[str, Any]) -> list[Any]:
        return self.intake.record([self.incoming(p) for p in payloads])


def test_one_exception_opens_one_bug_issue_with_its_details(desk: Desk) -> None:
    sender = Sender(desk)
    [recorded] = sender.send(exception_event())
    assert recorded.opened and recorded.issue == 1
    issue = desk.get(1)
    assert issue.type is IssueType.BUG and issue.services == ["billing"]
    assert issue.title == "billing: KeyError: 'DATABASE_URL'"
    assert issue.severity.value == "high" and issue.source == "errors"
    assert "return settings[key]" in issue.error_details[0]
    assert issue.error_details[1] == "Request: GET http://billing/api/v1/pay"
    assert "release=billing@1.0.0" in issue.error_details[2]
    assert [e.kind for e in desk.events(issue=1)] == ["created", "detected"]


def test_a_hundred_of_the_same_are_one_issue_counting_exactly_and_keeping_the_last_few(
    desk: Desk,
) -> None:
    sender = Sender(desk, keep=5)
    for start in range(0, 100, 30):
        sender.send(
            *[exception_event(user=f"u-{i % 7}") for i in range(start, min(start + 30, 100))]
        )
    assert desk.count() == 1
    summary = error_summary(desk, 1)
    assert summary is not None
    assert summary.group.event_count == 100 and summary.users == 7 and summary.kept == 5
    assert [r.value for r in summary.releases] == ["billing@1.0.0"]
    assert [r.value for r in summary.environments] == ["production"]
    assert sum(n for _, n in summary.hours) == 100
    assert len(recent_events(desk, 1)) == 5
    assert errors_per_hour(desk)["billing"][-1] == 100
    # A hundred events leave a short timeline: counts live beside the issue.
    assert len(desk.events(issue=1)) == 2


def test_another_exception_is_another_issue_and_a_retried_event_counts_once(desk: Desk) -> None:
    sender = Sender(desk)
    same = exception_event()
    results = sender.send(same, same, exception_event(kind="ValueError", value="bad amount"))
    assert [r.duplicate for r in results] == [False, True, False]
    assert sender.send(same)[0].duplicate
    assert desk.count() == 2
    summary = error_summary(desk, 1)
    assert summary is not None and summary.group.event_count == 1


def test_a_resolved_issue_reopens_as_a_regression_naming_the_release(desk: Desk) -> None:
    sender = Sender(desk)
    sender.send(exception_event())
    desk.transition(1, Status.RESOLVED, actor="alice", fields={"resolution": "Default the URL"})
    [again] = sender.send(exception_event(release="billing@1.0.1"))
    assert again.reopened
    issue = desk.get(1)
    assert issue.status is Status.OPEN
    regressed = desk.events(issue=1, kinds=["regressed"])[-1]
    assert "release billing@1.0.1" in (regressed.new or "")
    assert "Regression" in desk.comments(1)[-1].body


def test_resolved_in_the_next_release_only_a_later_release_reopens(desk: Desk) -> None:
    sender = Sender(desk)
    sender.send(exception_event(release="billing@1.2.0"), exception_event(release="billing@1.1.0"))
    resolved = resolve_in_next_release(desk, 1, actor="alice")
    assert resolved.status is Status.RESOLVED and "after billing@1.2.0" in resolved.resolution
    assert not sender.send(exception_event(release="billing@1.2.0"))[0].reopened
    assert not sender.send(exception_event(release="billing@1.1.0"))[0].reopened
    assert not sender.send(exception_event(release=None))[0].reopened
    assert desk.get(1).status is Status.RESOLVED
    assert sender.send(exception_event(release="billing@1.3.0"))[0].reopened
    assert desk.get(1).status is Status.OPEN
    summary = error_summary(desk, 1)
    assert summary is not None and summary.group.event_count == 6


def test_resolving_plainly_after_a_next_release_resolution_means_any_event_again(
    desk: Desk,
) -> None:
    sender = Sender(desk)
    sender.send(exception_event(release="1.0"))
    resolve_in_next_release(desk, 1, actor="alice")
    desk.transition(1, Status.OPEN, actor="alice")
    desk.transition(1, Status.RESOLVED, actor="alice", fields={"resolution": "for real"})
    assert sender.send(exception_event(release="1.0"))[0].reopened


def test_a_closed_issue_is_counted_but_never_reopened(desk: Desk) -> None:
    sender = Sender(desk)
    sender.send(exception_event())
    desk.transition(1, Status.CLOSED, actor="alice", reason=CloseReason.WONT_FIX)
    assert not sender.send(exception_event(release="9.9"))[0].reopened
    assert desk.get(1).status is Status.CLOSED


def test_resolving_in_the_next_release_needs_a_runtime_error(desk: Desk) -> None:
    desk.file(IssueDraft(title="typed by hand"), actor="alice")
    with pytest.raises(InvalidValue, match="runtime errors"):
        resolve_in_next_release(desk, 1, actor="alice")


def test_a_new_issue_mentions_known_fixes_and_links_the_same_cause_found_by_the_scanner(
    desk: Desk,
) -> None:
    desk.file(
        IssueDraft(
            title="billing: KeyError DATABASE_URL missing in worker",
            services=["billing"],
            error_details=["KeyError: 'DATABASE_URL'"],
        ),
        actor="alice",
    )
    desk.transition(
        1, Status.RESOLVED, actor="alice", fields={"resolution": "Set DATABASE_URL in compose"}
    )
    finding = desk.file(
        IssueDraft(
            title="ENV003 billing reads `DATABASE_URL`, which compose never sets",
            type=IssueType.FINDING,
            services=["billing"],
            component="app/main.py",
            description="billing reads it.\n\nAt `app/main.py:21` (first detected by scan-1).",
            source="scan",
        ),
        actor="passmuster-scan",
    )
    sender = Sender(desk)
    [recorded] = sender.send(exception_event())
    comments = desk.comments(recorded.issue)
    assert "Known fixes" in comments[0].body and "#001" in comments[0].body
    linked = desk.get(recorded.issue).links
    assert [(link.kind, link.target) for link in linked] == [(LinkKind.RELATES_TO, finding.number)]


def test_a_new_release_refreshes_the_details_of_an_open_issue(desk: Desk) -> None:
    sender = Sender(desk)
    sender.send(exception_event(release="1.0"))
    sender.send(exception_event(release="1.1"))
    assert "release=1.1" in desk.get(1).error_details[-1]


def test_dsn_keys_are_made_once_revocable_and_bound_to_their_project(desk: Desk) -> None:
    keys = IngestKeys(desk)
    first = keys.dsn_for("billing", actor="alice", base_url="https://desk.example.com/errors")
    assert first.created and str(first).startswith(
        f"https://{first.public_key}@desk.example.com/errors/"
    )
    again = keys.dsn_for("billing", actor="alice")
    assert not again.created and again.public_key == first.public_key
    assert keys.authenticate(first.project_id, first.public_key).service == "billing"
    other = keys.dsn_for("identity", actor="alice")
    with pytest.raises(AuthError, match="not the key of project"):
        keys.authenticate(other.project_id, first.public_key)
    assert keys.revoke("billing") == 1
    with pytest.raises(AuthError, match="revoked"):
        keys.authenticate(first.project_id, first.public_key)
    assert keys.dsn_for("billing", actor="alice").public_key != first.public_key
    with pytest.raises(InvalidValue):
        keys.dsn_for("billing", actor="alice", base_url="ftp://x")


def test_one_event_the_desk_refuses_does_not_spoil_the_others(desk: Desk) -> None:
    import asyncio

    from passmuster.api.ingest import GroupCommit

    sender = Sender(desk)
    good = [sender.incoming(exception_event()) for _ in range(3)]
    bad = sender.incoming(exception_event(kind="X" * 10))

    def record(batch: Any) -> Any:
        if any(i is bad for i in batch):
            raise InvalidValue("title", "x", ["shorter"])
        return sender.intake.record(batch)

    async def run() -> list[Any]:
        commit = GroupCommit(record)
        stop = asyncio.Event()
        task = asyncio.create_task(commit.run(stop))
        results = await asyncio.gather(
            *(commit.submit([i]) for i in [*good, bad]), return_exceptions=True
        )
        stop.set()
        await task
        return results

    results = asyncio.run(run())
    assert [isinstance(r, list) for r in results] == [True, True, True, False]
    summary = error_summary(desk, 1)
    assert summary is not None and summary.group.event_count == 3


def test_a_finding_filed_after_the_error_is_linked_to_it(desk: Desk) -> None:
    from passmuster.usecases.runtime_errors import link_finding

    sender = Sender(desk)
    [recorded] = sender.send(exception_event())
    finding = desk.file(
        IssueDraft(
            title="ENV003 billing reads `DATABASE_URL`, which compose never sets",
            type=IssueType.FINDING,
            services=["billing"],
            description="At `services/billing/app/main.py:21` (first detected by scan-2).",
            source="scan",
        ),
        actor="passmuster-scan",
    )
    unrelated = desk.file(
        IssueDraft(
            title="REQ001 requirements copied",
            services=["billing"],
            description="At `services/billing/requirements.txt:2`.",
            source="scan",
        ),
        actor="passmuster-scan",
    )
    assert link_finding(desk, finding) == [recorded.issue]
    assert link_finding(desk, unrelated) == []
    links = desk.get(recorded.issue).links
    assert [(link.kind, link.target) for link in links] == [(LinkKind.RELATES_TO, finding.number)]
