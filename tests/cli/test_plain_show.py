"""`show` lays its view out by hand when Rich would print its text as it is; the bytes must be
Rich's, piped or on a terminal, coloured or not, at any width, whatever the issue holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passmuster.cli import _layout, frequent
from passmuster.core.findings import Occurrences
from passmuster.core.issues import (
    CloseReason,
    Comment,
    Event,
    ExtraSection,
    FileChange,
    Issue,
    IssueType,
    Lease,
    Link,
    LinkKind,
    Priority,
    Severity,
    Status,
    Task,
)
from tests.cli.helpers import printed

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


# (stdout is a terminal, environment): piped, as agents and scripts read it, and on a terminal;
# every setting Rich reads to choose colour and width.
ENVIRONMENTS = [
    (False, {}),
    (False, {"COLUMNS": "100"}),
    (False, {"COLUMNS": "80"}),
    (False, {"COLUMNS": "60"}),
    (False, {"COLUMNS": "40"}),
    (False, {"COLUMNS": "24"}),
    (False, {"COLUMNS": "12"}),
    (False, {"COLUMNS": "200"}),
    (False, {"COLUMNS": ""}),
    (False, {"COLUMNS": "wide"}),
    (False, {"NO_COLOR": "1"}),
    (False, {"FORCE_COLOR": "1"}),
    (False, {"TTY_COMPATIBLE": "1"}),
    (True, {"COLUMNS": "100"}),
    (True, {"COLUMNS": "100", "NO_COLOR": "1"}),
]


def _issue(title: str, text: str, **fields: object) -> Issue:
    issue = Issue(
        title=title,
        number=12,
        type=IssueType.BUG,
        severity=Severity.HIGH,
        status=Status.IN_PROGRESS,
        services=["mobile-api", "api-gateway"],
        assignee="agent-7",
        labels=["bench", text[:20]] if text else ["bench"],
        description=text,
        created_at=NOW,
        updated_at=NOW + timedelta(minutes=5),
        version=3,
        lease=Lease(holder="agent-7", since=NOW, until=NOW + timedelta(minutes=30)),
    )
    for name, value in fields.items():
        setattr(issue, name, value)
    return issue


def _events(text: str) -> list[Event]:
    return [
        Event(1, 12, "bench", NOW, "created", new="open"),
        Event(2, 12, "bench", NOW, "acknowledged"),
        Event(3, 12, "agent-7", NOW, "assigned", new="agent-7"),
        Event(4, 12, "bench", NOW, "status", old="open", new="in_progress"),
        Event(5, 12, "bench", NOW, "changed", field="component", old="", new=text),
        Event(6, 12, text or "someone", NOW, "escalated", field="respond", new="breached"),
    ]


def _comments(text: str) -> list[Comment]:
    return [
        Comment(1, 12, "agent-7", "Looking at it now.", NOW),
        Comment(2, 12, text or "bench", text or "no text", NOW + timedelta(hours=1)),
    ]


def _views(title: str, text: str) -> list[Callable[[], None]]:
    seen = Occurrences(2, NOW, "scan 1 (abc123)", NOW + timedelta(days=1), f"scan 2 ({text})")
    full = _issue(
        title,
        text,
        priority=Priority.SHORT_TERM,
        component=text,
        reporter="bench",
        impact=text,
        root_cause="The health check was never written.",
        resolution=text,
        tasks=[Task("Write the endpoint", True), Task(text), Task("")],
        files_changed=[FileChange("src/health.py", text), FileChange(text or "README.md")],
        links=[Link(LinkKind.BLOCKS, 3), Link(LinkKind.RELATES_TO, 101)],
        extra_sections=[ExtraSection("Notes", text or "None."), ExtraSection(text, "Seen.")],
        original_values={"status": text or "open", "severity": "High"},
        original_id="ISSUE-12",
        source="scanner",
    )
    closed = _issue(title, text, status=Status.CLOSED, close_reason=CloseReason.WONT_FIX)
    errors = _issue(title, text, error_details=["Traceback (most recent call last):\n  boom"])
    bare = Issue(title=title, number=1)
    return [
        # As most issues are: the text in the title and the description.
        lambda: frequent.print_issue(_issue(title, text), _comments(""), _events("")),
        lambda: frequent.print_issue(full, _comments(text), _events(text), seen),
        lambda: frequent.print_issue(closed, _comments(text)[:1], []),
        lambda: frequent.print_issue(errors, [], _events(text)),
        lambda: frequent.print_issue(bare, [], []),
    ]


def _same_as_rich(monkeypatch: pytest.MonkeyPatch, title: str, text: str) -> None:
    for print_it in _views(title, text):
        for tty, env in ENVIRONMENTS:
            direct = printed(monkeypatch, print_it, tty=tty, env=env, through_rich=False)
            rich = printed(monkeypatch, print_it, tty=tty, env=env, through_rich=True)
            assert direct == rich, (tty, env)


TITLES = [
    "Missing health check endpoint in mobile-api (case 12)",
    "x",
    "Database driver conflict between asyncpg and psycopg2-binary in identity-service (case 12)"
    " seen again after the last deploy, twice",
    "fails to start: HTTPStatus imported from fastapi",
    "emoji codes :smile: and 10:30:45",
    "markup [bold]not bold[/] and \\[escaped] and a trailing backslash \\",
    "Several   spaces and  trailing spaces  ",
    "tab\there and control \x1b[31m characters",
    "Wide text: 日本語のテキスト and an emoji 👍",
    "averyveryverylongwordthatnoterminalcouldholdonitsownlineatallwithoutfoldingitsomewhere",
]
TEXTS = [
    "Seen after the last deploy; other services that call it time out.",
    "",
    "x",
    "A long description that has to wrap, and wrap again, " * 4 + "end",
    "Two\nlines, which Markdown lays out",
    "**bold** and `code`",
    "Several   spaces between words   and after a sentence",
    "averyveryverylongwordthatnoterminalcouldholdonitsownlineatallwithoutfoldingitsomewhere",
    "Wide text: 日本語",
    "a :smile: code",
]


@pytest.mark.parametrize(
    ("title", "text"), [*((t, TEXTS[0]) for t in TITLES), *((TITLES[0], t) for t in TEXTS[1:])]
)
def test_show_prints_the_bytes_rich_prints(
    monkeypatch: pytest.MonkeyPatch, title: str, text: str
) -> None:
    _same_as_rich(monkeypatch, title, text)


_WORDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ,.;:'\"()/#%+=?$@^{}\[\]\\-]{0,160}", fullmatch=True)
_ANY = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(_WORDS, _ANY), st.one_of(_WORDS, _ANY))
def test_any_issue_is_shown_as_rich_shows_it(
    monkeypatch: pytest.MonkeyPatch, title: str, text: str
) -> None:
    _same_as_rich(monkeypatch, title, text)


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "UTF-8", None])
def test_a_pipe_in_any_encoding_gets_richs_bytes(
    monkeypatch: pytest.MonkeyPatch, encoding: str | None
) -> None:
    # Rich draws its boxes in ASCII on an encoding other than UTF-8 (a stream without one counts
    # as UTF-8); the hand-made layout is only ever used for UTF-8.
    issue = _issue(TITLES[0], TEXTS[0])
    shown = {
        printed(
            monkeypatch,
            lambda: frequent.print_issue(issue, [], _events("")),
            tty=False,
            env={},
            through_rich=through_rich,
            encoding=encoding,
        )
        for through_rich in (False, True)
    }
    assert len(shown) == 1
    assert ("╭─" in shown.pop()) == (encoding in ("UTF-8", None))


def test_the_common_issue_is_laid_out_without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    # What `show` prints for most issues, piped: the layout by hand, not Rich's fallback.
    issue = _issue(TITLES[0], TEXTS[0])
    with monkeypatch.context() as patch:
        patch.setattr(frequent, "_rich_view", None)  # would fail if called
        shown = printed(
            monkeypatch,
            lambda: frequent.print_issue(issue, _comments(""), _events("")),
            tty=False,
            env={},
            through_rich=False,
        )
    assert shown.startswith("#012 Missing health check endpoint in mobile-api (case 12) ─")
    assert "╭─ Timeline ─" in shown and "╭─ Comments ─" in shown


def test_a_word_longer_than_the_line_is_left_to_rich() -> None:
    with pytest.raises(_layout.NotPlain):
        _layout.wrap("a" * 11, 10)
    assert _layout.wrap("aaaa bbbb cc", 9) == ["aaaa bbbb", "cc       "]
