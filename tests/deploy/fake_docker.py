"""A stand-in for the `docker` client, for the compose runner's tests.

There is no Docker engine where the tests run (only the client, without the compose plugin), so
this script answers the few `docker compose` commands the runner sends, the way compose would:

    docker compose version                  -> a version line, exit 0
    docker compose up -d --build SERVICE    -> per FAKE_DOCKER_<SERVICE> (upper case, - as _):
                                               "serve:PORT" starts fake_service.py on PORT in the
                                               background and exits 0; "build-fails" prints a
                                               BuildKit failure and exits 17
    docker compose logs ... SERVICE         -> what FAKE_DOCKER_LOGS_<SERVICE> says
    docker compose stop SERVICE             -> stops what `up` started

Every call is appended to $FAKE_DOCKER_STATE/calls (argv and working folder).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

STATE = Path(os.environ["FAKE_DOCKER_STATE"])
SERVICE_SCRIPT = Path(__file__).with_name("fake_service.py")


def main() -> int:
    args = sys.argv[1:]
    STATE.mkdir(parents=True, exist_ok=True)
    with (STATE / "calls").open("a") as calls:
        calls.write(json.dumps({"argv": args, "cwd": os.getcwd()}) + "\n")
    if args[:2] == ["compose", "version"]:
        print("Docker Compose version v2.29.7")
        return 0
    if args[:1] != ["compose"] or len(args) < 3:
        print(f"unknown command: docker {' '.join(args)}", file=sys.stderr)
        return 1
    service = args[-1]
    key = service.upper().replace("-", "_")
    if args[1] == "up":
        plan = os.environ.get(f"FAKE_DOCKER_{key}", "")
        if plan == "build-fails":
            print(f" => ERROR [{service} 4/6] RUN pip install --no-cache-dir -r requirements.txt")
            print("ERROR: No matching distribution found for fastapi==99.0")
            print(
                'failed to solve: process "/bin/sh -c pip install --no-cache-dir -r '
                'requirements.txt" did not complete successfully: exit code: 1'
            )
            return 17
        port = plan.split(":", 1)[1]
        started = subprocess.Popen(
            [sys.executable, str(SERVICE_SCRIPT), port],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        (STATE / f"{service}.pid").write_text(str(started.pid))
        print(f" Container platform-{service}-1  Started")
        return 0
    if args[1] == "logs":
        print(os.environ.get(f"FAKE_DOCKER_LOGS_{key}", f"{service}-1  | nothing to say"))
        return 0
    if args[1] == "stop":
        pid_file = STATE / f"{service}.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(pid_file.read_text()), signal.SIGTERM)
            pid_file.unlink()
        print(f" Container platform-{service}-1  Stopped")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
