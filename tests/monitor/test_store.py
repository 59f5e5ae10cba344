"""The monitor's store on SQLite and PostgreSQL: leases, outbox claims, bounded history."""

from __future__ import annotations

import threading

from passmuster.core.health import Health, TargetState
from passmuster.core.targets import Target
from passmuster.core.uptime import Tally
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.outbox_store import Outgoing
from passmuster.storage.probe_history_store import Sample
from passmuster.storage.reminder_store import latest_openings
from passmuster.storage.target_store import Record
from passmuster.storage.uptime_store import UptimeStore

NOW = 1_800_000_000_000


def _targets(n: int) -> dict[str, Target]:
    return {f"t{i}": Target(name=f"t{i}", url=f"http://127.0.0.1:1/{i}") for i in range(n)}


def test_sync_adds_changes_and_retires_targets_keeping_their_health(store: MonitorStore) -> None:
    assert store.sync_targets(_targets(3), NOW).added == 3
    claimed = store.claim_due("w", NOW, limit=10, lease_ms=1000)
    store.record(
        "w",
        [
            Record(
                c.target.name, TargetState(health=Health.UP), NOW + 10_000, _sample(c.target.name)
            )
            for c in claimed
        ],
    )
    changed = _targets(2)
    changed["t1"] = Target(name="t1", url="http://127.0.0.1:2/")
    report = store.sync_targets(changed, NOW)
    assert (report.added, report.changed, report.removed) == (0, 1, 1)
    rows = {r.name: r for r in store.target_rows()}
    assert set(rows) == {"t0", "t1"}
    assert rows["t1"].url == "http://127.0.0.1:2/" and rows["t1"].state.health is Health.UP


def test_a_leased_target_is_claimed_by_one_worker_until_the_lease_ends(store: MonitorStore) -> None:
    store.sync_targets(_targets(50), NOW)
    results: dict[str, list[str]] = {}

    def claim(owner: str) -> None:
        results[owner] = [
            c.target.name for c in store.claim_due(owner, NOW, limit=50, lease_ms=5000)
        ]

    workers = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    everything = [name for names in results.values() for name in names]
    assert sorted(everything) == sorted(_targets(50)) and len(set(everything)) == 50
    assert store.claim_due("late", NOW + 1000, limit=50, lease_ms=5000) == []
    assert len(store.claim_due("late", NOW + 6000, limit=50, lease_ms=5000)) == 50


def test_a_result_from_a_worker_that_lost_its_lease_is_ignored(store: MonitorStore) -> None:
    store.sync_targets(_targets(1), NOW)
    store.claim_due("a", NOW, limit=1, lease_ms=100)
    store.claim_due("b", NOW + 200, limit=1, lease_ms=5000)
    down = TargetState(health=Health.DOWN, failures=3)
    store.record("a", [Record("t0", down, NOW + 1, _sample("t0"))])
    assert store.target_rows()[0].state.health is Health.UNKNOWN
    assert not store.renew("a", "t0", NOW + 9000)
    assert store.renew("b", "t0", NOW + 9000)


def test_each_notification_is_claimed_once_and_enqueueing_twice_adds_it_once(
    store: MonitorStore,
) -> None:
    store.ensure_channels({"ops": ("webhook", "d1")})
    items = [
        Outgoing(key=f"k{i}", channel="ops", kind="opened", payload={"i": i}) for i in range(30)
    ]
    assert store.enqueue(items, NOW) == 30
    assert store.enqueue(items, NOW) == 0
    got: list[int] = []
    lock = threading.Lock()

    def claim(owner: str) -> None:
        rows = store.claim_outbox(owner, NOW, limit=30, lease_ms=5000, channels=["ops"])
        with lock:
            got.extend(r.id for r in rows)

    workers = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(got) == 30 and len(set(got)) == 30


def test_a_notification_whose_sender_died_is_claimed_again_after_its_lease(
    store: MonitorStore,
) -> None:
    store.ensure_channels({"ops": ("webhook", "d1")})
    store.enqueue([Outgoing(key="k", channel="ops", kind="opened", payload={})], NOW)
    (row,) = store.claim_outbox("dead", NOW, limit=5, lease_ms=1000, channels=["ops"])
    assert store.claim_outbox("alive", NOW + 500, limit=5, lease_ms=1000, channels=["ops"]) == []
    (again,) = store.claim_outbox("alive", NOW + 1500, limit=5, lease_ms=1000, channels=["ops"])
    assert again.id == row.id and again.attempts == 2
    assert not store.mark_sent(row.id, "dead", NOW + 1600)
    assert store.mark_sent(row.id, "alive", NOW + 1600)
    assert store.channels()[0].sent == 1


def test_resolved_waits_for_opened_of_the_same_incident(store: MonitorStore) -> None:
    store.ensure_channels({"ops": ("webhook", "d1")})
    store.enqueue(
        [
            Outgoing(key="a", channel="ops", kind="opened", payload={}, incident=7),
            Outgoing(key="b", channel="ops", kind="resolved", payload={}, incident=7),
        ],
        NOW,
    )
    (first,) = store.claim_outbox("w", NOW, limit=5, lease_ms=1000, channels=["ops"])
    assert first.kind == "opened"
    store.mark_retry(first.id, "w", NOW + 60_000, "HTTP 503")
    assert store.claim_outbox("w", NOW + 1, limit=5, lease_ms=1000, channels=["ops"]) == []


def test_history_rolls_up_into_minutes_and_hours_and_stays_bounded(store: MonitorStore) -> None:
    store.sync_targets(_targets(1), NOW)
    base = NOW - NOW % 3_600_000 - 3 * 3_600_000  # three hours ago, on the hour
    for chunk in range(0, 3 * 3600, 600):
        store.claim_due("w", NOW, limit=1, lease_ms=10)
        records = [
            Record(
                "t0",
                TargetState(health=Health.UP),
                NOW,
                _sample("t0", base + s * 1000, (s // 10) % 10 != 0),
            )
            for s in range(chunk, chunk + 600, 10)
        ]
        store.claim_due("w", NOW + 100, limit=1, lease_ms=10**9)
        store.record("w", records)
    assert store.counts()["samples"] == 3 * 360
    uptime = UptimeStore(store.engine)
    # Recorded samples are counted in their days as they are stored, compacted or not.
    assert uptime.bar_days(0, ["t0"]) == _day_counts(uptime.days(0))
    report = store.compact(NOW, raw_ms=3_600_000, minutes_ms=7_200_000, hours_ms=10**12)
    assert report.samples_rolled == 2 * 360
    minutes = store.rollups("t0", "m")
    hours = store.rollups("t0", "h")
    assert len(hours) == 1 and hours[0][1] == 360 and hours[0][2] == 324
    assert len(minutes) == 60 and sum(m[1] for m in minutes) == 360
    # The status page's day roll-ups hold every compacted sample too (one day, or two when
    # the three hours straddle midnight).
    days = store.rollups("t0", "d")
    assert sum(d[1] for d in days) == 2 * 360 and sum(d[2] for d in days) == 2 * 324
    assert store.counts() == {"samples": 360, "rollups": 61 + len(days)}
    day_counts = uptime.bar_days(0, ["t0"])
    assert day_counts == _day_counts(uptime.days(0))
    assert sum(c for c, _ in day_counts["t0"].values()) == 3 * 360
    store.compact(NOW + 10 * 3_600_000, raw_ms=3_600_000, minutes_ms=3_600_000, hours_ms=3_600_000)
    assert store.counts() == {"samples": 0, "rollups": 0}
    assert uptime.bar_days(0, ["t0"]) == {}


def _day_counts(found: dict[str, dict[int, Tally]]) -> dict[str, dict[int, tuple[int, int]]]:
    return {t: {d: (x.count, x.ok) for d, x in days.items()} for t, days in found.items()}


def _sample(name: str, at: int = NOW, ok: bool = True) -> Sample:
    return Sample(name, at, ok, False, 0.01, 200 if ok else None, None if ok else "refused")


def test_compaction_keeps_the_notifications_of_incidents_still_open(store: MonitorStore) -> None:
    """Reminders read the opening they follow from the outbox: an incident open for longer than
    the outbox is kept (7 days) must not lose it."""
    store.sync_targets(_targets(2), NOW)
    store.ensure_channels({"ops": ("webhook", "d1")})

    def state(name: str, incident: int, open_: bool) -> None:
        store.claim_due("w", NOW + 10**9, limit=2, lease_ms=10**9)
        health = Health.DOWN if open_ else Health.UP
        incident_state = TargetState(health=health, incident=incident, incident_open=open_)
        store.record("w", [Record(name, incident_state, NOW, _sample(name, NOW, not open_))])

    state("t0", 5, True)
    state("t1", 6, False)
    store.enqueue(
        [
            Outgoing(
                key=f"incident:{n}:opened", channel="ops", kind="opened", payload={}, incident=n
            )
            for n in (5, 6)
        ]
        + [Outgoing(key="test", channel="ops", kind="test", payload={})],
        NOW,
    )
    for row in store.claim_outbox("w", NOW, limit=5, lease_ms=1000, channels=["ops"]):
        assert store.mark_sent(row.id, "w", NOW)
    week = 7 * 86_400_000
    store.compact(NOW + week + 1, raw_ms=3_600_000, minutes_ms=week, hours_ms=10**12)
    assert list(latest_openings(store.engine, [5, 6])) == [(5, "ops")]
    assert [r.incident for r in store.outbox()] == [5]
    state("t0", 5, False)  # resolved: its notifications go with the next compaction
    store.compact(NOW + week + 2, raw_ms=3_600_000, minutes_ms=week, hours_ms=10**12)
    assert store.outbox() == []


def test_a_service_with_several_targets_has_its_worst_state_in_every_health_reading(
    store: MonitorStore,
) -> None:
    """The live feed compares `states()`, the pages show `current()`: both name the worst."""
    from passmuster.usecases.health import StoreHealth

    targets = {
        name: Target(name=name, url=f"http://127.0.0.1:1/{name}", service="api")
        for name in ("api-a", "api-b", "api-c")
    }
    store.sync_targets(targets, NOW)
    claimed = store.claim_due("w", NOW, limit=10, lease_ms=1000)
    health = {"api-a": Health.UP, "api-b": Health.DOWN, "api-c": Health.UP}
    store.record(
        "w",
        [
            Record(
                c.target.name,
                TargetState(health=health[c.target.name]),
                NOW + 10_000,
                _sample(c.target.name, ok=health[c.target.name] is Health.UP),
            )
            for c in claimed
        ],
    )
    reader = StoreHealth(store.engine)
    assert reader.current()["api"].state == "down"
    assert reader.states() == {"api": "down"}
