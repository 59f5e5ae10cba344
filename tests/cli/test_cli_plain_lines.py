"""`new` and `claim` write their report lines directly when Rich would print them unchanged; the
bytes must be Rich's, piped or on a terminal, coloured or not, at any width, whatever the text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passmuster.cli import _output, frequent
from passmuster.core.issues import Issue, IssueType, Lease, Severity, Status
from tests.cli.helpers import printed

# (stdout is a terminal, environment): piped, as agents and scripts read it, and on a terminal;
# every setting Rich reads to choose colour and width.
ENVIRONMENTS = [
    (False, {}),
    (False, {"COLUMNS": "60"}),
    (False, {"COLUMNS": "30"}),
    (False, {"COLUMNS": "200"}),
    (False, {"COLUMNS": ""}),
    (False, {"COLUMNS": "wide"}),
    (False, {"NO_COLOR": "1"}),
    (False, {"FORCE_COLOR": "1"}),
    (False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}),
    (False, {"TTY_COMPATIBLE": "1"}),
    (False, {"TTY_COMPATIBLE": "0"}),
    (True, {"COLUMNS": "100"}),
    (True, {"COLUMNS": "100", "NO_COLOR": "1"}),
    (True, {"COLUMNS": "100", "TERM": "dumb"}),
    (True, {"COLUMNS": "100", "TTY_COMPATIBLE": "0"}),
]


def _issue(title: str, number: int = 28, severity: str = "high") -> Issue:
    now = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
    return Issue(
        title=title,
        number=number,
        severity=Severity(severity),
        type=IssueType.BUG,
        status=Status.IN_PROGRESS,
        created_at=now,
        lease=Lease(holder="agent-7", since=now, until=now + timedelta(minutes=30)),
    )


def _fix(title: str, resolution: str, number: int) -> Issue:
    fix = _issue(title, number, "low")
    fix.status, fix.resolution = Status.RESOLVED, resolution
    return fix


def _outputs(title: str, who: str, resolution: str) -> Iterator[Callable[[], None]]:
    filed = _issue(title)
    yield lambda: frequent.print_filed(filed, [])
    fixes = [_fix(title, resolution, 11), _fix("Port conflict (case 3)", "Moved to 8081.", 3)]
    yield lambda: frequent.print_filed(filed, fixes)
    yield lambda: frequent.print_claimed(filed, who)


def _same_as_rich(monkeypatch: pytest.MonkeyPatch, title: str, who: str, resolution: str) -> None:
    for tty, env in ENVIRONMENTS:
        for print_it in _outputs(title, who, resolution):
            direct = printed(monkeypatch, print_it, tty=tty, env=env, through_rich=False)
            rich = printed(monkeypatch, print_it, tty=tty, env=env, through_rich=True)
            assert direct == rich, (tty, env)


TITLES = [
    "Port conflict between user-service and api-gateway (bench 1)",
    "x",
    "A title exactly fifty-two characters long, no more!",
    "Database driver conflict between asyncpg and psycopg2-binary in identity-service (case 12)"
    " seen again after the last deploy",
    "fails to start: HTTPStatus imported from fastapi",
    "emoji codes :smile: and :thumbs_up: and 10:30:45",
    "markup [bold]not bold[/] and \\[escaped] and a trailing backslash \\",
    "Several   spaces and  trailing spaces  ",
    " leading space",
    "tab\there",
    "control \x1b[31m characters and CRLF\r\nline",
    "Wide text: 日本語のテキスト and an emoji 👍",
    "zero\u200bwidth and combining e\u0301",
    "",
]
RESOLUTIONS = [
    "Applied the documented fix.",
    "Line one.\n\nLine three after a blank line.\n  indented line  ",
    "A resolution much longer than any terminal is wide, " * 4,
    "- [x] a task list\n- [ ] not done",
    "`code` and **bold**: :smile:",
]


@pytest.mark.parametrize("title", TITLES)
@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_report_lines_are_the_bytes_rich_prints(
    monkeypatch: pytest.MonkeyPatch, title: str, resolution: str
) -> None:
    _same_as_rich(monkeypatch, title, "agent-7", resolution)


_WORDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ,.;:'\"()/#%+=?$@^{}\[\]\\-]{0,140}", fullmatch=True)
_ANY = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(_WORDS, _ANY), st.one_of(_WORDS, _ANY), st.one_of(_WORDS, _ANY))
def test_any_report_line_is_the_bytes_rich_prints(
    monkeypatch: pytest.MonkeyPatch, title: str, who: str, resolution: str
) -> None:
    _same_as_rich(monkeypatch, title, who, resolution)


def test_piped_plain_text_skips_rich() -> None:
    # The case `new` and `claim` meet most: piped output, plain words, wrapped as Rich wraps.
    assert _output._printed_lines(TITLES[0], 120) == [TITLES[0]]
    assert _output._printed_lines(TITLES[0], 40) == [
        "Port conflict between user-service and ",  # Rich keeps the space it broke after
        "api-gateway (bench 1)",
    ]
    assert _output._printed_lines("x" * 200, None) == ["x" * 200]  # soft wrap: never wrapped
    assert _output._printed_lines("x" * 200, 120) is None  # Rich folds a word that long
    for special in [*TITLES[5:7], *TITLES[9:13]]:
        assert _output._printed_lines(special, 120) is None, special
