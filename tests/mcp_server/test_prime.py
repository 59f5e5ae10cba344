"""`passmuster prime`: what an agent needs, in at most 60 lines, with configs that parse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from passmuster.mcp.workflow import prime
from passmuster.usecases.desk import Desk


def test_prime_fits_in_60_lines_and_its_snippets_are_valid_json(tmp_path: Path) -> None:
    Desk.init(tmp_path).close()
    done = subprocess.run(
        [sys.executable, "-m", "passmuster", "prime", "--url", "http://desk:8000/mcp"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PASSMUSTER_DATABASE_URL"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) <= 60
    assert str(tmp_path) in lines[0]
    for tool in ("ready", "claim", "renew", "release", "transition", "findings"):
        assert tool in done.stdout
    configs = [json.loads(line) for line in lines if line.strip().startswith('{"')]
    stdio = next(c for c in configs if "mcpServers" in c)["mcpServers"]["passmuster"]
    assert Path(stdio["command"]).exists() and stdio["args"][-1] == "mcp"
    assert "http://desk:8000/mcp" in done.stdout


def test_prime_for_a_command_started_through_python_keeps_its_arguments() -> None:
    text = prime(["/usr/bin/python3", "-m", "passmuster"], desk="sqlite:///x.db")
    assert '"command": "/usr/bin/python3", "args": ["-m", "passmuster", "mcp"]' in text
    assert len(text.splitlines()) <= 60
