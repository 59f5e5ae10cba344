"""The scan's progress bar appears only once a scan has taken a moment."""

from __future__ import annotations

import pytest

from passmuster.cli import scan as scan_cli


def test_the_bar_waits_then_follows_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_cli, "_PROGRESS_AFTER", 3600.0)
    with scan_cli._progress_bar(True) as tick:
        assert tick is not None
        tick(1, 10, "REQ001")
        bar = tick.__self__  # type: ignore[attr-defined]
        assert bar.bar is None  # a quick scan shows nothing
    monkeypatch.setattr(scan_cli, "_PROGRESS_AFTER", 0.0)
    holder = scan_cli._progress_bar(True)
    with holder as tick:
        assert tick is not None
        tick(3, 10, "ENV005")
        task = holder.bar.tasks[0]
        assert (task.completed, task.total, task.description) == (3, 10, "scanning ENV005")
    assert holder.bar.live.is_started is False


def test_no_bar_when_disabled() -> None:
    with scan_cli._progress_bar(False) as tick:
        assert tick is None


def test_a_terminal_gets_coloured_severities_and_the_text_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import re

    from rich.console import Console

    buffer = io.StringIO()
    monkeypatch.setattr(
        scan_cli, "console", lambda: Console(file=buffer, force_terminal=True, width=200)
    )
    report = "api  (1)\n  a.yml:3: ENV003 [high] secret [masked] [*]\n\nFound 1 finding.\n"
    scan_cli._print_coloured(report)
    shown = buffer.getvalue()
    assert "\x1b[1;31mhigh\x1b[0m" in shown
    assert re.sub(r"\x1b\[[0-9;]*m", "", shown) == report  # brackets in messages survive
