"""DORA's four keys over recorded deployments: frequency, lead time, change failure rate and
time to restore. Pure: the desk reads the attempts and issues, this module counts.

Definitions, per service deployment (one attempt of one service):

- **Deployment frequency**: successful deployments in the period, per day and per week.
- **Lead time for changes**: from the commit of the last change to the service's folder to the
  first successful deployment of that commit (redeploying the same commit adds nothing).
- **Change failure rate**: the share of finished deployments (succeeded, failed, timed out)
  that failed, or that were followed within the failure window by an incident or a deployment
  issue filed against the service (the issue is then counted as caused by that deployment: the
  most recent successful one of the service before it).
- **Time to restore**: for a failed deployment, until the service's next successful one; for
  an issue caused by a deployment, until the issue was resolved.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class Deployment:
    """One finished attempt as the keys need it."""

    id: int
    service: str
    finished_at: datetime
    succeeded: bool
    service_commit: str | None = None
    service_commit_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Trouble:
    """An incident, or a deployment issue filed by a person or another tool."""

    number: int
    services: tuple[str, ...]
    reported_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class Week:
    label: str  # ISO week, 2026-W47
    deployments: int
    failed: int
    lead_time_hours: float | None
    change_failure_rate: float | None  # 0..1
    restore_hours: float | None


@dataclass(slots=True)
class Delivery:
    since: datetime | None
    until: datetime | None
    days: float
    deployments: int  # successful
    failed: int  # failed or timed out
    per_day: float | None
    lead_time_hours: float | None  # median
    lead_time_p90_hours: float | None
    change_failure_rate: float | None  # 0..1
    change_failures: int
    restore_hours: float | None  # median
    unrestored: int  # change failures not restored yet
    caused: dict[int, list[int]] = field(default_factory=dict)  # attempt id -> issue numbers
    weeks: list[Week] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("since", "until"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        data["caused"] = {str(k): v for k, v in self.caused.items()}
        return data


def delivery_keys(
    deployments: Iterable[Deployment],
    troubles: Iterable[Trouble],
    *,
    window: timedelta,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Delivery:
    """The four keys over deployments finished in [since, until) (default: all of them)."""
    end = until or now
    chosen = sorted(
        (
            d
            for d in deployments
            if (since is None or d.finished_at >= since) and d.finished_at < end
        ),
        key=lambda d: (d.finished_at, d.id),
    )
    by_service: dict[str, list[Deployment]] = {}
    for d in chosen:
        by_service.setdefault(d.service, []).append(d)
    caused = _caused(by_service, troubles, window)
    troubles_by_number = {t.number: t for t in troubles}

    lead: dict[int, float] = {}
    shipped: set[tuple[str, str]] = set()
    for d in chosen:
        if not d.succeeded or d.service_commit is None or d.service_commit_at is None:
            continue
        key = (d.service, d.service_commit)
        if key in shipped:
            continue
        shipped.add(key)
        lead[d.id] = max((d.finished_at - d.service_commit_at).total_seconds(), 0) / 3600

    failures: dict[int, float | None] = {}  # deployment id -> hours to restore (None: not yet)
    for runs in by_service.values():
        for index, d in enumerate(runs):
            if not d.succeeded:
                later = next((x for x in runs[index + 1 :] if x.succeeded), None)
                failures[d.id] = (
                    (later.finished_at - d.finished_at).total_seconds() / 3600 if later else None
                )
            elif d.id in caused:
                hours = [
                    (t.resolved_at - t.reported_at).total_seconds() / 3600
                    for n in caused[d.id]
                    if (t := troubles_by_number[n]).resolved_at is not None
                ]
                all_back = len(hours) == len(caused[d.id])
                failures[d.id] = max(hours) if all_back and hours else None

    succeeded = [d for d in chosen if d.succeeded]
    start = since or (chosen[0].finished_at if chosen else None)
    days = max((end - start).total_seconds() / 86400, 1.0) if start is not None else 0.0
    restored = [h for h in failures.values() if h is not None]
    weeks = _weeks(chosen, lead, failures)
    return Delivery(
        since=since,
        until=until,
        days=round(days, 2),
        deployments=len(succeeded),
        failed=len(chosen) - len(succeeded),
        per_day=round(len(succeeded) / days, 3) if days else None,
        lead_time_hours=_median(lead.values()),
        lead_time_p90_hours=_percentile(list(lead.values()), 0.9),
        change_failure_rate=round(len(failures) / len(chosen), 4) if chosen else None,
        change_failures=len(failures),
        restore_hours=_median(restored),
        unrestored=sum(1 for h in failures.values() if h is None),
        caused=caused,
        weeks=weeks,
    )


def _caused(
    by_service: dict[str, list[Deployment]], troubles: Iterable[Trouble], window: timedelta
) -> dict[int, list[int]]:
    """Each trouble, charged to the service's last successful deployment before it."""
    caused: dict[int, list[int]] = {}
    for trouble in sorted(troubles, key=lambda t: (t.reported_at, t.number)):
        for service in trouble.services:
            before = [
                d
                for d in by_service.get(service, ())
                if d.succeeded and d.finished_at <= trouble.reported_at
            ]
            if before and trouble.reported_at - before[-1].finished_at <= window:
                numbers = caused.setdefault(before[-1].id, [])
                if trouble.number not in numbers:
                    numbers.append(trouble.number)
    return caused


def _weeks(
    chosen: Sequence[Deployment], lead: dict[int, float], failures: dict[int, float | None]
) -> list[Week]:
    grouped: dict[str, list[Deployment]] = {}
    for d in chosen:
        year, week, _ = d.finished_at.astimezone(UTC).isocalendar()
        grouped.setdefault(f"{year}-W{week:02d}", []).append(d)
    out = []
    for label in sorted(grouped):
        items = grouped[label]
        failed_ids = [d.id for d in items if d.id in failures]
        out.append(
            Week(
                label=label,
                deployments=sum(1 for d in items if d.succeeded),
                failed=sum(1 for d in items if not d.succeeded),
                lead_time_hours=_median(lead[d.id] for d in items if d.id in lead),
                change_failure_rate=round(len(failed_ids) / len(items), 4),
                restore_hours=_median(h for i in failed_ids if (h := failures[i]) is not None),
            )
        )
    return out


def _median(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(statistics.median(items), 3) if items else None


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(round(share * (len(ordered) - 1)), len(ordered) - 1)
    return round(ordered[index], 3)
