"""Maintenance windows in the domain: when a one-off or recurring window is under way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from passmuster.core.maintenance import (
    MaintenanceWindow,
    check_window,
    covering,
    parse_duration,
    parse_time,
)
from passmuster.errors import InvalidValue

SUNDAY_2AM = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def _weekly() -> MaintenanceWindow:
    return MaintenanceWindow(
        id=1,
        message="Weekly patching",
        services=("db",),
        starts_at=SUNDAY_2AM,
        ends_at=SUNDAY_2AM + timedelta(hours=1),
        recurrence="FREQ=WEEKLY;BYDAY=SU;COUNT=4",
    )


def test_a_recurring_window_is_under_way_each_week_for_its_length() -> None:
    window = _weekly()
    later = SUNDAY_2AM + timedelta(weeks=2, minutes=30)
    assert window.active_at(later) == (
        SUNDAY_2AM + timedelta(weeks=2),
        later + timedelta(minutes=30),
    )
    assert window.active_at(SUNDAY_2AM + timedelta(weeks=2, hours=1)) is None  # end excluded
    assert window.active_at(SUNDAY_2AM - timedelta(seconds=1)) is None
    assert window.active_at(SUNDAY_2AM + timedelta(weeks=4, minutes=1)) is None  # COUNT=4
    assert window.is_over(SUNDAY_2AM + timedelta(weeks=4)) is True


def test_occurrences_overlapping_a_period_include_one_already_under_way() -> None:
    window = _weekly()
    found = window.occurrences(
        SUNDAY_2AM + timedelta(minutes=30), SUNDAY_2AM + timedelta(weeks=1, hours=3)
    )
    assert [start for start, _ in found] == [SUNDAY_2AM, SUNDAY_2AM + timedelta(weeks=1)]


def test_covering_picks_a_window_for_any_named_service() -> None:
    window = _weekly()
    at = SUNDAY_2AM + timedelta(minutes=5)
    assert covering([window], ["api", "db"], at) is window
    assert covering([window], ["api"], at) is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_at": SUNDAY_2AM}, "ends_at"),
        ({"ends_at": SUNDAY_2AM + timedelta(days=40)}, "ends_at"),
        ({"services": []}, "services"),
        ({"services": ["nobody"]}, "services"),
        ({"message": "  "}, "message"),
        ({"recurrence": "FREQ=DAILY;INTERVAL=0"}, "recurrence"),
        ({"recurrence": "FREQ=MINUTELY"}, "recurrence"),
        ({"recurrence": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31"}, "recurrence"),  # never
        ({"recurrence": "DTSTART:20260101T000000\nRRULE:FREQ=DAILY"}, "recurrence"),
        ({"starts_at": datetime(2026, 12, 6, 2, 0)}, "starts_at"),
    ],
)
def test_a_window_that_cannot_be_meant_is_refused(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "message": "Patching",
        "services": ["db"],
        "starts_at": SUNDAY_2AM,
        "ends_at": SUNDAY_2AM + timedelta(hours=1),
        "recurrence": None,
        "known_services": ["db", "api"],
    }
    values.update(changes)
    with pytest.raises(InvalidValue) as caught:
        check_window(**values)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_times_and_lengths_are_read_as_people_write_them() -> None:
    assert parse_time("2026-12-06T02:00Z", field="start") == SUNDAY_2AM
    assert parse_time("2026-12-06 02:00", field="start") == SUNDAY_2AM  # no zone: UTC
    assert parse_duration("90m", field="for") == timedelta(minutes=90)
    assert parse_duration("1.5h", field="for") == timedelta(minutes=90)
    for bad in ("soon", "0h", "-1h", "2 fortnights"):
        with pytest.raises(InvalidValue):
            parse_duration(bad, field="for")
    with pytest.raises(InvalidValue):
        parse_time("next tuesday", field="start")
