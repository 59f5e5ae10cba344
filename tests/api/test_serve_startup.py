"""What `passmuster serve` imports before it answers its first `/healthz`, and what its first API
request adds: start-up is guarded by structure, not timing (bench/RESULTS.md, "Server start-up").

The server runs in a fresh interpreter, as a user starts it, on a real SQLite desk; once `/healthz`
answers, and again once a list of issues has, the probe reports the modules loaded so far. Each
module listed costs milliseconds to tens of milliseconds to import and is needed only by a later
request (the pages, /metrics, /mcp, the routers of the API and their schemas, the first runtime
error sent), or, for Typer, not by `serve` at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import passmuster
from api.helpers import make_tokens
from api.live_server import free_port
from passmuster.api.routes import ROUTERS
from passmuster.usecases.desk import Desk
from passmuster.web.site import ROUTERS as PAGE_ROUTERS

API_ROUTE_MODULES = tuple(f"passmuster.api.routes.{module}" for module, _ in ROUTERS)
PAGE_MODULES = tuple(f"passmuster.web.{module}" for module, _ in PAGE_ROUTERS)
NOT_AT_START = (
    "typer",
    "rich",
    "jinja2",
    "markdown_it",
    "mcp",
    "prometheus_client",
    "pydantic.v1",
    "passmuster.api.schemas",
    "passmuster.storage.monitor_store",
    "passmuster.storage.error_store",
    "passmuster.usecases.runtime_errors",
    *API_ROUTE_MODULES,
    *PAGE_MODULES,
)

PROBE = """
import gc, json, os, sys, threading, time, urllib.request
port, token = int(sys.argv[1]), sys.argv[2]

def get(path, **headers):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read().decode()

def report():
    while True:
        try:
            body = get("/healthz")
            break
        except OSError:
            time.sleep(0.02)
    at_start = sorted(sys.modules)
    listed = json.loads(get("/api/v1/issues?limit=1", Authorization=f"Bearer {token}"))
    after = sorted(sys.modules)
    report = {"body": body, "at_start": at_start, "listed": listed, "after": after}
    print(json.dumps({**report, "collecting": gc.isenabled()}))
    sys.stdout.flush()
    os._exit(0)

threading.Thread(target=report, daemon=True).start()
from passmuster.cli.main import main
main(["serve", "--port", str(port), "--log-level", "warning"])
"""


def _loaded(names: tuple[str, ...], modules: list[str]) -> list[str]:
    return [name for name in names if any(m == name or m.startswith(name + ".") for m in modules)]


def _serve_and_probe(tmp_path: Path) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    desk = Desk.connect(url)
    token = make_tokens(desk)["reader"]
    desk.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSMUSTER_")}
    env["PASSMUSTER_DATABASE_URL"] = url
    # The passmuster under test, whatever the folder the server runs in.
    source = str(Path(passmuster.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(free_port()), token],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_serve_answers_healthz_before_importing_what_later_requests_need(tmp_path: Path) -> None:
    report = _serve_and_probe(tmp_path)
    assert json.loads(report["body"]) == {"status": "ok"}
    assert _loaded(NOT_AT_START, report["at_start"]) == []
    assert "passmuster.api.app" in report["at_start"]  # the probe did see a started server
    assert report["collecting"]  # off while the server started, on once it serves
    # The first request to the API imports the router it reaches, and no router it passes by.
    assert report["listed"]["items"] == []
    assert _loaded(API_ROUTE_MODULES + PAGE_MODULES, report["after"]) == [
        "passmuster.api.routes.issues"
    ]
