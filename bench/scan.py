"""Scanner benchmark: full scans of generated platforms of 10, 100 and 1,000 services.

Each platform has one compose file, and per service a Dockerfile, a requirements file that
includes a shared one, and a small FastAPI app, with a few deliberate defects so rules have work.
In the same run the compose rules are timed against dclint (npm `dclint`, installed here into
bench/.work with npm) on the same compose file.

    python -m bench scan [--sizes 10,100,1000] [--repeat 3] [--no-dclint] [--heavy] [--safety]
    python -m bench scan --record [--findings 3000] [--repeat 3]

`--heavy` instead scans a generated ~400 MB repository (a 12-service platform with committed
virtualenvs, node_modules and data files, written to a temporary folder and deleted after) with
`passmuster scan` in its own process, and prints its wall time, CPU time and peak memory (must
hold: <= 10 s, <= 250 MB). `--safety` times what
reading a repository defensively costs on the 1,000-service platform (the safe reader, the YAML
nesting walk, the Python depth check) against the plain operations and the whole scan.
`--record` times recording a scan's findings into a fresh SQLite desk (every finding opens an
issue), then the same findings again (every issue still open: each only counts), and counts
the timeline events each recording added.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import shutil
import subprocess
import time
from pathlib import Path

WORK = Path(__file__).resolve().parent / ".work"
COMPOSE_RULES = ["PORT", "REF", "ENV"]  # the rules that read compose files
DCLINT_VERSION = "3"


def generate(root: Path, services: int) -> Path:
    """Write a platform of `services` services under `root` (replacing what was there)."""
    if root.exists():
        shutil.rmtree(root)
    (root / "services").mkdir(parents=True)
    (root / "requirements.shared.txt").write_text(
        "fastapi==0.115.6\npydantic==2.10.4\nhttpx==0.28.1\nuvicorn==0.34.0\nrequests>=2.32.2\n"
    )
    (root / ".env.example").write_text("LOG_LEVEL=info\nJWT_SECRET=change_me\n")
    lines = ["services:"]
    for i in range(services):
        name = f"svc{i:04d}"
        port = 10000 + i
        clash = port - 1 if i % 50 == 49 else port  # a host-port clash every 50 services
        nxt = (i + 1) % services
        lines += [
            f"  {name}:",
            "    build:",
            "      context: .",
            f"      dockerfile: services/{name}/Dockerfile",
            "    ports:",
            f'      - "{clash}:{port}"',
            "    environment:",
            "      LOG_LEVEL: ${LOG_LEVEL:-info}",
            f'      PORT: "{port}"',
            f"      DATABASE_URL: postgresql+asyncpg://{name}:{name}@postgres:5432/{name}",
            f"      NEXT_SERVICE_URL: http://svc{nxt:04d}:{10000 + nxt}",
            "    depends_on:",
            "      - postgres",
            "    healthcheck:",
            f'      test: ["CMD", "curl", "-f", "http://localhost:{port}/healthz"]',
            "      interval: 10s",
        ]
        folder = root / "services" / name
        (folder / "app").mkdir(parents=True)
        (folder / "Dockerfile").write_text(
            "FROM python:3.11-slim\nWORKDIR /app\n"
            "COPY requirements.shared.txt /requirements.shared.txt\n"
            f"COPY services/{name}/requirements.txt ./services/{name}/requirements.txt\n"
            f"RUN pip install --no-cache-dir -r services/{name}/requirements.txt\n"
            f"COPY services/{name}/app ./app\nEXPOSE {port}\n"
            f'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "{port}"]\n'
        )
        extra = "docker==6.1.3\n" if i % 25 == 0 else "asyncpg==0.30.0\n"
        (folder / "requirements.txt").write_text(f"-r ../../requirements.shared.txt\n{extra}")
        (folder / "app" / "__init__.py").write_text("")
        bad_import = ", HTTPStatus" if i % 40 == 0 else ""
        (folder / "app" / "main.py").write_text(
            f'"""Service {name}."""\n\nimport os\n\nimport httpx\n'
            f"from fastapi import FastAPI, HTTPException{bad_import}\n\n"
            f'app = FastAPI(title="{name}")\n'
            f'NEXT = os.environ.get("NEXT_SERVICE_URL", "http://localhost:{port + 1}")\n\n\n'
            '@app.get("/healthz")\nasync def healthz() -> dict[str, str]:\n'
            '    return {"status": "ok"}\n\n\n'
            '@app.get("/items/{item_id}")\nasync def item(item_id: int) -> dict[str, int]:\n'
            "    if item_id < 0:\n        raise HTTPException(status_code=404)\n"
            '    return {"id": item_id}\n'
        )
    lines += [
        "  postgres:",
        "    image: postgres:16-alpine",
        "    environment:",
        "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-postgres}",
        "    volumes:",
        "      - ./initdb:/docker-entrypoint-initdb.d:ro",
    ]
    # Each service logs in as the owner of its own database, created on the first start.
    (root / "initdb").mkdir()
    (root / "initdb" / "01-databases.sql").write_text(
        "".join(
            f"CREATE ROLE svc{i:04d} LOGIN PASSWORD 'svc{i:04d}';\n"
            f"CREATE DATABASE svc{i:04d} OWNER svc{i:04d};\n"
            for i in range(services)
        )
    )
    (root / "docker-compose.yml").write_text("\n".join(lines) + "\n")
    return root


HEAVY_MB = 400


def generate_heavy(root: Path, megabytes: int = HEAVY_MB) -> Path:
    """A platform repository padded to about `megabytes` MB the way real ones are: a
    committed virtualenv (with pyvenv.cfg), one without it named `env/` (its site-packages),
    a service's own `venv/`, node_modules of a frontend and binary data."""
    generate(root, 12)
    chunk = 64 * 1024
    python_file = ("def f_{n}(x):\n    return x * {n}\n\n" * 3000)[:chunk]
    js_file = ("function f{n}(x) {{ return x * {n}; }}\n" * 3000)[:chunk]
    budget = megabytes * 1024 * 1024
    share = budget // 5
    trees = [
        (root / ".venv" / "lib" / "python3.11" / "site-packages", python_file, ".py"),
        (root / "tools" / "env" / "lib" / "python3.11" / "site-packages", python_file, ".py"),
        (root / "services" / "svc0001" / "venv" / "lib", python_file, ".py"),
        (root / "frontend" / "node_modules", js_file, ".js"),
    ]
    (root / ".venv").mkdir(parents=True, exist_ok=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    for folder, template, suffix in trees:
        for index in range(share // chunk):
            package = folder / f"pkg{index // 100:03d}"
            package.mkdir(parents=True, exist_ok=True)
            (package / f"mod{index % 100:03d}{suffix}").write_text(template.format(n=index))
    data = root / "data"
    data.mkdir(exist_ok=True)
    block = os.urandom(1024 * 1024)
    for index in range(share // len(block)):
        (data / f"sample{index:03d}.bin").write_bytes(block)
    return root


def heavy(repeat: int) -> None:
    """Scan the generated heavy repository in a fresh process: wall time, CPU time and peak RSS."""
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="passmuster-heavy-") as tmp:
        root = generate_heavy(Path(tmp) / "repo")
        size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 1024 / 1024
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "passmuster",
                    "scan",
                    str(root),
                    "--format",
                    "json",
                    "--no-record",
                    "--no-progress",
                    "--output",
                    os.devnull,
                ],
                stdout=subprocess.DEVNULL,
            )
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
            runs.append((wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, status))
    seconds, cpu, peak, status = min(runs)
    print(
        f"  heavy repository ({size:.0f} MB on disk, venvs, node_modules, data): "
        f"`passmuster scan` {seconds:.2f} s wall, {cpu:.2f} s CPU, peak {peak:.0f} MiB "
        f"(exit {os.waitstatus_to_exitcode(status)}; best of {repeat}, a fresh process each, "
        f"start-up included; load average {os.getloadavg()[0]:.1f})"
    )


def safety(repeat: int, size: int = 1000) -> None:
    """The cost of the defences against hostile repositories, on the generated platform:
    every file read through the safe reader against a plain `open().read()`, the YAML nesting
    walk against the whole YAML load, and the Python depth check against parsing."""
    import ast

    from ruamel.yaml import YAML

    from passmuster.scanner.config import ScanConfig
    from passmuster.scanner.context import discover
    from passmuster.scanner.context.model import MAX_PYTHON_NESTING, _deeper_than
    from passmuster.scanner.context.reading import RepoReader
    from passmuster.scanner.context.yamldoc import _check_nesting, _Yaml12Resolver, load_yaml
    from passmuster.scanner.engine import scan

    root = generate(WORK / f"platform-{size}", size).resolve()
    platform = discover(root, ScanConfig())
    paths = sorted(platform.texts)
    text = str(root)

    def plain() -> None:
        for rel in paths:
            with open(os.path.join(text, rel), "rb") as handle:
                handle.read()

    def safe() -> None:
        reader = RepoReader(text)
        for rel in paths:
            reader.read(rel)

    compose = (root / "docker-compose.yml").read_text()

    def nesting() -> None:
        yaml = YAML(typ="safe", pure=False)
        yaml.Resolver = _Yaml12Resolver
        _check_nesting(yaml, compose, "docker-compose.yml")

    sources = [source.text for source in platform.python.values()]
    trees = [ast.parse(source) for source in sources]
    plain_s, _ = _time(plain, repeat)
    safe_s, _ = _time(safe, repeat)
    load_s, _ = _time(lambda: load_yaml(compose, "docker-compose.yml"), repeat)
    walk_s, _ = _time(nesting, repeat)
    parse_s, _ = _time(lambda: [ast.parse(source) for source in sources], repeat)
    depth_s, _ = _time(lambda: [_deeper_than(t, MAX_PYTHON_NESTING) for t in trees], repeat)
    scan_s, _ = _time(lambda: scan(root, ScanConfig()), repeat)
    print(f"  {size} services, {len(paths)} files read; full scan {scan_s:.3f} s")
    print(
        f"  safe reader {safe_s:.3f} s vs plain open/read {plain_s:.3f} s: "
        f"+{safe_s - plain_s:.3f} s ({(safe_s - plain_s) / scan_s:.1%} of the scan)"
    )
    print(
        f"  YAML nesting walk {walk_s:.3f} s within a {load_s:.3f} s load of the compose file "
        f"({walk_s / load_s:.0%} of the load, {walk_s / scan_s:.1%} of the scan)"
    )
    print(
        f"  Python depth check {depth_s:.3f} s vs parsing {parse_s:.3f} s "
        f"({depth_s / parse_s:.0%} of parsing, {depth_s / scan_s:.1%} of the scan)"
    )


def record(repeat: int, findings: int) -> None:
    """Record `findings` findings of the generated platform into a desk, twice."""
    import tempfile

    from passmuster.scanner.config import ScanConfig
    from passmuster.scanner.engine import scan
    from passmuster.scanner.registry import default_registry
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.reconcile import reconcile

    registry = default_registry()
    size = 1000
    while True:
        result = scan(generate(WORK / f"platform-{size}", size), ScanConfig(), registry=registry)
        if len(result.findings) >= findings:
            break
        size = size * findings // len(result.findings) + 10
    result.findings = result.findings[:findings]
    opened: list[tuple[float, float]] = []
    again: list[tuple[float, float]] = []
    events: list[tuple[int, int]] = []
    for run in range(repeat):
        with tempfile.TemporaryDirectory() as tmp, Desk.init(Path(tmp)) as desk:
            timings = []
            counts = []
            for n in (1, 2):
                wall, cpu = time.perf_counter(), time.process_time()
                reconcile(desk, result, registry, scan_id=f"scan-{run}-{n}")
                timings.append((time.perf_counter() - wall, time.process_time() - cpu))
                counts.append(len(desk.events(limit=1_000_000)))
            opened.append(timings[0])
            again.append(timings[1])
            events.append((counts[0], counts[1] - counts[0]))
    first = min(opened, key=lambda t: t[1])
    second = min(again, key=lambda t: t[1])
    print(f"  {findings} findings ({size} services scanned), best of {repeat} by CPU:")
    print(f"  record into a fresh desk (all open): {first[0]:.3f} s wall, {first[1]:.3f} s CPU")
    print(f"  record again (all still open):       {second[0]:.3f} s wall, {second[1]:.3f} s CPU")
    print(f"  timeline events: {events[0][0]} after the first, +{events[0][1]} after the second")
    print(f"  load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def _time(action: object, repeat: int) -> tuple[float, object]:
    timings = []
    result: object = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return min(timings), result


def _install_dclint() -> Path | None:
    binary = WORK / "node_modules" / ".bin" / "dclint"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        return None
    WORK.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(WORK),
            "--no-audit",
            "--no-fund",
            f"dclint@{DCLINT_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 or not binary.exists():
        print(f"  dclint: npm install failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return binary


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench scan")
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-dclint", action="store_true")
    parser.add_argument("--heavy", action="store_true", help="the ~400 MB repository instead")
    parser.add_argument("--safety", action="store_true", help="the defences' cost instead")
    parser.add_argument("--record", action="store_true", help="recording into a desk instead")
    parser.add_argument("--findings", type=int, default=3000)
    args = parser.parse_args(argv)  # flags as --name=value (bench passes only flags)
    if args.record:
        record(args.repeat, args.findings)
        return
    if args.heavy:
        heavy(args.repeat)
        return
    if args.safety:
        safety(args.repeat)
        return

    from passmuster.scanner.config import ScanConfig
    from passmuster.scanner.context import discover
    from passmuster.scanner.engine import scan
    from passmuster.scanner.registry import default_registry

    registry = default_registry()
    print(f"rules: {len(registry)}; cpu: {os.cpu_count()} cores (the scan uses one)")
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for size in sizes:
        root = generate(WORK / f"platform-{size}", size)
        config = ScanConfig()
        # scan() pauses the cyclic GC; time discovery alone the same way.
        gc.disable()
        try:
            discover_s, _ = _time(lambda r=root, c=config: discover(r, c), args.repeat)
        finally:
            gc.enable()
        scan_s, result = _time(lambda r=root, c=config: scan(r, c, registry=registry), args.repeat)
        findings = len(result.findings)  # type: ignore[attr-defined]
        rows.append((size, discover_s, scan_s, findings))
        print(
            f"  {size:5d} services: full scan {scan_s:6.3f} s (discovery {discover_s:6.3f} s), "
            f"{findings} findings, {scan_s / size * 1000:6.2f} ms/service"
        )
    for small, large in itertools.pairwise(rows):
        factor = large[2] / small[2]
        print(
            f"  {small[0]} -> {large[0]} services: time x{factor:.1f} for "
            f"x{large[0] / small[0]:.0f} services (per service x{factor * small[0] / large[0]:.2f};"
            " 1.00 = linear)"
        )
    if args.no_dclint:
        return
    binary = _install_dclint()
    if binary is None:
        print("  dclint: not available (npm missing or install failed)")
        return
    for size in sizes:
        root = WORK / f"platform-{size}"
        compose = root / "docker-compose.yml"
        config = ScanConfig(select=COMPOSE_RULES)
        ours, _ = _time(lambda r=root, c=config: scan(r, c, registry=registry), args.repeat)

        def dclint(path: Path = compose) -> int:
            return subprocess.run(
                [str(binary), str(path)], capture_output=True, text=True, timeout=600
            ).returncode

        theirs, _ = _time(dclint, args.repeat)
        print(
            f"  {size:5d} services, compose rules: passmuster {ours:6.3f} s "
            f"(discovery included), dclint {theirs:6.3f} s (node start-up included); "
            f"dclint/passmuster = {theirs / ours:5.2f}"
        )
