"""Apply the edits rules propose, safely, or preview them as a unified diff.

Edits are line-based (`core.findings.Edit`). A fix is applied whole or not at all: when one of its
edits overlaps an edit already taken, or the lines it expects have changed, the whole fix is
skipped (a later round may pick it up). Files are written atomically.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from passmuster.core.findings import Edit, Finding, Fix, Fixit
from passmuster.scanner.context.reading import Unreadable, inside, read_text


@dataclass(slots=True)
class FixPlan:
    applied: list[Finding] = field(default_factory=list)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)
    new_texts: dict[str, str] = field(default_factory=dict)  # path -> fixed text
    old_texts: dict[str, str] = field(default_factory=dict)

    def diff(self) -> str:
        chunks: list[str] = []
        for path in sorted(self.new_texts):
            chunks.extend(
                difflib.unified_diff(
                    self.old_texts[path].splitlines(keepends=True),
                    self.new_texts[path].splitlines(keepends=True),
                    fromfile=f"a/{path}",
                    tofile=f"b/{path}",
                )
            )
        return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)


def plan_fixes(root: Path, findings: Iterable[Finding], *, unsafe: bool = False) -> FixPlan:
    """Decide which fixes apply together and compute the fixed files (nothing is written)."""
    plan = FixPlan()
    taken: dict[str, list[tuple[int, int]]] = {}
    chosen: list[tuple[Finding, Fixit]] = []
    for finding in findings:
        fixit = finding.fix
        if fixit is None:
            continue
        if fixit.applicability is Fix.UNSAFE and not unsafe:
            plan.skipped.append((finding, "unsafe fix (use --unsafe-fixes)"))
            continue
        if fixit.applicability is Fix.NONE:
            continue
        reason = _check(root, fixit, taken, plan.old_texts)
        if reason is not None:
            plan.skipped.append((finding, reason))
            continue
        for edit in fixit.edits:
            taken.setdefault(edit.path, []).append(_span(edit))
        chosen.append((finding, fixit))
    by_path: dict[str, list[Edit]] = {}
    for finding, fixit in chosen:
        plan.applied.append(finding)
        for edit in fixit.edits:
            by_path.setdefault(edit.path, []).append(edit)
    for path, edits in by_path.items():
        lines = plan.old_texts[path].splitlines(keepends=True)
        # Bottom-up so earlier line numbers stay valid.
        for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
            text = edit.text
            if text and not text.endswith("\n"):
                text += "\n"
            lines[edit.start - 1 : edit.end] = [text] if text else []
        plan.new_texts[path] = "".join(lines)
    return plan


def _span(edit: Edit) -> tuple[int, int]:
    return (edit.start, max(edit.end, edit.start - 1))


def _check(
    root: Path, fixit: Fixit, taken: dict[str, list[tuple[int, int]]], texts: dict[str, str]
) -> str | None:
    for edit in fixit.edits:
        if edit.path not in texts:
            try:
                texts[edit.path] = read_text(str(root.resolve()), edit.path)
            except Unreadable as exc:
                return f"cannot read {edit.path}: {exc.reason}"
        lines = texts[edit.path].splitlines(keepends=True)
        if edit.start < 1 or edit.end > len(lines) or edit.end < edit.start - 1:
            return f"edit outside {edit.path}"
        if edit.expected is not None:
            current = "".join(lines[edit.start - 1 : edit.end])
            if current.rstrip("\n") != edit.expected.rstrip("\n"):
                return f"{edit.path} changed since the scan"
        start, end = _span(edit)
        for other_start, other_end in taken.get(edit.path, ()):
            if start <= other_end and other_start <= end:
                return "overlaps another fix"
            if start > end and other_start <= start <= other_end:
                return "overlaps another fix"
    return None


def write_fixes(root: Path, plan: FixPlan) -> list[str]:
    """Write the fixed files atomically; returns the paths changed."""
    changed = []
    real_root = str(root.resolve())
    for path, text in sorted(plan.new_texts.items()):
        target = root / path
        if not inside(real_root, os.path.realpath(target.parent)):
            continue  # never write through a link out of the repository
        mode = target.stat().st_mode if target.exists() else None
        fd, temp = tempfile.mkstemp(prefix=".passmuster-", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            if mode is not None:
                os.chmod(temp, mode)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        changed.append(path)
    return changed
