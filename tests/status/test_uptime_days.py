"""The status page's bars read the monitor's day counts (one row per target and day); they must
show exactly what summing the day roll-ups and the raw samples finds, whatever history the
monitor stored and however often it compacted it, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete

from passmuster.core.catalog import Service
from passmuster.core.status_page import StatusConfig
from passmuster.core.targets import Target
from passmuster.core.uptime import BAR_DAYS, DAY_MS, HOUR_MS, day_of
from passmuster.errors import NotFound
from passmuster.storage.engine import write_transaction
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.monitor_tables import monitor_uptime_days
from passmuster.storage.uptime_store import UptimeStore, rebuild_uptime_days
from passmuster.usecases.desk import Desk
from passmuster.usecases.status_page import PERIODS, StatusReader
from tests.status.seed import add_targets

END = 1_800_000_000_000 - 1_800_000_000_000 % HOUR_MS + 17 * 60_000  # not on a boundary
TARGETS = ("billing", "identity", "search")


def _counts(found: dict[str, dict[int, object]]) -> dict[str, dict[int, tuple[int, int]]]:
    return {
        target: {day: (t.count, t.ok) for day, t in days.items()}  # type: ignore[attr-defined]
        for target, days in found.items()
    }


def _store_history(store: MonitorStore, seed: int) -> None:
    """About 130 days of probes at an uneven pace, with outages and gaps, stored in chunks as a
    monitor would, compacted after each chunk (hours kept 100 days, so old days are dropped)."""
    rng = random.Random(seed)
    at = END - 130 * DAY_MS
    while at < END:
        chunk_end = min(END, at + rng.randint(1, 12) * DAY_MS + rng.randint(0, DAY_MS))
        samples = []
        while at < chunk_end:
            down = rng.random() < 0.02
            for target in TARGETS:
                if rng.random() < 0.9:  # some probes missing: a target stopped, a gap
                    samples.append(
                        {
                            "target": target,
                            "at": at + rng.randint(0, 59_000),
                            "ok": not down and rng.random() > 0.01,
                            "degraded": rng.random() < 0.05,
                            "latency": rng.random(),
                        }
                    )
            at += rng.choice((60_000, 10 * 60_000, 37 * 60_000))
        store.add_samples(samples)
        store.compact(
            chunk_end,
            raw_ms=rng.choice((HOUR_MS, 6 * HOUR_MS)),
            minutes_ms=3 * DAY_MS,
            hours_ms=100 * DAY_MS,
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bars_day_counts_equal_the_roll_ups_and_samples_summed(desk: Desk, seed: int) -> None:
    store = MonitorStore(desk.engine)
    add_targets(store, TARGETS, END)
    _store_history(store, seed)
    uptime = UptimeStore(desk.engine)
    for since in (0, day_of(END) - (BAR_DAYS - 1) * DAY_MS, day_of(END)):
        slow = _counts(uptime.days(since))  # type: ignore[arg-type]
        fast = uptime.bar_days(since, list(TARGETS))
        assert fast == slow
        assert slow  # history was there to compare
    # A badge's uptime: whole days from the day counts, the first day's rest from the
    # tiers, as the tiers alone count it.
    for since in (
        *(END - length for length in PERIODS.values()),
        END - 3 * DAY_MS - 5 * 60_000,
        day_of(END) - 2 * DAY_MS,
        END - 90 * DAY_MS,
    ):
        for targets in (["billing"], list(TARGETS)):
            whole = uptime.periods({"p": since}, targets)["p"]
            assert uptime.uptime_since(since, targets) == (whole.count, whole.ok)
            assert whole.count > 0
    # The page built on the fast path shows the slow path's days and 90-day figure.
    now = datetime.fromtimestamp(END / 1000, UTC)
    status = StatusReader(desk, StatusConfig(enabled=True), clock=lambda: now).status()
    since = day_of(END) - (BAR_DAYS - 1) * DAY_MS
    slow_days = uptime.days(since)
    for component in status.components:
        expected = {d: (t.count, t.ok) for d, t in slow_days[component.name].items()}
        assert {
            d.start_ms: (d.tally.count, d.tally.ok) for d in component.days if d.tally.count
        } == expected
        count = sum(c for c, _ in expected.values())
        ok = sum(o for _, o in expected.values())
        assert component.uptime_90d == pytest.approx(100.0 * ok / count)


def test_lost_day_counts_are_rebuilt_from_the_roll_ups_and_samples(desk: Desk) -> None:
    store = MonitorStore(desk.engine)
    add_targets(store, TARGETS, END)
    _store_history(store, 7)
    uptime = UptimeStore(desk.engine)
    before = uptime.bar_days(0, list(TARGETS))
    with write_transaction(desk.engine) as conn:
        conn.execute(delete(monitor_uptime_days))
    assert uptime.bar_days(0, list(TARGETS)) == {}
    with write_transaction(desk.engine) as conn:
        rebuild_uptime_days(conn)
    assert uptime.bar_days(0, list(TARGETS)) == before
    assert before == _counts(uptime.days(0))  # type: ignore[arg-type]


def test_a_badge_is_served_for_exactly_the_services_the_page_shows(desk: Desk) -> None:
    store = MonitorStore(desk.engine)
    desk.ensure_service(Service(name="catalog-only"))
    desk.ensure_service(Service(name="vault"))
    store.sync_targets(
        {
            "billing": Target(name="billing", url="http://127.0.0.1:1/b", service="billing"),
            "billing-db": Target(name="billing-db", url="http://127.0.0.1:1/d", service="db"),
            "loose": Target(name="loose", url="http://127.0.0.1:1/l"),  # names no service
            "vault": Target(name="vault", url="http://127.0.0.1:1/v", service="vault"),
        },
        END,
    )
    now = datetime.fromtimestamp(END / 1000, UTC)
    reader = StatusReader(desk, StatusConfig(enabled=True, hidden=["vault"]), clock=lambda: now)
    shown = reader.services()
    assert set(shown) == {"billing", "db", "loose", "catalog-only"}
    for name in [*shown, "vault", "billing-db", "nobody"]:
        if name in shown:
            assert reader.badge_figures(name).name == name
        else:
            with pytest.raises(NotFound):
                reader.badge_figures(name)
    assert reader.badge_figures("catalog-only").state == "unknown"
    assert reader.badge_figures("db", ()).uptime == {}
