"""Recording deployments on a real desk (SQLite and PostgreSQL): attempts, failures into one
issue per class, clearing and resolving, dead runs, and the delivery keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from passmuster.core.deploy.attempts import Result, RunStatus, Version
from passmuster.core.issues import IssueDraft, IssueQuery, IssueType, LinkKind, Status
from passmuster.usecases.deploy_failures import SOURCE
from passmuster.usecases.deployments import DeployLog, Outcome, delivery, history
from passmuster.usecases.desk import Desk

HTTPSTATUS = (
    'Traceback (most recent call last):\n  File "/app/app/main.py", line 5, in <module>\n'
    "    from fastapi import FastAPI, HTTPStatus\n"
    "ImportError: cannot import name 'HTTPStatus' from 'fastapi' (/x/fastapi/__init__.py)\n"
)
V1 = Version("a" * 40, "b" * 40, datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def log(desk: Desk) -> DeployLog:
    return DeployLog(desk, actor="ci-bot")


def _attempt(log: DeployLog, service: str, outcome: Outcome, run=None):  # type: ignore[no-untyped-def]
    run = run or log.begin([service], commit=V1.commit)
    attempt_id = log.start(run, service, wave=0, version=V1)
    return log.finish(attempt_id, outcome)


def _crash() -> Outcome:
    return Outcome(Result.FAILED, exit_code=1, output=HTTPSTATUS)


def test_an_attempt_keeps_what_was_deployed_and_how_it_went(log: DeployLog, desk: Desk) -> None:
    finished = _attempt(log, "billing", Outcome(Result.SUCCEEDED, output="started\n" * 500))
    attempt = finished.attempt
    assert attempt.result is Result.SUCCEEDED
    assert (attempt.commit, attempt.service_commit) == (V1.commit, V1.service_commit)
    assert attempt.service_commit_at == V1.service_commit_at
    assert attempt.finished_at is not None and attempt.duration is not None
    assert attempt.output.count("started") == 200  # the last 200 lines
    assert history(desk)[0].id == attempt.id


def test_failures_of_one_class_share_one_issue_listing_every_service(
    log: DeployLog, desk: Desk
) -> None:
    first = _attempt(log, "billing", _crash())
    second = _attempt(log, "payments", _crash())
    assert first.failure is not None and first.failure.name == "import-error"
    assert first.changes[0].action == "opened"
    assert second.changes[0].action == "added"
    issues = desk.issues(IssueQuery(source=SOURCE))
    assert len(issues) == 1
    issue = issues[0]
    assert issue.type is IssueType.DEPLOYMENT
    assert issue.services == ["billing", "payments"]
    assert [b.split("\n")[0].split("]")[0] for b in issue.error_details] == [
        "[billing",
        "[payments",
    ]
    assert "HTTPStatus" in issue.error_details[0]
    assert first.attempt.issue == second.attempt.issue == issue.number


def test_a_service_failing_again_replaces_its_excerpt(log: DeployLog, desk: Desk) -> None:
    _attempt(log, "billing", _crash())
    _attempt(log, "billing", _crash())
    issue = desk.issues(IssueQuery(source=SOURCE))[0]
    assert len(issue.error_details) == 1
    assert len(issue.tasks) == 1
    assert len(desk.events(issue=issue.number, kinds=["detected"])) == 2


def test_successes_clear_services_and_the_last_one_resolves_naming_the_commit(
    log: DeployLog, desk: Desk
) -> None:
    _attempt(log, "billing", _crash())
    _attempt(log, "payments", _crash())
    cleared = _attempt(log, "billing", Outcome(Result.SUCCEEDED))
    assert [c.action for c in cleared.changes] == ["cleared"]
    issue = desk.issues(IssueQuery(source=SOURCE))[0]
    assert issue.services == ["payments"]
    assert [t.done for t in issue.tasks] == [True, False]
    resolved = _attempt(log, "payments", Outcome(Result.SUCCEEDED))
    assert [c.action for c in resolved.changes] == ["resolved"]
    issue = desk.get(issue.number)
    assert issue.status is Status.RESOLVED
    assert "aaaaaaaaaaaa" in issue.resolution
    assert "payments" in issue.resolution


def test_the_class_failing_again_after_it_was_fixed_reopens_it(log: DeployLog, desk: Desk) -> None:
    _attempt(log, "billing", _crash())
    _attempt(log, "billing", Outcome(Result.SUCCEEDED))
    again = _attempt(log, "identity", _crash())
    assert again.changes[0].action == "reopened"
    issues = desk.issues(IssueQuery(source=SOURCE))
    assert len(issues) == 1
    assert issues[0].status is Status.OPEN
    assert issues[0].services == ["identity"]
    assert desk.events(issue=issues[0].number, kinds=["regressed"])


def test_a_closed_class_issue_is_left_alone_and_a_new_one_filed(log: DeployLog, desk: Desk) -> None:
    _attempt(log, "billing", _crash())
    first = desk.issues(IssueQuery(source=SOURCE))[0]
    desk.transition(first.number, Status.CLOSED, actor="lead", reason="wont_fix")
    _attempt(log, "billing", _crash())
    issues = desk.issues(IssueQuery(source=SOURCE))
    assert [i.status for i in issues] == [Status.CLOSED, Status.OPEN]


def test_the_scanner_finding_that_predicted_it_is_linked(log: DeployLog, desk: Desk) -> None:
    predicted = desk.file(
        IssueDraft(
            title="CODE001 cannot import name 'HTTPStatus' from 'fastapi'",
            type=IssueType.FINDING,
            services=["billing"],
            labels=["rule:CODE001"],
            source="scan",
            fingerprint="f1",
        ),
        actor="scan",
    )
    unrelated = desk.file(
        IssueDraft(
            title="CODE001 cannot import name 'Depends' from 'flask'",
            type=IssueType.FINDING,
            services=["billing"],
            labels=["rule:CODE001"],
            source="scan",
            fingerprint="f2",
        ),
        actor="scan",
    )
    finished = _attempt(log, "billing", _crash())
    assert finished.changes[0].findings == [predicted.number]
    issue = desk.get(finished.changes[0].issue.number)
    targets = {(link.kind, link.target) for link in issue.links}
    assert (LinkKind.CAUSED_BY, predicted.number) in targets
    assert (LinkKind.CAUSED_BY, unrelated.number) not in targets


def test_a_new_class_issue_shows_known_fixes(log: DeployLog, desk: Desk) -> None:
    fixed = desk.file(
        IssueDraft(
            title="billing crashes at import: HTTPStatus from fastapi",
            error_details=["ImportError: cannot import name 'HTTPStatus' from 'fastapi'"],
        ),
        actor="lead",
    )
    desk.transition(
        fixed.number,
        Status.RESOLVED,
        actor="lead",
        fields={"resolution": "Import HTTPStatus from http instead of fastapi"},
    )
    finished = _attempt(log, "billing", _crash())
    change = finished.changes[0]
    assert [f.number for f in change.known_fixes] == [fixed.number]
    assert "Import HTTPStatus from http" in change.issue.description
    assert "How to fix it" in change.issue.description


def test_a_dead_run_is_marked_interrupted_and_its_processes_handed_back(
    log: DeployLog, desk: Desk
) -> None:
    dead = log.begin(["billing", "identity"], commit=None, owner="elsewhere:1:1")
    first = log.start(dead, "billing", wave=0, version=Version())
    log.note_process(first, 4242, "elsewhere:4242:99")
    log.start(dead, "identity", wave=0, version=Version())
    living = log.begin(["tenants"], commit=None, owner="here:2:2")
    log.start(living, "tenants", wave=0, version=Version())
    swept = log.sweep(lambda owner: owner == "here:2:2" or False)
    assert [r.id for r in swept.runs] == [dead.id]
    assert swept.attempts == 2
    assert swept.processes == [(4242, "elsewhere:4242:99")]
    results = {a.service: a.result for a in history(desk)}
    assert results == {
        "billing": Result.INTERRUPTED,
        "identity": Result.INTERRUPTED,
        "tenants": Result.RUNNING,
    }
    assert log.sweep(lambda owner: True).runs == []


def test_a_run_on_another_machine_counts_as_dead_once_its_lease_ran_out(desk: Desk) -> None:
    now = [datetime(2026, 5, 1, tzinfo=UTC)]
    desk.clock = lambda: now[0]
    log = DeployLog(desk, actor="x")
    run = log.begin(["billing"], commit=None, owner="other-host:1:1")
    assert log.sweep(lambda owner: None).runs == []
    now[0] += timedelta(minutes=5)
    assert [r.id for r in log.sweep(lambda owner: None).runs] == [run.id]


def test_old_successful_output_is_pruned_but_failures_keep_theirs(desk: Desk) -> None:
    log = DeployLog(desk, actor="x", keep_output=2)
    for _ in range(4):
        run = log.begin(["billing"], commit=None)
        attempt_id = log.start(run, "billing", wave=0, version=Version())
        log.finish(attempt_id, Outcome(Result.SUCCEEDED, output="ok"))
        log.end(run, RunStatus.SUCCEEDED)
    run = log.begin(["billing"], commit=None)
    log.finish(log.start(run, "billing", wave=0, version=Version()), _crash())
    log.end(run, RunStatus.FAILED)
    from passmuster.usecases.deployments import attempt

    outputs = [attempt(desk, a.id).output for a in reversed(history(desk))]
    assert [bool(o) for o in outputs] == [False, False, False, True, True]


def test_delivery_keys_come_from_recorded_attempts_and_incidents(
    log: DeployLog, desk: Desk
) -> None:
    _attempt(log, "billing", Outcome(Result.SUCCEEDED))
    _attempt(log, "identity", _crash())
    desk.file(
        IssueDraft(title="billing is down", type=IssueType.INCIDENT, services=["billing"]),
        actor="monitor",
    )
    keys = delivery(desk)
    assert keys.deployments == 1
    assert keys.failed == 1
    assert keys.change_failures == 2
    assert list(keys.caused.values()) == [[desk.issues()[-1].number]]
    assert keys.lead_time_hours is not None


def test_delivery_reads_only_the_incidents_of_deployed_services(
    log: DeployLog, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for service in ("billing", "search"):
        desk.file(
            IssueDraft(title=f"{service} is down", type=IssueType.INCIDENT, services=[service]),
            actor="monitor",
        )
    asked: list[IssueQuery] = []
    real = desk.issues

    def spying(query: IssueQuery | None = None) -> list:  # type: ignore[type-arg]
        asked.append(query or IssueQuery())
        return real(query)

    monkeypatch.setattr(desk, "issues", spying)
    # No deployment recorded: nothing can have caused an incident, and none is read.
    keys = delivery(desk)
    assert (keys.deployments, keys.change_failures, asked) == (0, 0, [])

    _attempt(log, "billing", Outcome(Result.SUCCEEDED))
    desk.file(
        IssueDraft(title="billing down again", type=IssueType.INCIDENT, services=["billing"]),
        actor="monitor",
    )
    asked.clear()  # recording the attempt reads issues of its own
    keys = delivery(desk)
    assert [query.services for query in asked] == [["billing"]]
    (caused,) = keys.caused.values()
    assert [desk.get(n).title for n in caused] == ["billing down again"]
