"""The `[sla]` and `[leases]` sections of passmuster.toml as pydantic models.

They validate what a project writes (durations as text, no unknown keys, a default lease within
the longest) and give the plain policies of core/sla.py and core/leases.py, which the desk uses.
Kept apart so that a desk without these sections never loads pydantic: every `list`, `ready` and
`claim` needs a policy, and pydantic costs more to import than their work.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from passmuster.core.issues import Status
from passmuster.core.leases import LeasePolicy, parse_lease
from passmuster.core.sla import (
    Limits,
    SlaPolicy,
    _default_resolve,
    _default_respond,
    format_duration,
    parse_duration,
)

Duration = Annotated[timedelta | None, BeforeValidator(parse_duration)]
LeaseDuration = Annotated[timedelta, BeforeValidator(parse_lease)]


class LimitsConfig(BaseModel):
    """One limit per severity; None means no limit."""

    model_config = ConfigDict(extra="forbid")

    critical: Duration = None
    high: Duration = None
    medium: Duration = None
    low: Duration = None
    info: Duration = None

    def policy(self) -> Limits:
        return Limits(**dict(self))


def _limits_text(limits: Limits) -> dict[str, timedelta | None]:
    return {
        "critical": limits.critical,
        "high": limits.high,
        "medium": limits.medium,
        "low": limits.low,
        "info": limits.info,
    }


class SlaPolicyConfig(BaseModel):
    """The `[sla]` section. A severity left out of `[sla.respond]` or `[sla.resolve]` keeps its
    default limit; write `"none"` to remove one."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _keep_unset_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, defaults in (("respond", _default_respond), ("resolve", _default_resolve)):
            given = merged.get(name)
            if isinstance(given, dict):
                merged[name] = {**_limits_text(defaults()), **given}
        return merged

    respond: LimitsConfig = Field(
        default_factory=lambda: LimitsConfig(**_limits_text(_default_respond()))
    )
    resolve: LimitsConfig = Field(
        default_factory=lambda: LimitsConfig(**_limits_text(_default_resolve()))
    )
    pause_statuses: list[Status] = Field(default_factory=lambda: [Status.BLOCKED])
    at_risk: float = Field(default=0.25, ge=0.0, le=1.0)

    def policy(self) -> SlaPolicy:
        return SlaPolicy(
            respond=self.respond.policy(),
            resolve=self.resolve.policy(),
            pause_statuses=list(self.pause_statuses),
            at_risk=self.at_risk,
        )


class LeasePolicyConfig(BaseModel):
    """`[leases]` of passmuster.toml."""

    model_config = ConfigDict(extra="forbid")

    default: LeaseDuration = timedelta(minutes=30)
    longest: LeaseDuration = timedelta(days=1)
    sweep_interval: LeaseDuration = Field(default=timedelta(seconds=10))

    @model_validator(mode="after")
    def _default_within_longest(self) -> LeasePolicyConfig:
        if self.default > self.longest:
            raise ValueError(
                f"default ({format_duration(self.default)}) is longer than longest "
                f"({format_duration(self.longest)})"
            )
        return self

    def policy(self) -> LeasePolicy:
        return LeasePolicy(
            default=self.default, longest=self.longest, sweep_interval=self.sweep_interval
        )
