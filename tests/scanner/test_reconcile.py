"""Findings into the tracker: open, count, auto-resolve, reopen as regression, claimed resolved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from passmuster.core.findings import Finding
from passmuster.core.issues import IssueDraft, IssueType, Status
from passmuster.scanner import meta
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.context import Platform
from passmuster.scanner.engine import scan
from passmuster.scanner.git import git_commit
from passmuster.scanner.registry import Registry
from passmuster.scanner.rule import Rule
from passmuster.usecases.desk import Desk
from passmuster.usecases.reconcile import (
    STILL_DETECTED,
    Reconciled,
    occurrences,
    reconcile,
)
from tests.scanner.helpers import WriteTree


class RedisNeeded(Rule):
    """## What it does
    Test rule: flags a service whose environment has REDIS_URL.

    ## Why is this bad?
    It exercises the tracker integration.

    ## Example
    `REDIS_URL: redis://redis:6379/0`
    """

    code = "TST010"
    name = "redis-needed"

    def check(self, platform: Platform) -> Iterator[Finding]:
        for service in platform.services:
            var = service.env.get("REDIS_URL")
            if var is not None:
                yield self.finding(
                    "uses redis", var.path, var.line, service=service.name, key="REDIS_URL"
                )


WITH = "services:\n  api:\n    image: api\n    environment:\n      REDIS_URL: redis://r\n"
MOVED = "# moved down\n" + WITH
WITHOUT = "services:\n  api:\n    image: api\n"


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.register_module(meta)
    registry.register(RedisNeeded)
    return registry


def _commit(root: Path, sha: str) -> None:
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True, exist_ok=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text(sha + "\n")


def _scan(root: Path, text: str, desk: Desk, registry: Registry, sha: str, n: int) -> Reconciled:
    (root / "docker-compose.yml").write_text(text)
    _commit(root, sha)
    result = scan(root, ScanConfig(select=["TST010"]), registry=registry)
    return reconcile(desk, result, registry, scan_id=f"scan-{n}", commit=git_commit(root))


def test_a_finding_opens_one_issue_and_is_counted_per_scan(
    write_tree: WriteTree, desk: Desk, registry: Registry
) -> None:
    root = write_tree({"docker-compose.yml": WITH})
    first = _scan(root, WITH, desk, registry, "a" * 40, 1)
    (issue,) = first.opened
    assert issue.type is IssueType.FINDING
    assert issue.services == ["api"]
    assert "rule:TST010" in issue.labels
    assert "## Why is this bad?" in issue.description
    second = _scan(root, MOVED, desk, registry, "b" * 40, 2)
    assert second.opened == [] and [i.number for i in second.seen] == [issue.number]
    seen = occurrences(desk, issue.number)
    assert seen is not None and seen.count == 2


class SteppedClock:
    """A clock that moves one minute on every reading after `start`."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def clocked_desk(database_url: str) -> Iterator[tuple[Desk, SteppedClock]]:
    clock = SteppedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    desk = Desk.connect(database_url, clock=clock)
    yield desk, clock
    desk.close()


def test_n_scans_count_n_occurrences_with_first_and_last_seen_and_add_no_events(
    write_tree: WriteTree, clocked_desk: tuple[Desk, SteppedClock], registry: Registry
) -> None:
    desk, clock = clocked_desk
    root = write_tree({"docker-compose.yml": WITH})
    (issue,) = _scan(root, WITH, desk, registry, "a" * 40, 1).opened
    first = desk.occurrences([issue.number])[issue.number]
    events_after_opening = desk.events(issue=issue.number)
    for n in range(2, 8):
        outcome = _scan(root, MOVED if n % 2 else WITH, desk, registry, f"{n}" * 40, n)
        assert [i.number for i in outcome.seen] == [issue.number]
    last_scan_time = clock.now
    seen = desk.occurrences([issue.number])[issue.number]
    assert seen.count == 7
    assert (seen.first_seen_at, seen.first_seen_in) == (
        first.first_seen_at,
        f"scan-1 at commit {'a' * 12}",
    )
    assert first.first_seen_at < seen.last_seen_at <= last_scan_time
    assert seen.last_seen_in == f"scan-7 at commit {'7' * 12}"
    # Seven scans, and the timeline still holds only the opening: created, detected by scan 1.
    assert desk.events(issue=issue.number) == events_after_opening
    assert [(e.kind, e.new) for e in events_after_opening] == [
        ("created", "open"),
        ("detected", f"scan-1 at commit {'a' * 12}"),
    ]


def test_a_reopen_is_still_an_event_and_the_returning_scan_counts(
    write_tree: WriteTree, desk: Desk, registry: Registry
) -> None:
    root = write_tree({"docker-compose.yml": WITH})
    (issue,) = _scan(root, WITH, desk, registry, "a" * 40, 1).opened
    _scan(root, WITHOUT, desk, registry, "b" * 40, 2)
    _scan(root, WITH, desk, registry, "c" * 40, 3)
    after_reopening = desk.events(issue=issue.number)
    _scan(root, WITH, desk, registry, "d" * 40, 4)
    # Opened, resolved by scan 2, reopened by scan 3 (a `regressed` event); scan 4 only counts.
    assert desk.events(issue=issue.number) == after_reopening
    kinds = [e.kind for e in after_reopening]
    assert kinds.count("detected") == 1
    assert kinds.count("regressed") == 1
    assert [e.new for e in desk.events(issue=issue.number, kinds=["status"])] == [
        "resolved",
        "open",
    ]
    seen = desk.occurrences([issue.number])[issue.number]
    assert seen.count == 3  # scans 1, 3 and 4 saw it; scan 2 did not
    assert seen.last_seen_in == f"scan-4 at commit {'d' * 12}"


def test_an_issue_no_scan_has_seen_has_no_occurrences(desk: Desk) -> None:
    issue = desk.file(IssueDraft(title="typed by hand"), actor="alice")
    assert occurrences(desk, issue.number) is None
    assert desk.occurrences([issue.number]) == {}


def test_a_vanished_finding_resolves_and_a_returning_one_reopens_as_regression(
    write_tree: WriteTree, desk: Desk, registry: Registry
) -> None:
    root = write_tree({"docker-compose.yml": WITH})
    (issue,) = _scan(root, WITH, desk, registry, "a" * 40, 1).opened
    gone = _scan(root, WITHOUT, desk, registry, "c" * 40, 2)
    assert [i.number for i in gone.resolved] == [issue.number]
    resolved = desk.get(issue.number)
    assert resolved.status is Status.RESOLVED
    assert resolved.resolution == f"No longer detected by scan-2 at commit {'c' * 12}."
    back = _scan(root, WITH, desk, registry, "d" * 40, 3)
    assert [i.number for i in back.reopened] == [issue.number]
    assert desk.get(issue.number).status is Status.OPEN
    regressed = desk.events(issue=issue.number, kinds=["regressed"])
    assert [(e.old, e.new) for e in regressed] == [
        (f"scan-2 at commit {'c' * 12}", f"scan-3 at commit {'d' * 12}")
    ]


def test_a_hand_resolved_issue_linked_to_a_firing_rule_is_flagged(
    write_tree: WriteTree, desk: Desk, registry: Registry
) -> None:
    root = write_tree({"docker-compose.yml": WITH})
    claimed = desk.file(
        IssueDraft(title="api uses redis", services=["api"], labels=["rule:TST010"]),
        actor="alice",
    )
    desk.transition(claimed.number, Status.RESOLVED, actor="alice")
    outcome = _scan(root, WITH, desk, registry, "a" * 40, 1)
    assert [i.number for i, _ in outcome.claimed] == [claimed.number]
    assert any("claimed resolved, still detected" in line for line in outcome.lines())
    assert STILL_DETECTED in desk.get(claimed.number).labels
    _scan(root, WITHOUT, desk, registry, "b" * 40, 2)
    assert STILL_DETECTED not in desk.get(claimed.number).labels


def test_git_commit_is_read_from_files(tmp_path: Path) -> None:
    _commit(tmp_path, "1" * 40)
    (tmp_path / "sub").mkdir()
    assert git_commit(tmp_path / "sub") == "1" * 40  # found by walking up
    (tmp_path / ".git" / "refs" / "heads" / "main").unlink()
    (tmp_path / ".git" / "packed-refs").write_text(f"# pack\n{'2' * 40} refs/heads/main\n")
    assert git_commit(tmp_path) == "2" * 40
    (tmp_path / ".git" / "HEAD").write_text("3" * 40 + "\n")
    assert git_commit(tmp_path) == "3" * 40


def test_git_commit_follows_a_worktree_gitdir_file(tmp_path: Path) -> None:
    main_git = tmp_path / "main" / ".git"
    _commit(tmp_path / "main", "4" * 40)
    worktree_git = main_git / "worktrees" / "wt"
    worktree_git.mkdir(parents=True)
    (worktree_git / "HEAD").write_text("ref: refs/heads/main\n")
    (worktree_git / "commondir").write_text("../..\n")
    checkout = tmp_path / "wt"
    checkout.mkdir()
    (checkout / ".git").write_text(f"gitdir: {worktree_git}\n")
    assert git_commit(checkout) == "4" * 40


def test_a_scan_issue_resolved_by_hand_while_still_detected_is_flagged_not_reopened(
    write_tree: WriteTree, desk: Desk, registry: Registry
) -> None:
    root = write_tree({"docker-compose.yml": WITH})
    (issue,) = _scan(root, WITH, desk, registry, "a" * 40, 1).opened
    desk.transition(issue.number, Status.RESOLVED, actor="bob", fields={"resolution": "done"})
    again = _scan(root, WITH, desk, registry, "b" * 40, 2)
    assert again.reopened == []
    assert [i.number for i, _ in again.claimed] == [issue.number]
    assert desk.get(issue.number).status is Status.RESOLVED


def test_a_wont_fix_issue_is_left_alone(
    write_tree: WriteTree, desk: Desk, registry: Registry
) -> None:
    from passmuster.core.issues import CloseReason

    root = write_tree({"docker-compose.yml": WITH})
    (issue,) = _scan(root, WITH, desk, registry, "a" * 40, 1).opened
    desk.transition(issue.number, Status.CLOSED, actor="bob", reason=CloseReason.WONT_FIX)
    again = _scan(root, WITH, desk, registry, "b" * 40, 2)
    assert (again.reopened, again.claimed, again.opened) == ([], [], [])
    assert desk.get(issue.number).status is Status.CLOSED
