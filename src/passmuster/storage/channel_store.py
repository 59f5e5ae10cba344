"""Notification channels as the monitor keeps them: kind, configuration digest, sent and failed
counts, and whether a permanent error disabled one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Engine,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from passmuster.storage.engine import read_transaction, write_transaction
from passmuster.storage.monitor_tables import (
    monitor_channels,
    monitor_outbox,
)


@dataclass(frozen=True, slots=True)
class ChannelRow:
    name: str
    kind: str
    disabled_reason: str | None
    disabled_at: int | None
    sent: int
    failed: int
    config_digest: str | None = None


class ChannelStore:
    """The configured notification channels and their state."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_channels(self, channels: Mapping[str, tuple[str, str]]) -> list[str]:
        """Register configured channels (name → (kind, configuration digest)).

        A channel whose configuration changed (the URL fixed, a header replaced) is enabled
        again; returns the names of the channels that were. A channel recorded before digests
        were kept takes its digest without being enabled.
        """
        c = monitor_channels
        enabled: list[str] = []
        with write_transaction(self.engine) as conn:
            known = {
                r.name: (r.kind, r.config_digest, r.disabled_reason)
                for r in conn.execute(
                    select(c.c.name, c.c.kind, c.c.config_digest, c.c.disabled_reason)
                )
            }
            for name, (kind, digest) in channels.items():
                if name not in known:
                    try:
                        with conn.begin_nested():
                            conn.execute(
                                insert(c).values(
                                    name=name, kind=kind, sent=0, failed=0, config_digest=digest
                                )
                            )
                    except IntegrityError:
                        pass
                    continue
                old_kind, old_digest, disabled = known[name]
                if (old_kind, old_digest) == (kind, digest):
                    continue
                values: dict[str, Any] = {"kind": kind, "config_digest": digest}
                if old_kind != kind or old_digest is not None:
                    values.update(disabled_reason=None, disabled_at=None)
                    if disabled is not None:
                        enabled.append(name)
                conn.execute(update(c).where(c.c.name == name).values(values))
        return enabled

    def last_errors(self) -> dict[str, str]:
        """Per channel, the error of its most recent notification that had one."""
        o = monitor_outbox
        latest = (
            select(func.max(o.c.id))
            .where(o.c.last_error.is_not(None))
            .group_by(o.c.channel)
            .scalar_subquery()
        )
        stmt = select(o.c.channel, o.c.last_error).where(o.c.id.in_(latest))
        with read_transaction(self.engine) as conn:
            return {r[0]: str(r[1]) for r in conn.execute(stmt)}

    def channels(self) -> list[ChannelRow]:
        c = monitor_channels
        with read_transaction(self.engine) as conn:
            return [ChannelRow(**r._mapping) for r in conn.execute(select(c).order_by(c.c.name))]

    def disable_channel(self, name: str, reason: str, now: int) -> None:
        c = monitor_channels
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(c).where(c.c.name == name).values(disabled_reason=reason, disabled_at=now)
            )

    def enable_channel(self, name: str) -> bool:
        c = monitor_channels
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(c).where(c.c.name == name).values(disabled_reason=None, disabled_at=None)
            )
        return result.rowcount == 1
