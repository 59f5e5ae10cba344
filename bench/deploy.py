"""Deployments benchmark: passmuster's overhead on a health-gated rollout, and how fast the
failure classifiers read logs.

1. **Rollout overhead.** A generated platform of 50 services in 5 waves of 10 (each service
   depends on two of the wave before it); every service is a real process (a small asyncio HTTP
   server that waits `--delay` seconds, as a service warming up, then answers /healthz). The
   same platform is rolled out by
   - the peer: a minimal script that starts each wave's processes and polls each port every 5 ms
     (what a hand-written `deploy-all-services.sh` does at best; it records nothing), and
   - `passmuster deploy --parallel 10`: plan, health probes, every attempt recorded in a SQLite
     desk, measured inside the process (the rollout) and as the whole command (Python start,
     configuration, catalog discovery, the desk, versions).
   Overhead = passmuster's time − the peer's; each measured `--runs` times, interleaved.
2. **Classifier throughput.** 100 MB of generated service logs (uvicorn and JSON access lines,
   start-up chatter, and every failure class's tracebacks and messages, 1 line in 40), read as
   attempts of 200 lines (what a deploy keeps) and as one 100 MB text; the peer is `grep -c -E`
   with the classifiers' trigger phrases on the same file.

    python -m bench deploy [--runs N] [--services N] [--delay S] [--log-mb N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WAVES = 5

SERVICE = r"""
import asyncio, sys, time
port, delay = int(sys.argv[1]), float(sys.argv[2])
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
class P(asyncio.Protocol):
    def connection_made(self, t): self.t = t
    def data_received(self, d):
        if b"\r\n\r\n" in d: self.t.write(RESP); self.t.close()
async def main():
    await asyncio.sleep(delay)
    server = await asyncio.get_running_loop().create_server(P, "127.0.0.1", port)
    print("ready", flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


def _free_ports(count: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    return ports


def make_platform(root: Path, services: int, delay: float) -> dict[str, object]:
    """A compose file and passmuster.toml for `services` fake services in WAVES waves."""
    root.mkdir(parents=True, exist_ok=True)
    script = root / "service.py"
    script.write_text(SERVICE)
    ports = _free_ports(services)
    per_wave = max(services // WAVES, 1)
    names = [f"svc{i:02d}" for i in range(services)]
    waves = [names[i : i + per_wave] for i in range(0, services, per_wave)]
    rng = random.Random(7)
    deps: dict[str, list[str]] = {}
    for index, wave in enumerate(waves):
        for name in wave:
            deps[name] = sorted(rng.sample(waves[index - 1], 2)) if index else []
    compose = ["services:"]
    toml = [
        "[deploy]",
        'runner = "command"',
        f'command = "{sys.executable} {script} {{port}} {delay} {{service}}"',
        "timeout = 60",
        f"parallel = {per_wave}",
    ]
    for name, port in zip(names, ports, strict=True):
        compose += [f"  {name}:", f"    image: bench/{name}", f'    ports: ["{port}:{port}"]']
        if deps[name]:
            compose.append(f"    depends_on: [{', '.join(deps[name])}]")
        toml += [
            f"[deploy.services.{name}]",
            f"port = {port}",
            f'health = "http://127.0.0.1:{port}/healthz"',
        ]
    (root / "docker-compose.yml").write_text("\n".join(compose) + "\n")
    (root / "passmuster.toml").write_text("\n".join(toml) + "\n")
    return {"script": script, "ports": dict(zip(names, ports, strict=True)), "waves": waves}


def peer_rollout(spec: dict[str, object], delay: float) -> float:
    """Start each wave, poll every port every 5 ms, go on when the wave answers."""
    ports: dict[str, int] = spec["ports"]  # type: ignore[assignment]
    started: list[subprocess.Popen[bytes]] = []
    begun = time.perf_counter()
    try:
        for wave in spec["waves"]:  # type: ignore[attr-defined]
            for name in wave:
                started.append(
                    subprocess.Popen(
                        [sys.executable, str(spec["script"]), str(ports[name]), str(delay)],
                        stdout=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
            waiting = set(wave)
            while waiting:
                for name in list(waiting):
                    with socket.socket() as sock:
                        if sock.connect_ex(("127.0.0.1", ports[name])) == 0:
                            waiting.discard(name)
                if waiting:
                    time.sleep(0.005)
        return time.perf_counter() - begun
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def passmuster_rollout(root: Path) -> tuple[float, float, int]:
    """(rollout seconds measured in-process, whole command seconds, attempts recorded)."""
    from passmuster.deploy import processes
    from passmuster.deploy.configuration import load_deploy_setup
    from passmuster.deploy.operations import plan_for, stop_services, versions_for
    from passmuster.deploy.rollout import Rollout
    from passmuster.usecases.deployments import DeployLog, history
    from passmuster.usecases.desk import Desk

    shutil.rmtree(root / ".passmuster", ignore_errors=True)
    with Desk.init(root) as desk:
        setup = load_deploy_setup(root)
        plan = plan_for(setup)
        log = DeployLog(desk, actor="bench")
        versions = versions_for(setup, plan.services)
        begun = time.perf_counter()
        result = asyncio.run(
            Rollout(setup, plan, log, versions=versions).run(owner=processes.identity(os.getpid()))
        )
        rollout = time.perf_counter() - begun
        recorded = len(history(desk, limit=1000))
        assert not result.failed, [f.attempt.reason for f in result.failed]
        stop_services(setup)
    # The whole command, as a person runs it.
    shutil.rmtree(root / ".passmuster", ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "PASSMUSTER_DATABASE_URL"}
    subprocess.run(
        [sys.executable, "-m", "passmuster", "init"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    begun = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "passmuster", "deploy"], cwd=root, env=env, capture_output=True
    )
    command = time.perf_counter() - begun
    subprocess.run(
        [sys.executable, "-m", "passmuster", "deploy", "stop"],
        cwd=root,
        env=env,
        capture_output=True,
    )
    if done.returncode != 0:
        raise SystemExit(done.stdout.decode() + done.stderr.decode())
    return rollout, command, recorded


def rollout_benchmark(runs: int, services: int, delay: float) -> None:
    with tempfile.TemporaryDirectory(prefix="pm-bench-deploy-") as tmp:
        root = Path(tmp) / "platform"
        spec = make_platform(root, services, delay)
        peer: list[float] = []
        inner: list[float] = []
        whole: list[float] = []
        for run in range(runs):
            peer.append(peer_rollout(spec, delay))
            rollout, command, recorded = passmuster_rollout(root)
            inner.append(rollout)
            whole.append(command)
            print(
                f"  run {run + 1}: peer {peer[-1]:.2f} s, passmuster rollout {rollout:.2f} s, "
                f"whole command {command:.2f} s ({recorded} attempts recorded)",
                flush=True,
            )
        p, r, w = statistics.median(peer), statistics.median(inner), statistics.median(whole)
        print(f"services: {services} in {WAVES} waves, start delay {delay:g} s each")
        print(f"floor (waves x delay): {WAVES * delay:.2f} s")
        print(f"peer (minimal script): median {p:.2f} s")
        print(f"passmuster rollout:    median {r:.2f} s  overhead {r - p:+.2f} s ({r / p:.2f}x)")
        print(f"passmuster command:    median {w:.2f} s  overhead {w - p:+.2f} s ({w / p:.2f}x)")


# --- classifiers ------------------------------------------------------------------------------

NOISE = [
    'INFO:     127.0.0.1:{port} - "GET /api/v1/items/{n} HTTP/1.1" 200 OK',
    '{{"ts": "2026-03-02T10:{m:02d}:{s:02d}Z", "level": "info", "msg": "request", "path": '
    '"/api/v1/tenants/{n}", "status": 200, "ms": {ms}}}',
    "INFO:     Started server process [{n}]",
    "INFO:     Waiting for application startup.",
    "billing-1  | 2026-03-02 10:{m:02d}:{s:02d},{ms:03d} INFO sqlalchemy.engine SELECT 1",
    "DEBUG worker heartbeat {n} ok queue=default depth={ms}",
]
FAILURES = [
    'Traceback (most recent call last):\n  File "/app/app/main.py", line 5, in <module>\n'
    "    from fastapi import FastAPI, HTTPStatus\n"
    "ImportError: cannot import name 'HTTPStatus' from 'fastapi' (/x/fastapi/__init__.py)",
    "ERROR:    [Errno 98] error while attempting to bind on address ('0.0.0.0', 8004): "
    "address already in use",
    'Traceback (most recent call last):\n  File "/app/config.py", line 4, in <module>\n'
    "    URL = os.environ[\"DATABASE_URL\"]\nKeyError: 'DATABASE_URL'",
    'Traceback (most recent call last):\n  File "/app/app/main.py", line 22, in <module>\n'
    "    def mine(user = Depends(get_current_user)):\n"
    "NameError: name 'get_current_user' is not defined",
    "ERROR: No matching distribution found for fastapi==99.0",
    "redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.",
    "Killed",
]
TRIGGERS = (
    "already in use|EADDRINUSE|port is already allocated|Error: |Traceback|NameError|"
    "ImportError|ModuleNotFoundError|KeyError|No matching distribution|failed to solve|"
    "Connection refused|OOMKilled|Out of memory|^Killed$"
)


def make_logs(path: Path, megabytes: int) -> int:
    rng = random.Random(11)
    target = megabytes * 1024 * 1024
    written = 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            lines = []
            for _ in range(2000):
                if rng.random() < 1 / 40:
                    lines.append(rng.choice(FAILURES))
                else:
                    lines.append(
                        rng.choice(NOISE).format(
                            port=rng.randint(30000, 60000),
                            n=rng.randint(1, 99999),
                            m=rng.randint(0, 59),
                            s=rng.randint(0, 59),
                            ms=rng.randint(0, 999),
                        )
                    )
            chunk = "\n".join(lines) + "\n"
            out.write(chunk)
            written += len(chunk.encode())
    return written


def classifier_benchmark(megabytes: int) -> None:
    from passmuster.core.deploy.attempts import Result
    from passmuster.core.deploy.classify import Evidence
    from passmuster.usecases.deploy_failures import build_classifiers

    catalogue = build_classifiers(plugins=False)
    with tempfile.TemporaryDirectory(prefix="pm-bench-logs-") as tmp:
        path = Path(tmp) / "services.log"
        size = make_logs(path, megabytes)
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        attempts = ["\n".join(lines[i : i + 200]) for i in range(0, len(lines), 200)]
        found: dict[str, int] = {}
        begun = time.perf_counter()
        for output in attempts:
            failure = catalogue.classify(Evidence("svc", Result.FAILED, 1, output))
            found[failure.name] = found.get(failure.name, 0) + 1
        chunked = time.perf_counter() - begun
        begun = time.perf_counter()
        whole = catalogue.classify(Evidence("svc", Result.FAILED, 1, text))
        single = time.perf_counter() - begun
        grep = shutil.which("grep")
        grep_time = None
        if grep is not None:
            begun = time.perf_counter()
            subprocess.run([grep, "-c", "-E", TRIGGERS, str(path)], capture_output=True)
            grep_time = time.perf_counter() - begun
        mb = size / 1024 / 1024
        print(f"logs: {mb:.0f} MB, {len(lines):,} lines, {len(attempts):,} attempts of 200 lines")
        print(
            f"classified as attempts: {chunked:.2f} s = {mb / chunked:.1f} MB/s, "
            f"{len(attempts) / chunked:,.0f} attempts/s; classes {dict(sorted(found.items()))}"
        )
        print(f"classified as one text: {single:.2f} s = {mb / single:.1f} MB/s ({whole.name})")
        if grep_time is not None:
            print(
                f"peer grep -c -E (trigger phrases only): {grep_time:.2f} s = "
                f"{mb / grep_time:.1f} MB/s; passmuster/grep time: attempts "
                f"{chunked / grep_time:.1f}x, one text {single / grep_time:.1f}x"
            )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench deploy")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--log-mb", type=int, default=100)
    parser.add_argument("--skip-rollout", action="store_true")
    parser.add_argument("--skip-classifiers", action="store_true")
    args = parser.parse_args(argv)
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    if not args.skip_rollout:
        rollout_benchmark(args.runs, args.services, args.delay)
    if not args.skip_classifiers:
        classifier_benchmark(args.log_mb)
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(sys.argv[1:])
