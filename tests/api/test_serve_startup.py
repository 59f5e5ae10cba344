"""What `passmuster serve` imports before it answers its first `/healthz`: start-up is guarded by
structure, not timing (bench/RESULTS.md, "Server start-up").

The server runs in a fresh interpreter, as a user starts it, on a real SQLite desk; once `/healthz`
answers, the probe reports the modules loaded so far. Each module listed costs tens of
milliseconds to import and is needed only by a later request (the pages, /metrics, /mcp), or, for
Typer, not by `serve` at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import passmuster
from api.live_server import free_port
from passmuster.usecases.desk import Desk

NOT_AT_START = (
    "typer",
    "rich",
    "jinja2",
    "markdown_it",
    "mcp",
    "prometheus_client",
    "pydantic.v1",
)

PROBE = """
import json, os, sys, threading, time, urllib.request
port = int(sys.argv[1])

def report():
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                body = answer.read().decode()
                break
        except OSError:
            time.sleep(0.02)
    print(json.dumps({"body": body, "modules": sorted(sys.modules)}), flush=True)
    os._exit(0)

threading.Thread(target=report, daemon=True).start()
from passmuster.cli.main import main
main(["serve", "--port", str(port), "--log-level", "warning"])
"""


def test_serve_answers_healthz_before_importing_what_later_requests_need(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    Desk.connect(url).close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    env["PASSMUSTER_DATABASE_URL"] = url
    # The passmuster under test, whatever the folder the server runs in.
    source = str(Path(passmuster.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert json.loads(report["body"]) == {"status": "ok"}
    loaded = [
        name
        for name in NOT_AT_START
        if any(m == name or m.startswith(name + ".") for m in report["modules"])
    ]
    assert loaded == []
    assert "passmuster.api.app" in report["modules"]  # the probe did see a started server
