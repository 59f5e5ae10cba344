"""What the deploy tests share: a small platform of real processes (fake_service.py)."""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from passmuster.deploy import processes

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


def process_gone(pid: int, *, within: float = 10) -> bool:
    """Whether the process `pid` (this very process, not a later one given its number) ends
    within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if processes.alive(processes.identity(pid)) is not True:
            return True
        time.sleep(0.05)
    return False
