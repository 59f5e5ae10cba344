"""A small platform of real processes (fake_service.py) for the deploy tests.

Every service runs `python fake_service.py PORT …` through the command runner, on a free port,
with its health probe on that port; what a test leaves running is stopped afterwards.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from passmuster.usecases.desk import Desk

SCRIPT = Path(__file__).with_name("fake_service.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class FakePlatform:
    root: Path
    ports: dict[str, int] = field(default_factory=dict)

    def write(
        self,
        services: Mapping[str, Mapping[str, object]],
        *,
        timeout: float = 5.0,
        settle: float = 0.3,
        extra: str = "",
    ) -> None:
        """`services`: name -> {"deps": [...], "args": "--delay 0.1", "health": False}."""
        compose = ["services:"]
        toml = [
            "[deploy]",
            'runner = "command"',
            f'command = "{sys.executable} {SCRIPT} {{port}} --name {{service}}"',
            f"timeout = {timeout}",
            f"settle = {settle}",
            extra,
        ]
        for name, spec in services.items():
            port = self.ports.setdefault(name, free_port())
            compose += [
                f"  {name}:",
                f"    image: example/{name}:1",
                f'    ports: ["{port}:{port}"]',
            ]
            deps = list(spec.get("deps", []))  # type: ignore[call-overload]
            if deps:
                compose.append(f"    depends_on: [{', '.join(deps)}]")
            command = f"{sys.executable} {SCRIPT} {{port}} {spec.get('args', '')}"
            toml += [
                f"[deploy.services.{name}]",
                f"port = {port}",
                f"command = {json.dumps(command)}",
            ]
            if spec.get("health", True):
                toml.append(f'health = "http://127.0.0.1:{port}/healthz"')
            else:
                toml.append('health = "none"')
        (self.root / "docker-compose.yml").write_text("\n".join(compose) + "\n")
        (self.root / "passmuster.toml").write_text("\n".join(toml) + "\n")


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[FakePlatform]:
    root = tmp_path / "platform"
    root.mkdir()
    found = FakePlatform(root)
    yield found
    from passmuster.deploy import state
    from passmuster.deploy.setup import DESK_DIR, STATE_DIR

    state_dir = root / DESK_DIR / STATE_DIR
    for tracked in state.every(state_dir):
        state.stop(state_dir, tracked.service, grace=1.0)


@pytest.fixture
def desk(platform: FakePlatform) -> Iterator[Desk]:
    with Desk.init(platform.root) as opened:
        yield opened
