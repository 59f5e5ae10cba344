"""Claim leases: how long a claimed issue stays with the agent that claimed it.

Pure domain. Claiming an issue takes a lease on it (30 minutes unless asked otherwise or
configured); the holder renews it while working and releases it when giving the issue back.
A lease that runs out returns the issue to the ready queue: it is unassigned, moved back to
`open` if it was `in_progress`, and an event names the agent whose claim lapsed. Resolving or
closing the issue, or assigning it to someone else, ends the lease.

The policy comes from `[leases]` in passmuster.toml:

    [leases]
    default = "30m"          # a claim's lease when the claimer asks for none
    longest = "1d"           # the most a claim or renewal may ask for
    sweep_interval = "10s"   # how often servers and the monitor return lapsed claims
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from passmuster.core._dataclass import dataclass
from passmuster.core.issues import Issue, Lease, Status, format_number
from passmuster.core.sla import format_duration, parse_duration
from passmuster.errors import Conflict, InvalidValue

__all__ = [
    "EXPIRY_ACTOR",
    "Lease",
    "LeasePolicy",
    "check_claimable",
    "check_holder",
    "claims_table",
    "ends_lease",
    "parse_lease",
    "status_after_release",
]

# The actor recorded on the events of a lease that ran out: nobody did it, the clock did.
EXPIRY_ACTOR = "passmuster"


def _positive_duration(value: object) -> timedelta:
    parsed = parse_duration(value)
    if parsed is None or parsed <= timedelta(0):
        raise ValueError(f"{value!r} is not a positive duration: write 30s, 30m, 4h or 1d")
    return parsed


_SECONDS = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?)$")


def _seconds_or_duration(value: object) -> object:
    # Sweep intervals and test leases are short: "10s" reads as seconds, a unit the SLA
    # durations (minutes and up) have no use for.
    match = _SECONDS.match(value.strip().lower()) if isinstance(value, str) else None
    return timedelta(seconds=float(match.group(1))) if match else value


def parse_lease(value: object) -> timedelta:
    """A lease length from `45m`, `2h`, `90s` or a timedelta; ValueError otherwise."""
    return _positive_duration(_seconds_or_duration(value))


@dataclass
class LeasePolicy:
    """`[leases]` of passmuster.toml (read by core/policy_config.py when the section exists)."""

    default: timedelta = timedelta(minutes=30)
    longest: timedelta = timedelta(days=1)
    sweep_interval: timedelta = timedelta(seconds=10)

    @classmethod
    def model_validate(cls, data: object) -> LeasePolicy:
        """The policy a `[leases]` section describes; pydantic's ValidationError names a wrong
        field."""
        if data == {}:
            return cls()
        from passmuster.core.policy_config import LeasePolicyConfig

        return LeasePolicyConfig.model_validate(data).policy()

    def length(self, requested: timedelta | str | None) -> timedelta:
        """The lease a claim or renewal gets: `requested` (checked), else the default."""
        if requested is None:
            return self.default
        try:
            wanted = parse_lease(requested)
        except ValueError:
            raise InvalidValue("lease", requested, ["a duration such as 90s, 30m or 2h"]) from None
        if wanted > self.longest:
            raise InvalidValue(
                "lease", requested, [f"at most {_spelled(self.longest)} ([leases] longest)"]
            )
        return wanted


def check_claimable(issue: Issue, lease: Lease | None, *, actor: str, now: datetime) -> None:
    """Raise Conflict when `actor` may not claim `issue` by its number now.

    Free: active, not blocked, and neither assigned to someone else nor under another's live
    lease. Claiming one's own issue again renews the claim.
    """
    ref = issue.ref
    if not issue.status.is_active:
        raise Conflict(f"{ref} is {issue.status.value}: only active issues can be claimed")
    if issue.status is Status.BLOCKED:
        raise Conflict(f"{ref} is blocked: unblock it (start) before claiming it")
    live = lease is not None and not lease.expired(now)
    if live and lease is not None and lease.holder != actor:
        raise Conflict(f"{ref} is claimed by {lease.holder} until {_clock(lease.until)}")
    if not live and issue.assignee not in (None, actor) and lease is None:
        raise Conflict(f"{ref} is assigned to {issue.assignee}; ask them, or reassign it first")


def check_holder(
    number: int,
    lease: Lease | None,
    *,
    actor: str,
    now: datetime,
    lapsed_too: bool = False,
) -> Lease:
    """The live lease `actor` holds on issue `number`, or Conflict saying why there is none.

    With `lapsed_too`, a lease that ran out but was not yet returned counts (giving it back).
    """
    ref = format_number(number)
    if lease is None:
        raise Conflict(f"{ref} is not claimed; claim it first")
    if lease.holder != actor:
        raise Conflict(f"{ref} is claimed by {lease.holder}, not by {actor}")
    if lease.expired(now) and not lapsed_too:
        raise Conflict(
            f"your claim on {ref} ran out at {_clock(lease.until)}; claim it again to go on"
        )
    return lease


def status_after_release(status: Status) -> Status:
    """Where an issue goes when its claim ends unfinished: nobody works on it any more."""
    return Status.OPEN if status is Status.IN_PROGRESS else status


def ends_lease(changes: dict[str, object], lease: Lease | None) -> bool:
    """True when an edit or move ends the lease: finished, or assigned to someone else."""
    if lease is None:
        return False
    status = changes.get("status")
    if isinstance(status, Status) and not status.is_active:
        return True
    return "assignee" in changes and changes["assignee"] != lease.holder


def claims_table(held: list[Issue], now: datetime) -> list[dict[str, object]]:
    """Who holds what, as `passmuster agents --json`, the API's `/agents` and the board show it."""
    return [
        {
            "agent": issue.lease.holder,
            "issue": issue.number,
            "ref": issue.ref,
            "title": issue.title,
            "status": issue.status.value,
            "since": issue.lease.since,
            "until": issue.lease.until,
            "expired": issue.lease.expired(now),
        }
        for issue in held
        if issue.lease is not None
    ]


def _clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _spelled(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    return f"{seconds}s" if seconds < 60 else format_duration(value)
