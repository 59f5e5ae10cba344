"""Uptime figures agree with the probe history: computed once straight from the samples the
test wrote, once through the monitor's compacted tiers (raw, minutes, hours, days), the status
page's bars and the badges."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from passmuster.core.status_page import StatusConfig
from passmuster.core.uptime import DAY_MS, HOUR_MS, percent
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.uptime_store import UptimeStore
from passmuster.usecases.desk import Desk
from passmuster.usecases.status_page import PERIODS, StatusReader
from tests.status.seed import add_samples, add_targets

NOW = 1_800_000_000_000 - 1_800_000_000_000 % HOUR_MS  # on the hour
STEP = 10 * 60_000
SERVICES = ("billing", "identity", "search")


def _ok(target: str, at: int) -> bool:
    """A fixed pattern with bursts of failures: about 3 % of probes fail."""
    digest = hashlib.sha256(f"{target}{at // (20 * 60_000)}".encode()).digest()
    return digest[0] > 8 or (at // STEP) % 3 == 0


@pytest.fixture
def history(desk: Desk) -> Iterator[tuple[Desk, list[tuple[str, int, bool, float]]]]:
    store = MonitorStore(desk.engine)
    add_targets(store, SERVICES, NOW)
    rows = [
        (t, at, _ok(t, at), 0.010 + (at // STEP) % 7 / 1000)
        for t in SERVICES
        for at in range(NOW - 40 * DAY_MS, NOW, STEP)
    ]
    add_samples(store, rows)
    # What the monitor's compaction job does: the last hour stays raw, three days of
    # minutes, the rest in hours; every compacted sample also lands in its day.
    store.compact(NOW, raw_ms=HOUR_MS, minutes_ms=3 * DAY_MS, hours_ms=400 * DAY_MS)
    counts = store.counts()
    assert counts["samples"] == len(SERVICES) * (HOUR_MS // STEP)  # the last hour
    yield desk, rows


def _by_day(rows: list[tuple[str, int, bool, float]], target: str) -> dict[int, tuple[int, int]]:
    days: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for t, at, ok, _ in rows:
        if t == target:
            day = days[at - at % DAY_MS]
            day[0] += 1
            day[1] += ok
    return {k: (v[0], v[1]) for k, v in days.items()}


def test_day_tallies_match_the_samples(history: tuple[Desk, list]) -> None:  # type: ignore[type-arg]
    desk, rows = history
    found = UptimeStore(desk.engine).days(NOW - 90 * DAY_MS)
    for target in SERVICES:
        expected = _by_day(rows, target)
        got = {day: (t.count, t.ok) for day, t in found[target].items()}
        assert got == expected


def test_period_uptime_matches_the_samples(history: tuple[Desk, list]) -> None:  # type: ignore[type-arg]
    desk, rows = history
    store = UptimeStore(desk.engine)
    for period, length in PERIODS.items():
        since = NOW - length
        tallies = store.period(since)
        for target in SERVICES:
            mine = [(ok, latency) for t, at, ok, latency in rows if t == target and at >= since]
            assert tallies[target].count == len(mine), period
            assert tallies[target].ok == sum(ok for ok, _ in mine), period
            assert tallies[target].latency_sum == pytest.approx(sum(lat for _, lat in mine))


def test_the_page_bars_and_the_badges_show_the_same_figures(history: tuple[Desk, list]) -> None:  # type: ignore[type-arg]
    desk, rows = history
    now = datetime.fromtimestamp(NOW / 1000, UTC)
    reader = StatusReader(desk, StatusConfig(enabled=True), clock=lambda: now)
    status = reader.status()
    for component in status.components:
        expected = _by_day(rows, component.name)
        shown = {d.start_ms: (d.tally.count, d.tally.ok) for d in component.days if d.tally.count}
        assert shown == expected
        assert len(component.days) == 90
        total_count = sum(c for c, _ in expected.values())
        total_ok = sum(o for _, o in expected.values())
        assert component.uptime_90d == pytest.approx(100.0 * total_ok / total_count)
    figures = reader.badge_figures("billing")
    for period, length in PERIODS.items():
        mine = [ok for t, at, ok, _ in rows if t == "billing" and at >= NOW - length]
        assert percent(figures.uptime[period]) == percent(100.0 * sum(mine) / len(mine))
    assert 0 < sum(1 for _, _, ok, _ in rows if not ok) < len(rows) // 10  # failures exist
