from __future__ import annotations

from datetime import timedelta

from passmuster.core.durations import duration_text, hours_text, seconds_text


def test_durations_read_like_the_logs() -> None:
    assert duration_text(timedelta(hours=2)) == "2h 00m"
    assert duration_text(timedelta(seconds=90)) == "1m"
    assert duration_text(timedelta(seconds=45)) == "45s"
    assert duration_text(timedelta(days=3, hours=4)) == "3d 4h"
    assert duration_text(-timedelta(minutes=5)) == "-5m"
    assert duration_text(None) == "-"


def test_a_figure_says_its_unit_so_hours_and_seconds_never_mix() -> None:
    assert hours_text(1.5) == "1h 30m"
    assert seconds_text(1.5 * 3600) == "1h 30m"
    assert seconds_text(90) == "1m"
    assert hours_text(None) == seconds_text(None) == "-"
