"""Seeding a desk for status page tests: monitor targets with a known probe history."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api.helpers import make_tokens
from api.live_server import serve_in_thread
from sqlalchemy import update

from passmuster.api.app import create_app
from passmuster.api.config import ServeSettings
from passmuster.core.catalog import Service
from passmuster.core.issues import IssueDraft, IssueType
from passmuster.core.targets import Target
from passmuster.storage.engine import write_transaction
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.monitor_tables import monitor_targets
from passmuster.usecases.desk import Desk
from passmuster.usecases.incident_updates import post_update
from passmuster.usecases.maintenance import schedule


def add_targets(store: MonitorStore, services: Iterable[str], now_ms: int) -> None:
    targets = {
        name: Target(name=name, url=f"http://127.0.0.1:1/{name}/health", service=name)
        for name in services
    }
    store.sync_targets(targets, now_ms)


def set_health(store: MonitorStore, name: str, health: str) -> None:
    with write_transaction(store.engine) as conn:
        conn.execute(
            update(monitor_targets).where(monitor_targets.c.name == name).values(health=health)
        )


def add_samples(store: MonitorStore, rows: Iterable[tuple[str, int, bool, float]]) -> None:
    """(target, at ms, ok, latency s) rows as raw probe samples."""
    store.add_samples(
        [
            {"target": t, "at": at, "ok": ok, "degraded": False, "latency": latency}
            for t, at, ok, latency in rows
        ]
    )


# -- a served desk with a status page and things that must never show on it --------------------

LEAKS = {
    "internal comment": "INTERNAL-COMMENT-7f3a",
    "incident description": "INTERNAL-DESCRIPTION-91c2",
    "error details": "ERROR-DETAIL-5d1e",
    "non-incident issue": "SECRET-BUG-TITLE-c0de",
    "hidden service incident": "VAULT-HIDDEN-INCIDENT",
    "hidden service window": "VAULT-MAINT-SECRET",
    "hidden service": "vault-internal",
    "channel configuration": "SECRET-HOOK-e11f",
    "assignee": "alice-oncall",
}
PUBLIC_UPDATE = "We are restarting the identity service."


@dataclass
class PublicSite:
    base: str
    desk: Desk
    secrets: dict[str, str]
    incident: int

    def leaks_in(self, text: str) -> list[str]:
        found = [what for what, marker in LEAKS.items() if marker in text]
        found += [f"{role} token" for role, secret in self.secrets.items() if secret in text]
        return found


@contextmanager
def public_site(folder: Path, *, enabled: bool = True) -> Iterator[PublicSite]:
    """A desk in `folder` served on 127.0.0.1, its passmuster.toml turning the page on, seeded
    with an incident on a shown service and things outsiders must not see."""
    (folder / "passmuster.toml").write_text(
        f"""
[status]
enabled = {"true" if enabled else "false"}
title = "Acme status"
hidden = ["vault-internal"]
[status.groups]
Core = ["identity", "billing"]

[monitor.notify.ops]
kind = "webhook"
url = "https://hooks.example.com/{LEAKS["channel configuration"]}"
""",
        encoding="utf-8",
    )
    url = f"sqlite:///{folder / 'desk.db'}"
    desk = Desk.connect(url)
    try:
        secrets = make_tokens(desk)
        for name in ("identity", "billing", "vault-internal"):
            desk.ensure_service(Service(name=name))
        store = MonitorStore(desk.engine)
        now_ms = int(time.time() * 1000)
        add_targets(store, ("identity", "billing", "vault-internal"), now_ms)
        add_samples(
            store,
            [
                (t, now_ms - n * 60_000, not (t == "identity" and n < 5), 0.02)
                for t in ("identity", "billing", "vault-internal")
                for n in range(1, 60)
            ],
        )
        set_health(store, "identity", "down")
        set_health(store, "billing", "up")
        incident = desk.file(
            IssueDraft(
                title="identity is down",
                type=IssueType.INCIDENT,
                services=["identity"],
                description=LEAKS["incident description"],
                error_details=[LEAKS["error details"] + " token=" + secrets["admin"]],
                assignee=LEAKS["assignee"],
            ),
            actor="monitor",
        )
        desk.comment(incident.number, LEAKS["internal comment"], actor="alice")
        post_update(desk, incident.number, "identified", PUBLIC_UPDATE, actor="alice")
        desk.file(
            IssueDraft(
                title=LEAKS["hidden service incident"],
                type=IssueType.INCIDENT,
                services=["vault-internal"],
            ),
            actor="monitor",
        )
        desk.file(IssueDraft(title=LEAKS["non-incident issue"], services=["billing"]), actor="bob")
        soon = datetime.now(UTC) + timedelta(hours=2)
        schedule(
            desk,
            message="Database upgrade tonight",
            services=["billing"],
            starts_at=soon,
            ends_at=soon + timedelta(hours=1),
            actor="alice",
        )
        schedule(
            desk,
            message=LEAKS["hidden service window"],
            services=["vault-internal"],
            starts_at=soon,
            ends_at=soon + timedelta(hours=1),
            actor="alice",
        )
        settings = ServeSettings(database_url=url, platform_root=folder, live_poll_interval=0.05)
        with serve_in_thread(create_app(settings)) as base:
            yield PublicSite(base, desk, secrets, incident.number)
    finally:
        desk.close()
