"""Keep the tracker in step with the scanner.

One issue per finding fingerprint (source "scan", type finding, the rule's docs as description,
the services linked, the label `rule:CODE`), opened with a `detected` event naming the scan. Each
scan that sees the finding counts one more occurrence (a count with the first and the last scan
to see it, no event: the timeline keeps what changed); a finding that disappears resolves its
issue, naming the scan and the git commit; a finding that comes back reopens its issue as a
regression, naming the commit where it had been fixed. A resolved issue — imported or closed by
hand — labelled `rule:CODE` while that rule still fires gets the label `still-detected`
("claimed resolved, still detected"), which `list`, `show` and the web can show; the label goes
away when the rule stops firing.

The git commit is read from `.git` files (scanner/git.py); no program is run. A scan right after
`scan --fix` sees fixes no commit holds yet, so its stamp says so ("on uncommitted changes over
commit …") instead of crediting HEAD, which still has the defect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from passmuster.core.findings import STILL_DETECTED, Finding, Occurrences
from passmuster.core.issues import (
    Issue,
    IssueDraft,
    IssueQuery,
    IssueType,
    Status,
)
from passmuster.core.limits import STORED
from passmuster.errors import NotFound
from passmuster.scanner.engine import ScanResult
from passmuster.scanner.registry import Registry
from passmuster.usecases.desk import Desk
from passmuster.usecases.recurrence import reopen_as_regression
from passmuster.usecases.runtime_errors import link_findings

SOURCE = "scan"
FIXED_IN = "fixed_in"  # the field of the `changed` event that records the fixing commit
_RULE_LABEL = "rule:"


@dataclass(slots=True)
class Reconciled:
    scan_id: str
    commit: str | None
    uncommitted: bool = False
    opened: list[Issue] = field(default_factory=list)
    seen: list[Issue] = field(default_factory=list)
    resolved: list[Issue] = field(default_factory=list)
    reopened: list[Issue] = field(default_factory=list)
    claimed: list[tuple[Issue, list[Finding]]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What the scan report shows about the tracker."""
        text = [
            f"Tracker: {len(self.opened)} opened, {len(self.seen)} still open, "
            f"{len(self.resolved)} resolved, {len(self.reopened)} reopened as regressions "
            f"({_stamp(self.scan_id, self.commit, self.uncommitted)})."
        ]
        for issue, findings in self.claimed:
            first = findings[0]
            where = f"{first.path}:{first.line}" if first.line else first.path
            text.append(
                f"{issue.ref} claimed resolved, still detected: {first.code} at {where}"
                + (f" (+{len(findings) - 1} more)" if len(findings) > 1 else "")
            )
        return text


def rule_codes(issue: Issue) -> list[str]:
    """The rule codes an issue is linked to (labels `rule:CODE`)."""
    return [label[len(_RULE_LABEL) :] for label in issue.labels if label.startswith(_RULE_LABEL)]


def new_scan_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return "scan-" + moment.strftime("%Y%m%dT%H%M%SZ")


def reconcile(
    desk: Desk,
    result: ScanResult,
    registry: Registry,
    *,
    actor: str = "passmuster-scan",
    scan_id: str | None = None,
    commit: str | None = None,
    uncommitted: bool = False,
) -> Reconciled:
    """Record one scan's findings in the tracker (see the module docstring).

    `uncommitted`: the scanned files differ from `commit` (fixes just applied).
    All in one transaction: a scan is recorded whole or not at all.
    """
    with desk.transaction():
        return _reconcile(desk, result, registry, actor, scan_id, commit, uncommitted)


def _reconcile(
    desk: Desk,
    result: ScanResult,
    registry: Registry,
    actor: str,
    scan_id: str | None,
    commit: str | None,
    uncommitted: bool,
) -> Reconciled:
    scan_id = scan_id or new_scan_id()
    outcome = Reconciled(scan_id, commit, uncommitted)
    stamp = _stamp(scan_id, commit, uncommitted)
    ran = {rule.code for rule in result.rules}
    quiet = {f.fingerprint for f in (*result.suppressed, *result.baselined)}
    by_fingerprint: dict[str, Finding] = {}
    for finding in result.findings:
        by_fingerprint.setdefault(finding.fingerprint, finding)
    # One query for every scan-born issue, not one per finding; as they were before this scan.
    before = desk.issues(IssueQuery(source=SOURCE))
    known = {i.fingerprint: i for i in before if i.fingerprint}
    fresh = [f for fp, f in by_fingerprint.items() if fp not in known]
    # Made from the repository, not typed: a deep path is no mistake (core.limits). Filing
    # creates the services the findings name that the catalog lacks.
    rules: dict[str, tuple[str, str]] = {}  # a rule's docs are built once per scan, not per finding
    drafts = [
        _draft(finding, _rule_docs(registry, finding.code, rules), scan_id) for finding in fresh
    ]
    outcome.opened = desk.file_many(drafts, actor=actor, limits=STORED)
    # The opening names the scan (and commit) that first saw the finding.
    desk.record_events(
        [{"issue": issue.number, "kind": "detected", "new": stamp} for issue in outcome.opened],
        actor=actor,
    )
    # A runtime error already on the desk about the same cause gets linked to it.
    link_findings(desk, outcome.opened)
    seen = [issue.number for issue in outcome.opened]
    for fingerprint in by_fingerprint:
        issue = known.get(fingerprint)
        if issue is None:
            continue
        seen.append(issue.number)
        if issue.status.is_active:
            outcome.seen.append(issue)
        elif issue.close_reason is None and (fixed_in := _fixed_in(desk, issue)) is not None:
            reopened = reopen_as_regression(
                desk,
                issue.number,
                actor=actor,
                fixed_in=fixed_in,
                seen_in=stamp,
                seen_by=f"detected again by {stamp}",
            )
            outcome.reopened.append(reopened)
    # Seeing a finding again is no event: it counts (with the first and last scan to see it).
    desk.record_occurrences(seen, seen_in=stamp)
    # Findings no longer reported resolve their issues (only for rules that ran this time).
    for issue in before:
        if not issue.status.is_active:
            continue
        if issue.fingerprint in by_fingerprint or issue.fingerprint in quiet:
            continue
        codes = rule_codes(issue)
        if codes and not any(code in ran for code in codes):
            continue
        resolved = desk.transition(
            issue.number,
            Status.RESOLVED,
            actor=actor,
            fields={"resolution": f"No longer detected by {stamp}."},
        )
        desk.record_event(issue.number, "changed", actor=actor, field=FIXED_IN, new=stamp)
        outcome.resolved.append(resolved)
    _flag_claimed(desk, result, outcome, actor)
    return outcome


def _flag_claimed(desk: Desk, result: ScanResult, outcome: Reconciled, actor: str) -> None:
    firing: dict[str, list[Finding]] = {}
    for finding in result.findings:
        firing.setdefault(finding.code, []).append(finding)
    ran = {rule.code for rule in result.rules}
    # Only resolved issues claim a fix; a closed one (won't fix, duplicate, invalid) makes no
    # such claim.
    # Only those linked to a rule: a desk's other resolved issues (tens of thousands after
    # years) were all read, whole, at every scan.
    for issue in desk.issues(IssueQuery(statuses=[Status.RESOLVED], label_prefix=_RULE_LABEL)):
        codes = rule_codes(issue)
        if not codes:
            continue
        hits = [
            f
            for code in codes
            for f in firing.get(code, ())
            if not issue.services or f.service is None or f.service in issue.services
        ]
        flagged = STILL_DETECTED in issue.labels
        if hits:
            outcome.claimed.append((issue, hits))
            if not flagged:
                desk.update(issue.number, {"labels": [*issue.labels, STILL_DETECTED]}, actor=actor)
        elif flagged and all(code in ran for code in codes):
            labels = [label for label in issue.labels if label != STILL_DETECTED]
            desk.update(issue.number, {"labels": labels}, actor=actor)


def _rule_docs(registry: Registry, code: str, known: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """The rule's (docs, name), remembered in `known`."""
    if code not in known:
        try:
            rule = registry.get(code)
            known[code] = (rule.docs(), rule.name)
        except NotFound:
            known[code] = ("", code)
    return known[code]


def _draft(finding: Finding, rule: tuple[str, str], scan_id: str) -> IssueDraft:
    services = [s for s in [finding.service, *(r.service for r in finding.related)] if s]
    docs, name = rule
    where = f"{finding.path}:{finding.line}" if finding.line else finding.path
    description = f"{finding.message}\n\nAt `{where}` (first detected by {scan_id}).\n\n{docs}"
    title = f"{finding.code} {finding.message}"
    if len(title) > 200:
        title = title[:197] + "..."
    return IssueDraft(
        title=title,
        type=IssueType.FINDING,
        severity=finding.severity,
        services=list(dict.fromkeys(services)),
        component=finding.path,
        reporter="passmuster scan",
        description=description,
        labels=[f"{_RULE_LABEL}{finding.code}", name],
        source=SOURCE,
        fingerprint=finding.fingerprint,
        original_id=finding.fingerprint,
    )


def _stamp(scan_id: str, commit: str | None, uncommitted: bool = False) -> str:
    if commit is None:
        return f"{scan_id} on uncommitted changes" if uncommitted else scan_id
    if uncommitted:
        return f"{scan_id} on uncommitted changes over commit {commit[:12]}"
    return f"{scan_id} at commit {commit[:12]}"


def _fixed_in(desk: Desk, issue: Issue) -> str | None:
    events = desk.events(issue=issue.number, kinds=["changed"], limit=1000)
    fixed = [e.new for e in events if e.field == FIXED_IN and e.new]
    return fixed[-1] if fixed else None


def occurrences(desk: Desk, number: int) -> Occurrences | None:
    """How often scans have seen the finding behind issue `number` (None: never)."""
    return desk.occurrences([number]).get(number)
