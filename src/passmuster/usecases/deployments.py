"""Recording deployments on the desk: runs and attempts, what their failures mean for the
tracker, interrupted runs, and the queries status pages and statistics ask.

The deploy runner (`passmuster.deploy`) calls a `DeployLog` as it goes: `begin` a run, `start`
an attempt before its command runs, `finish` it when the health gate passed or gave up, `skip`
the ones whose dependency failed, `end` the run. Each call is one transaction, so whatever
happens to the runner afterwards, what it recorded stays. A run keeps a lease while its
process lives; `sweep` (called by the next deploy) marks the attempts of runs whose process is
gone as interrupted and hands back the process groups they had started, to be stopped.

CI systems report deployments they ran through `record_external` (the REST API's
`POST /deployments`): the same attempts, the same failure issues.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection

from passmuster.core.delivery import Delivery, Deployment, Trouble, delivery_keys
from passmuster.core.deploy.attempts import (
    Attempt,
    Result,
    Run,
    RunStatus,
    Version,
    tail,
)
from passmuster.core.deploy.classify import Classifiers, Evidence, Failure
from passmuster.core.issues import Issue, IssueQuery, IssueType
from passmuster.storage import deploy_store as store
from passmuster.usecases.deploy_failures import (
    SOURCE as DEPLOY_SOURCE,
)
from passmuster.usecases.deploy_failures import (
    IssueChange,
    clear_service,
    default_classifiers,
    record_failure,
    stamp_for,
)
from passmuster.usecases.desk import Desk

LEASE = timedelta(seconds=60)  # a run's owner renews well within this


@dataclass(slots=True)
class Outcome:
    """How one attempt ended, as the runner saw it."""

    result: Result
    exit_code: int | None = None
    reason: str = ""
    output: str = ""
    logs: str = ""
    probe_reason: str | None = None
    killed_by_deploy: bool = False
    unhealthy_dependencies: tuple[str, ...] = ()
    hosts: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ExternalReport:
    """One deployment a CI system ran, in the terms of GitHub's deployment statuses."""

    external_id: str
    services: list[str]
    result: Result  # running, succeeded or failed
    environment: str = ""
    commit: str | None = None
    service_commit: str | None = None
    commit_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    description: str = ""
    output: str = ""
    logs: str = ""
    exit_code: int | None = None
    url: str | None = None


@dataclass(slots=True)
class Finished:
    attempt: Attempt
    failure: Failure | None = None
    changes: list[IssueChange] = field(default_factory=list)


@dataclass(slots=True)
class Swept:
    """Runs found dead at start, with the process groups their unfinished attempts started."""

    runs: list[Run] = field(default_factory=list)
    attempts: int = 0
    processes: list[tuple[int, str]] = field(default_factory=list)  # (pgid, leader identity)


class DeployLog:
    """Records one actor's deployments on the desk (see the module docstring)."""

    def __init__(
        self,
        desk: Desk,
        *,
        actor: str,
        source: str = "cli",
        classifiers: Classifiers | None = None,
        keep_output: int = 20,
    ) -> None:
        self.desk = desk
        self.actor = actor
        self.source = source
        self.classifiers = classifiers or default_classifiers()
        self.keep_output = keep_output

    # --- a run ----------------------------------------------------------------------------

    def begin(
        self,
        services: Sequence[str],
        *,
        commit: str | None,
        options: str = "",
        owner: str | None = None,
    ) -> Run:
        now = self.desk.clock()
        return self.desk.write(
            lambda c: store.insert_run(
                c,
                started_at=now,
                actor=self.actor,
                source=self.source,
                commit=commit,
                services=services,
                options=options,
                owner=owner,
                lease_until=now + LEASE if owner else None,
            )
        )

    def renew(self, run: Run) -> bool:
        if run.owner is None:
            return True
        until = self.desk.clock() + LEASE
        owner = run.owner
        return self.desk.write(lambda c: store.renew_run(c, run.id, owner, until))

    def end(self, run: Run, status: RunStatus) -> None:
        now = self.desk.clock()
        services = run.services

        def work(c: Connection) -> None:
            store.finish_run(c, run.id, status, now)
            store.prune_output(c, services, self.keep_output)

        self.desk.write(work)

    # --- attempts -------------------------------------------------------------------------

    def start(self, run: Run | None, service: str, *, wave: int | None, version: Version) -> int:
        return self.start_many(run, [(service, wave, version)])[0]

    def start_many(
        self, run: Run | None, services: Sequence[tuple[str, int | None, Version]]
    ) -> list[int]:
        """Record attempts as running, in one transaction (a wave starts together)."""
        now = self.desk.clock()
        rows = [
            {
                "run": run.id if run else None,
                "service": service,
                "result": Result.RUNNING,
                "wave": wave,
                "started_at": now,
                "commit": version.commit,
                "service_commit": version.service_commit,
                "service_commit_at": version.service_commit_at,
                "source": self.source,
                "actor": self.actor,
            }
            for service, wave, version in services
        ]
        return self.desk.write(lambda c: [store.insert_attempt(c, row) for row in rows])

    def note_process(self, attempt_id: int, pgid: int, process: str) -> None:
        values = {"pgid": pgid, "process": process}
        self.desk.write(lambda c: store.update_attempt(c, attempt_id, values))

    def finish(self, attempt_id: int, outcome: Outcome, *, at: datetime | None = None) -> Finished:
        """Record how the attempt ended; a failure goes into its class's issue, a success
        clears the service from the issues it was on. One transaction."""
        now = at or self.desk.clock()
        with self.desk.transaction():
            current = self.desk.read(lambda c: store.get_attempt(c, attempt_id))
            failure = None
            if outcome.result.is_failure:
                failure = self.classifiers.classify(
                    Evidence(
                        service=current.service,
                        result=outcome.result,
                        exit_code=outcome.exit_code,
                        output=tail(outcome.output),
                        logs=tail(outcome.logs),
                        reason=outcome.reason,
                        probe_reason=outcome.probe_reason,
                        killed_by_deploy=outcome.killed_by_deploy,
                        unhealthy_dependencies=outcome.unhealthy_dependencies,
                        hosts=outcome.hosts,
                    )
                )
            values = {
                "result": outcome.result,
                "finished_at": now,
                "duration": max((now - current.started_at).total_seconds(), 0.0),
                "exit_code": outcome.exit_code,
                "reason": (failure.summary if failure else outcome.reason)[:2000],
                "failure": failure.name if failure else None,
                "excerpt": failure.excerpt if failure else "",
                "output": tail(outcome.output),
                "logs": tail(outcome.logs) if outcome.logs != outcome.output else "",
            }
            changes = self._issues(current, outcome.result, failure)
            opened = next((c.issue.number for c in changes if failure is not None), None)
            if opened is not None:
                values["issue"] = opened
            self.desk.write(lambda c: store.update_attempt(c, attempt_id, values))
            attempt = self.desk.read(lambda c: store.get_attempt(c, attempt_id))
        return Finished(attempt, failure, changes)

    def skip(
        self, run: Run | None, service: str, *, wave: int | None, version: Version, reason: str
    ) -> Attempt:
        now = self.desk.clock()
        values = {
            "run": run.id if run else None,
            "service": service,
            "result": Result.SKIPPED,
            "wave": wave,
            "started_at": now,
            "finished_at": now,
            "duration": 0.0,
            "reason": reason,
            "commit": version.commit,
            "service_commit": version.service_commit,
            "service_commit_at": version.service_commit_at,
            "source": self.source,
            "actor": self.actor,
        }

        def work(c: Connection) -> Attempt:
            attempt_id = store.insert_attempt(c, values)
            return store.get_attempt(c, attempt_id)

        return self.desk.write(work)

    def _issues(
        self, attempt: Attempt, result: Result, failure: Failure | None
    ) -> list[IssueChange]:
        stamp = stamp_for(attempt.run, attempt.commit, attempt.id)
        if failure is not None:
            return [
                record_failure(
                    self.desk,
                    service=attempt.service,
                    failure=failure,
                    stamp=stamp,
                    actor=self.actor,
                    classifiers=self.classifiers,
                )
            ]
        if result is Result.SUCCEEDED:
            return clear_service(self.desk, service=attempt.service, stamp=stamp, actor=self.actor)
        return []

    # --- deployments a CI system ran -------------------------------------------------------

    def record_external(self, report: ExternalReport) -> list[Finished]:
        """Record what a CI system reports about one deployment, per service it names.

        The CI's deployment id keys the attempt, so a later status of the same deployment
        (`in_progress`, then `success`) updates it; a repeated final status changes nothing.
        One transaction for the whole report.
        """
        out: list[Finished] = []
        with self.desk.transaction():
            for service in report.services:
                out.append(self._external(report, service))
        return out

    def _external(self, report: ExternalReport, service: str) -> Finished:
        from passmuster.core.catalog import check_service_name

        check_service_name(service)
        existing = self.desk.read(
            lambda c: store.find_external(c, self.source, report.external_id, service)
        )
        if existing is not None and existing.result.is_finished:
            return Finished(existing)  # already final: the same news twice changes nothing
        if existing is None:
            values = {
                "run": None,
                "service": service,
                "result": Result.RUNNING,
                "started_at": report.started_at or self.desk.clock(),
                "commit": report.commit,
                "service_commit": report.service_commit or report.commit,
                "service_commit_at": report.commit_at,
                "source": self.source,
                "environment": report.environment[:128],
                "external_id": report.external_id,
                "url": report.url,
                "actor": self.actor,
            }
            attempt_id = self.desk.write(lambda c: store.insert_attempt(c, values))
        else:
            attempt_id = existing.id
            if report.url:
                url = report.url
                self.desk.write(lambda c: store.update_attempt(c, attempt_id, {"url": url}))
        if report.result is Result.RUNNING:
            return Finished(self.desk.read(lambda c: store.get_attempt(c, attempt_id)))
        return self.finish(
            attempt_id,
            Outcome(
                report.result,
                exit_code=report.exit_code,
                reason=report.description,
                output=report.output,
                logs=report.logs,
            ),
            at=report.finished_at,
        )

    def busy(self, services: Sequence[str]) -> list[tuple[Run, list[str]]]:
        """Runs still in progress that deploy some of `services` (call after `sweep`, so only
        live ones are left), with the services they share."""
        wanted = set(services)
        found = []
        for run in self.desk.read(store.running_runs):
            shared = sorted(wanted & set(run.services))
            if shared:
                found.append((run, shared))
        return found

    # --- dead runs ------------------------------------------------------------------------

    def sweep(self, alive: Callable[[str | None], bool | None]) -> Swept:
        """Mark the runs whose process is gone as interrupted, with their unfinished attempts.

        `alive(owner)` says whether the process that owns a run still runs: True, False, or
        None when it cannot tell (another machine); then the run's lease decides.
        """
        now = self.desk.clock()

        def work(c: Connection) -> Swept:
            swept = Swept()
            for run in store.running_runs(c):
                verdict = alive(run.owner)
                if verdict is True:
                    continue
                if verdict is None and run.id not in {r.id for r in store.stale_leases(c, now)}:
                    continue
                swept.runs.append(run)
            ids = [run.id for run in swept.runs]
            swept.processes = [
                (pgid, process) for _, pgid, process in store.unfinished_processes(c, ids)
            ]
            swept.attempts = store.interrupt_runs(
                c,
                ids,
                now,
                "the deploy that ran it stopped before it finished (killed, or the machine "
                "went down)",
            )
            return swept

        return self.desk.write(work)


# --- queries --------------------------------------------------------------------------------


def history(
    desk: Desk,
    *,
    services: Sequence[str] = (),
    run: int | None = None,
    results: Sequence[Result] = (),
    before: int | None = None,
    limit: int = 50,
) -> list[Attempt]:
    return desk.read(
        lambda c: store.list_attempts(
            c, services=services, run=run, results=results, before=before, limit=limit
        )
    )


def attempt(desk: Desk, attempt_id: int) -> Attempt:
    return desk.read(lambda c: store.get_attempt(c, attempt_id))


def runs(desk: Desk, *, limit: int = 20) -> list[Run]:
    return desk.read(lambda c: store.list_runs(c, limit=limit))


def recent_by_service(desk: Desk, per_service: int = 10) -> dict[str, list[Attempt]]:
    return desk.read(lambda c: store.recent_by_service(c, per_service))


def open_deployment_issues(desk: Desk) -> list[Issue]:
    return desk.issues(IssueQuery(source=DEPLOY_SOURCE, active_only=True))


def failure_window(desk: Desk) -> timedelta:
    """`[deploy] failure_window` of the desk's project (found as the SLA policy is)."""
    from passmuster.core.deploy.config import DeployConfig
    from passmuster.settings import find_config
    from passmuster.storage.engine import sqlite_path

    path = sqlite_path(desk.url)
    start = path.parent.parent if path is not None else None
    return find_config(start).section("deploy", DeployConfig).failure_window


def delivery(
    desk: Desk,
    *,
    window: timedelta | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Delivery:
    """DORA's four keys over the recorded deployments (see core.delivery); the failure window
    is the project's `[deploy] failure_window` unless given."""
    chosen = window if window is not None else failure_window(desk)

    def work(c: Connection) -> Delivery:
        finished = store.finished_attempts(c, since=since, until=until)
        deployments = [
            Deployment(
                a.id,
                a.service,
                a.finished_at,
                a.result is Result.SUCCEEDED,
                a.service_commit,
                a.service_commit_at,
            )
            for a in finished
            if a.finished_at is not None
        ]
        # A trouble counts only against an earlier deployment of one of its services: the
        # incidents of services never deployed here (all of them, on a desk that records no
        # deployments) need not be read. `stats` read 22,000 incidents of a 100k desk for none.
        deployed = sorted({d.service for d in deployments})
        query = IssueQuery(types=[IssueType.INCIDENT, IssueType.DEPLOYMENT], services=deployed)
        troubles = [
            Trouble(i.number, tuple(i.services), reported, i.resolved_at)
            for i in (desk.issues(query) if deployed else [])
            if i.source != DEPLOY_SOURCE
            and i.services
            and (reported := i.reported_at or i.created_at) is not None
        ]
        return delivery_keys(
            deployments, troubles, window=chosen, now=desk.clock(), since=since, until=until
        )

    return desk.read(work)
