"""Many processes filing into one desk at once: every issue lands, numbers unique and gap-free."""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from typing import Any

from passmuster.core.issues import IssueDraft, Severity
from passmuster.usecases.desk import Desk

PROCESSES = 16
PER_PROCESS = 25


def _file_many(url: str, worker: int, count: int, barrier: Any, errors: Any) -> None:
    try:
        with Desk.open(url) as desk:
            barrier.wait(timeout=60)
            for n in range(count):
                desk.file(
                    IssueDraft(title=f"worker {worker} issue {n}", severity=Severity.HIGH),
                    actor=f"agent-{worker}",
                )
    except BaseException:
        errors.put(traceback.format_exc())
        raise


def _run_filers(url: str) -> list[str]:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PROCESSES)
    errors = context.Queue()
    workers = [
        context.Process(target=_file_many, args=(url, w, PER_PROCESS, barrier, errors))
        for w in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    problems += [f"worker exit code {p.exitcode}" for p in workers if p.exitcode != 0]
    return problems


def test_sixteen_processes_filing_at_once_get_unique_gap_free_numbers(database_url: str) -> None:
    Desk.connect(database_url).close()  # create and migrate once, as `passmuster init` does
    assert _run_filers(database_url) == []

    with Desk.open(database_url) as desk:
        numbers = sorted(i.number for i in desk.issues())
        total = PROCESSES * PER_PROCESS
        assert numbers == list(range(1, total + 1))
        assert len(desk.events(kinds=["created"], limit=total + 10)) == total
        per_actor: dict[str, int] = {}
        for issue in desk.issues():
            worker = issue.title.split()[1]
            per_actor[worker] = per_actor.get(worker, 0) + 1
        assert set(per_actor.values()) == {PER_PROCESS}


def test_threads_sharing_one_desk_claim_different_issues(desk: Desk) -> None:
    desk.file_many([IssueDraft(title=f"t{n}") for n in range(24)], actor="a")
    claimed: list[int] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def agent(name: str) -> None:
        try:
            while (got := desk.claim(actor=name)) is not None:
                with lock:
                    claimed.append(got.number)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=agent, args=(f"agent-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(claimed) == list(range(1, 25))
    assert all(i.assignee is not None for i in desk.issues())


def _claim_all(url: str, worker: int, barrier: Any, results: Any) -> None:
    got: list[int] = []
    with Desk.open(url) as desk:
        barrier.wait(timeout=60)
        while (issue := desk.claim(actor=f"agent-{worker}")) is not None:
            got.append(issue.number)
    results.put(got)


def test_processes_claiming_at_once_never_get_the_same_issue(database_url: str) -> None:
    with Desk.connect(database_url) as desk:
        desk.file_many([IssueDraft(title=f"t{n}") for n in range(40)], actor="a")
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(4)
    results = context.Queue()
    workers = [
        context.Process(target=_claim_all, args=(database_url, w, barrier, results))
        for w in range(4)
    ]
    for process in workers:
        process.start()
    claimed: list[int] = []
    for _ in workers:
        claimed += results.get(timeout=120)
    for process in workers:
        process.join(timeout=60)
    assert sorted(claimed) == list(range(1, 41))
