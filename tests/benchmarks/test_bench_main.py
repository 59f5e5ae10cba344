"""`python -m bench` as a person first runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_help_prints_the_areas_and_runs_nothing() -> None:
    for flag in ("--help", "-h"):
        done = subprocess.run(
            [sys.executable, "-m", "bench", flag],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("usage: python -m bench")
        assert "tracker" in done.stdout and "==" not in done.stdout


def test_an_unknown_area_is_refused_with_the_list() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "choose from tracker" in done.stderr


def test_the_logs_bench_times_the_commands_a_user_runs_on_a_small_log() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "logs", "--issues=30", "--repeat=1", "--one-shot=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "log: 30 issues" in done.stdout
    for step in ("import", "re-import", "export"):
        (line,) = [
            row for row in done.stdout.splitlines() if row.startswith(f"  passmuster {step} ")
        ]
        wall, cpu = (float(cell.removesuffix("ms")) for cell in line.split()[-2:])
        assert wall > 0 and cpu > 0
