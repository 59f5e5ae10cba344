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
