"""Services the deploy left running on this machine: one small JSON file per service under
`.passmuster/deploy/services/`, so `deploy stop`, `restart`, `status` and the next deploy find
the process group of a service started by an earlier `passmuster` process."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from passmuster.deploy.processes import alive, stop_named


@dataclass(frozen=True, slots=True)
class Tracked:
    service: str
    pgid: int
    identity: str  # host:pid:start of the group's leader
    port: int | None
    log: str
    started_at: str  # ISO 8601 UTC
    attempt: int | None

    @property
    def running(self) -> bool:
        return alive(self.identity) is True


def _folder(state_dir: Path) -> Path:
    return state_dir / "services"


def track(state_dir: Path, tracked: Tracked) -> None:
    folder = _folder(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{tracked.service}.json"
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(tracked), indent=2), encoding="utf-8")
    os.replace(temporary, target)


def find(state_dir: Path, service: str) -> Tracked | None:
    try:
        data = json.loads((_folder(state_dir) / f"{service}.json").read_text(encoding="utf-8"))
        return Tracked(**data)
    except (OSError, ValueError, TypeError):
        return None


def every(state_dir: Path) -> list[Tracked]:
    folder = _folder(state_dir)
    if not folder.is_dir():
        return []
    found = [find(state_dir, path.stem) for path in sorted(folder.glob("*.json"))]
    return [t for t in found if t is not None]


def forget(state_dir: Path, service: str) -> None:
    with contextlib.suppress(OSError):
        (_folder(state_dir) / f"{service}.json").unlink()


def stop(state_dir: Path, service: str, *, grace: float = 5.0) -> bool:
    """Stop the service's tracked process group; True when something was running."""
    tracked = find(state_dir, service)
    if tracked is None:
        return False
    was_running = tracked.running
    stopped = stop_named(tracked.pgid, tracked.identity, grace=grace)
    if stopped:
        forget(state_dir, service)
    return was_running
