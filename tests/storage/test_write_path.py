"""Every write to a desk goes one way: `storage.engine.write_transaction`, which takes SQLite's
write lock up front (BEGIN IMMEDIATE), queues this process's writers, and joins a transaction
the thread is already in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from passmuster.core.issues import IssueDraft
from passmuster.storage.auth_tables import api_tokens
from passmuster.storage.engine import read_transaction, write_transaction
from passmuster.usecases.desk import Desk
from passmuster.usecases.sessions import SessionStore
from passmuster.usecases.tokens import TokenStore


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with Desk.init(tmp_path) as opened:
        yield opened


def _begins(desk: Desk) -> list[str]:
    """The BEGIN statements the desk's engine sends from now on."""
    seen: list[str] = []

    @event.listens_for(desk.engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.upper().startswith("BEGIN"):
            seen.append(statement.upper())

    return seen


def test_token_and_session_writes_take_the_write_lock_up_front(desk: Desk) -> None:
    tokens = TokenStore(desk.engine)
    sessions = SessionStore(desk.engine, tokens)
    begins = _begins(desk)
    info, _secret = tokens.create("ci", "reporter", created_by="alice")
    secret = sessions.start(info)
    sessions.end(secret)
    tokens.revoke("ci")
    writes = [b for b in begins if b == "BEGIN IMMEDIATE"]
    assert len(writes) == 4


def test_a_store_write_inside_a_desk_transaction_rolls_back_with_it(desk: Desk) -> None:
    tokens = TokenStore(desk.engine)
    with pytest.raises(RuntimeError), desk.transaction():
        desk.file(IssueDraft(title="filed, then undone"), actor="alice")
        tokens.create("undone", "reader", created_by="alice")
        raise RuntimeError("the block fails after both writes")
    assert desk.count() == 0
    with read_transaction(desk.engine) as connection:
        assert connection.execute(select(api_tokens.c.name)).all() == []


def test_nested_write_transactions_share_one_connection(desk: Desk) -> None:
    with write_transaction(desk.engine) as outer, write_transaction(desk.engine) as inner:
        assert inner is outer
        with read_transaction(desk.engine) as reading:
            assert reading is outer


def test_writers_in_many_threads_queue_instead_of_failing(desk: Desk) -> None:
    errors: list[BaseException] = []

    def file_some(worker: int) -> None:
        try:
            for n in range(20):
                desk.file(IssueDraft(title=f"worker {worker} issue {n}"), actor="bot")
        except BaseException as exc:  # collected: a failure in a thread must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=file_some, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(issue.number for issue in desk.issues())
    assert numbers == list(range(1, 161))
