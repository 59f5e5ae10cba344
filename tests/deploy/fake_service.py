"""A small service for the deploy tests, started as a real process.

    python fake_service.py PORT [--delay S] [--crash TEXT] [--exit N] [--hang] [--child]
                                [--status CODE] [--pidfile PATH]

It serves GET /healthz (answering --status, default 200) after --delay seconds; --crash prints
TEXT and exits with --exit (default 1) instead; --hang never listens; --child starts a
grandchild that sleeps, to prove the deploy stops the whole process group. --pidfile records
the pids it and its child run as.
"""

from __future__ import annotations

import argparse
import http.server
import os
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--crash")
    parser.add_argument("--exit", type=int, default=1)
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--pidfile")
    parser.add_argument("--name")
    args = parser.parse_args()
    pids = [os.getpid()]
    if args.child:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        pids.append(child.pid)
    if args.pidfile:
        with open(args.pidfile, "w") as handle:
            handle.write(" ".join(str(p) for p in pids))
    print(f"starting on {args.port}", flush=True)
    if args.crash:
        print(args.crash, flush=True)
        sys.exit(args.exit)
    if args.hang:
        time.sleep(600)
    time.sleep(args.delay)
    status = args.status

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
