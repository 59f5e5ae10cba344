"""Deployment failures into tracker issues: one issue per failure class, as hand-kept
deployment logs keep them ("HTTPStatus import issues: 15+ services").

A failed attempt's class (its classifier) names the issue: fingerprint `deploy:<class>`, type
deployment, source `deploy`. The issue lists every service the class hit (`services`), one task
per service, and per service the excerpt that shows the failure (`error_details`, one block
each, replaced when the service fails again). It is linked caused-by the scanner finding that
predicted it (an active scan issue of one of the classifier's rules on that service, about the
same thing when the failure names it: the port, the module, the variable), and when filed it
lists the known fixes: the classifier's own advice and resolved issues that look like it.

A later successful deploy of a service clears it: the service leaves `services`, its task is
ticked. When no service is left the issue is resolved, naming the deploy and the commit. A
failure of a class whose issue was resolved reopens it, as a regression.

The machinery is the desk's: `find`/`list` by fingerprint to deduplicate, `known_fixes`,
`transition` to resolve and reopen, `link` to the finding; nothing here writes tables itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from passmuster.core.deploy.attempts import short
from passmuster.core.deploy.classifiers import builtin_modules
from passmuster.core.deploy.classify import Classifiers, Failure
from passmuster.core.issues import (
    Issue,
    IssueDraft,
    IssueQuery,
    IssueType,
    LinkKind,
    Status,
    Task,
)
from passmuster.core.limits import STORED
from passmuster.core.plugins import entry_point_modules
from passmuster.errors import NotFound
from passmuster.usecases.desk import Desk

SOURCE = "deploy"
LABEL = "deploy"
ENTRY_POINT_GROUP = "passmuster.deploy_classifiers"


def fingerprint(failure_class: str) -> str:
    return f"deploy:{failure_class}"


def build_classifiers(*, plugins: bool = True) -> Classifiers:
    """The catalogue: the built-in classifiers, then those of installed plugins."""
    catalogue = Classifiers()
    for builtin in builtin_modules():
        catalogue.register_module(builtin)
    if plugins:
        for module in entry_point_modules(ENTRY_POINT_GROUP):
            catalogue.register_module(module)
    return catalogue


@cache
def default_classifiers() -> Classifiers:
    return build_classifiers()


@dataclass(slots=True)
class IssueChange:
    """What a deploy did to one deployment issue."""

    action: str  # opened, added, updated, reopened, cleared, resolved
    issue: Issue
    service: str
    known_fixes: list[Issue] = field(default_factory=list)
    findings: list[int] = field(default_factory=list)  # scan issues linked as the cause


def _block_head(service: str) -> str:
    return f"[{service}] "


def _task_head(service: str) -> str:
    return f"{service}: "


def _newest(desk: Desk, failure_class: str) -> Issue | None:
    mark = fingerprint(failure_class)
    found = [i for i in desk.issues(IssueQuery(source=SOURCE)) if i.fingerprint == mark]
    return found[-1] if found else None


def record_failure(
    desk: Desk,
    *,
    service: str,
    failure: Failure,
    stamp: str,
    actor: str,
    classifiers: Classifiers | None = None,
) -> IssueChange:
    """File or update the issue of `failure`'s class for `service`; call inside a transaction.

    `stamp` says which deploy saw it (`deploy run 12 at commit 0123abcd`).
    """
    catalogue = classifiers or default_classifiers()
    block = f"{_block_head(service)}{failure.summary} ({stamp})\n{failure.excerpt}".rstrip()
    task = Task(f"{_task_head(service)}{failure.summary}"[:2000])
    current = _newest(desk, failure.name)
    if current is None or current.status is Status.CLOSED:
        draft = _draft(failure, service, block, task, catalogue)
        fixes = desk.known_fixes(draft)
        if fixes:
            draft.description += "\n\n## Known fixes from the desk\n\n" + "\n".join(
                f"- {fix.ref} {fix.title}: {fix.resolution.strip().splitlines()[0]}"
                for fix in fixes
                if fix.resolution.strip()
            )
        issue = desk.file(draft, actor=actor, limits=STORED)
        desk.record_event(issue.number, "detected", actor=actor, field=service, new=stamp)
        findings = _link_findings(desk, issue, service, failure, actor)
        return IssueChange("opened", desk.get(issue.number), service, fixes, findings)
    action = "updated" if service in current.services else "added"
    if not current.status.is_active:
        desk.transition(current.number, Status.OPEN, actor=actor)
        desk.record_event(
            current.number, "regressed", actor=actor, old=current.resolution[:200], new=stamp
        )
        current = desk.get(current.number)
        action = "reopened"
        # A reopened class starts a new list: the services it hit before were all cleared.
        blocks: list[str] = []
        tasks: list[Task] = []
        services: list[str] = []
    else:
        blocks = [b for b in current.error_details if not b.startswith(_block_head(service))]
        tasks = [t for t in current.tasks if not t.text.startswith(_task_head(service))]
        services = [s for s in current.services if s != service]
    desk.update(
        current.number,
        {
            "services": [*services, service],
            "error_details": [*blocks, block],
            "tasks": [*tasks, task],
        },
        actor=actor,
        limits=STORED,
    )
    desk.record_event(current.number, "detected", actor=actor, field=service, new=stamp)
    findings = _link_findings(desk, current, service, failure, actor)
    return IssueChange(action, desk.get(current.number), service, [], findings)


def clear_service(desk: Desk, *, service: str, stamp: str, actor: str) -> list[IssueChange]:
    """`service` deployed fine: take it off every active deployment issue; resolve those left
    with no service. Call inside a transaction."""
    from passmuster.usecases.reconcile import FIXED_IN  # with the scanner: see below

    changes: list[IssueChange] = []
    active = desk.issues(IssueQuery(source=SOURCE, active_only=True, services=[service]))
    for issue in active:
        if service not in issue.services:
            continue
        services = [s for s in issue.services if s != service]
        tasks = [
            Task(t.text, True) if t.text.startswith(_task_head(service)) else t for t in issue.tasks
        ]
        desk.update(issue.number, {"services": services, "tasks": tasks}, actor=actor)
        desk.comment(issue.number, f"{service} deployed successfully: {stamp}.", actor=actor)
        if services:
            changes.append(IssueChange("cleared", desk.get(issue.number), service))
            continue
        resolved = desk.transition(
            issue.number,
            Status.RESOLVED,
            actor=actor,
            fields={
                "resolution": (
                    f"Every service this hit deploys again; the last one, {service}, by {stamp}."
                )
            },
        )

        desk.record_event(issue.number, "changed", actor=actor, field=FIXED_IN, new=stamp)
        changes.append(IssueChange("resolved", resolved, service))
    return changes


def stamp_for(run: int | None, commit: str | None, attempt: int) -> str:
    where = f"deploy run {run}" if run is not None else f"deployment {attempt}"
    return f"{where} at commit {short(commit)}" if commit else where


def _draft(
    failure: Failure, service: str, block: str, task: Task, catalogue: Classifiers
) -> IssueDraft:
    try:
        classifier = catalogue.get(failure.name)
        advice = [
            f"## {heading}\n\n{classifier.section(heading)}"
            for heading in ("What it catches", "Why it happens", "How to fix it")
            if classifier.section(heading)
        ]
    except NotFound:
        advice = []
    predicted = (
        "The scanner predicts this class with "
        + ", ".join(f"`{code}`" for code in failure.predicted_by)
        + " (`passmuster rule CODE`)."
        if failure.predicted_by
        else ""
    )
    description = "\n\n".join(
        part
        for part in (
            "Deployments of the services listed failed with this class of failure. A later "
            "successful deploy of a service takes it off this issue; the issue resolves itself "
            "when none is left.",
            *advice,
            predicted,
        )
        if part
    )
    return IssueDraft(
        title=failure.title,
        type=IssueType.DEPLOYMENT,
        severity=failure.severity,
        services=[service],
        component=None,
        reporter="passmuster deploy",
        description=description,
        error_details=[block],
        tasks=[task],
        labels=[LABEL, f"deploy:{failure.name}"],
        source=SOURCE,
        fingerprint=fingerprint(failure.name),
        original_id=fingerprint(failure.name),
    )


def _link_findings(
    desk: Desk, issue: Issue, service: str, failure: Failure, actor: str
) -> list[int]:
    linked: list[int] = []
    for finding in predicting_findings(desk, service, failure):
        desk.link(issue.number, LinkKind.CAUSED_BY, finding.number, actor=actor)
        linked.append(finding.number)
    return linked


def predicting_findings(desk: Desk, service: str, failure: Failure) -> list[Issue]:
    """Active scan issues on `service` of a rule predicting this class, about the same thing
    when the failure names one (the port, the module or name, the variable)."""
    if not failure.predicted_by:
        return []
    # Imported here: the scanner's reconciliation pulls in the scanner, which a deploy that
    # files nothing, and `stats` reading the delivery keys, do not need.
    from passmuster.usecases.reconcile import SOURCE as SCAN_SOURCE
    from passmuster.usecases.reconcile import rule_codes

    rules = set(failure.predicted_by)
    found = [
        i
        for i in desk.issues(IssueQuery(source=SCAN_SOURCE, active_only=True, services=[service]))
        if rules & set(rule_codes(i))
    ]
    if failure.subject:
        return [i for i in found if _mentions(i, failure.subject)]
    return found


def _mentions(issue: Issue, subject: str) -> bool:
    import re

    pattern = re.compile(rf"(?<![\w]){re.escape(subject)}(?![\w])")
    return any(pattern.search(text) for text in _texts(issue))


def _texts(issue: Issue) -> Iterable[str]:
    yield issue.title
    yield issue.description.split("\n\n", 1)[0]
