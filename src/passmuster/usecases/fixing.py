"""Apply the scanner's fixes until the platform settles: `passmuster scan --fix`.

One fix may make another finding (or a fix skipped for overlapping) applicable, so fixing is
rounds of scan, plan and write, until a round has nothing to apply or five rounds have run (a
rule whose fix never settles must not loop forever).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import ScanResult, scan
from passmuster.scanner.fixes import FixPlan, plan_fixes, write_fixes
from passmuster.scanner.registry import Registry

MAX_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class FixOutcome:
    """The scan after the last round, and how many findings the rounds fixed."""

    result: ScanResult
    applied: int


def fix_platform(
    root: Path,
    result: ScanResult,
    config: ScanConfig,
    *,
    registry: Registry,
    baseline: set[str] | None = None,
    unsafe: bool = False,
) -> FixOutcome:
    """Write the fixes of `result` (a scan of `root`), scan again, and repeat while fixes apply."""
    plan: FixPlan = plan_fixes(root, result.findings, unsafe=unsafe)
    applied = 0
    rounds = 0
    while plan.applied and rounds < MAX_ROUNDS:
        write_fixes(root, plan)
        applied += len(plan.applied)
        rounds += 1
        result = scan(root, config, registry=registry, baseline=baseline)
        plan = plan_fixes(root, result.findings, unsafe=unsafe)
    return FixOutcome(result, applied)
