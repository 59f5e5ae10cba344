"""Full-text search details: stemming, hostile input, and broad matches (both databases)."""

from __future__ import annotations

import pytest

from passmuster.core.issues import IssueDraft, IssueQuery, Status
from passmuster.storage import search
from passmuster.usecases.desk import Desk


def test_search_stems_words(desk: Desk) -> None:
    desk.file(IssueDraft(title="Connection failures after deploy"), actor="a")
    assert [i.number for i in desk.search("connection failure")] == [1]


@pytest.mark.parametrize(
    "text", ['"', "AND OR NOT", "title:x", "a & b | !c", "*", "NEAR(a b)", "'; --", "(", "\\"]
)
def test_query_syntax_in_user_text_is_just_words(desk: Desk, text: str) -> None:
    desk.file(IssueDraft(title="and or not near title"), actor="a")
    desk.search(text)  # must not raise
    desk.issues(IssueQuery(text=text))


def test_title_matches_rank_above_body_matches(desk: Desk) -> None:
    desk.file(IssueDraft(title="Queue stalls", description="the redis worker waits"), actor="a")
    desk.file(IssueDraft(title="Redis eviction", description="keys vanish"), actor="a")
    assert [i.number for i in desk.search("redis")] == [2, 1]


def test_past_the_ranking_limit_the_newest_matches_come_first(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(6):
        desk.file(IssueDraft(title=f"timeout {n}", description="timeout " * n), actor="a")
    monkeypatch.setattr(search, "RANK_AT_MOST", 3)
    assert [i.number for i in desk.search("timeout", limit=4)] == [6, 5, 4, 3]


def test_known_fixes_only_offer_resolved_issues_with_a_resolution(desk: Desk) -> None:
    desk.file(IssueDraft(title="Redis connection refused"), actor="a")
    desk.file(IssueDraft(title="Redis connection refused again"), actor="a")
    desk.transition(2, Status.RESOLVED, actor="a")  # resolved, but nobody wrote how
    desk.file(IssueDraft(title="Redis connection refused once more"), actor="a")
    desk.transition(3, Status.RESOLVED, actor="a", fields={"resolution": "Fixed REDIS_URL"})
    fixes = desk.known_fixes(IssueDraft(title="redis refused the connection"))
    assert [i.number for i in fixes] == [3]


def test_one_shared_word_is_no_known_fix(desk: Desk) -> None:
    desk.file(IssueDraft(title="Billing service crashes on refund"), actor="a")
    desk.transition(1, Status.RESOLVED, actor="a", fields={"resolution": "Guard the refund path"})
    desk.file(IssueDraft(title="HTTPStatus import crashes identity"), actor="a")
    desk.transition(2, Status.RESOLVED, actor="a", fields={"resolution": "from http import"})
    fixes = desk.known_fixes(IssueDraft(title="Gateway crashes at HTTPStatus import"))
    assert [i.number for i in fixes] == [2]
