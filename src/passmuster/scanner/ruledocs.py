"""Rule documentation pages, generated from the rules' docstrings.

    python -m passmuster.scanner.ruledocs            # rewrite docs/rules/
    python -m passmuster.scanner.ruledocs --check    # exit 1 when a page is missing or stale

Each rule's docstring is its page (`docs/rules/<CODE>.md`), under a small header with its name,
family, default severity and fix availability; `docs/rules/index.md` lists them all. A test runs
the check, so a rule added without a page, or a docstring edited without regenerating, fails CI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from passmuster.core.findings import Fix
from passmuster.scanner.registry import build_registry
from passmuster.scanner.rule import Rule

FAMILIES = {
    "REQ": "Requirements",
    "IMG": "Images",
    "PORT": "Ports and addresses",
    "REF": "References",
    "ENV": "Environment and secrets",
    "CODE": "Code",
    "PM": "The scan itself",
}
FIX_WORDS = {
    Fix.NONE: "no",
    Fix.SAFE: "yes (`passmuster scan --fix`)",
    Fix.UNSAFE: "unsafe only (`--unsafe-fixes`)",
}
NOTE = (
    "<!-- Generated from the rule's docstring by `python -m passmuster.scanner.ruledocs`; "
    "edit the docstring, not this file. -->"
)
DEFAULT_DIR = Path("docs") / "rules"


def builtin_rules() -> list[type[Rule]]:
    """The rules passmuster ships (plugins are documented by their authors)."""
    return build_registry(plugins=False).rules()


def family_name(rule: type[Rule]) -> str:
    family = rule.family()
    return f"{FAMILIES.get(family, family)} ({family})"


def render_page(rule: type[Rule]) -> str:
    lines = [
        NOTE,
        "",
        f"# {rule.code}: {rule.name}",
        "",
        "| | |",
        "|---|---|",
        f"| Family | {family_name(rule)} |",
        f"| Default severity | {rule.severity.value} |",
        f"| Fix available | {FIX_WORDS[rule.fix]} |",
        "",
        rule.docs().strip(),
        "",
    ]
    return "\n".join(lines)


def render_index(rules: list[type[Rule]]) -> str:
    lines = [
        NOTE,
        "",
        "# Rules",
        "",
        "Every rule passmuster runs, by family. `passmuster rule CODE` prints a rule's page;",
        "select or ignore rules by code, prefix (`REQ`, `ENV00`) or name with `--select`,",
        "`--ignore` and `--extend-select`, and set their options under `[scan.options.CODE]` in",
        "`passmuster.toml`.",
    ]
    by_family: dict[str, list[type[Rule]]] = {}
    for rule in rules:
        by_family.setdefault(rule.family(), []).append(rule)
    order = [f for f in FAMILIES if f in by_family] + sorted(set(by_family) - set(FAMILIES))
    for family in order:
        lines += [
            "",
            f"## {FAMILIES.get(family, family)} ({family})",
            "",
            "| Code | Name | Severity | Fix | What it does |",
            "|---|---|---|---|---|",
        ]
        for rule in by_family[family]:
            summary = rule.summary().replace("|", "\\|")
            fix = "yes" if rule.fix is not Fix.NONE else ""
            lines.append(
                f"| [{rule.code}]({rule.code}.md) | {rule.name} | {rule.severity.value} "
                f"| {fix} | {summary} |"
            )
    lines += ["", *EXTENDING.splitlines()]
    lines.append("")
    return "\n".join(lines)


EXTENDING = """## Data tables

Some rules read tables shipped in `passmuster/scanner/data/`; each entry is a few lines of TOML
and the rule picks it up on the next scan:

- `incompatible.toml` (REQ006): package combinations that break, such as
  `when = ["docker<7.1", "requests>=2.32"]`, optionally limited to a Python version.
- `known_bad_imports.toml` (CODE001): `from MODULE import NAME` statements that fail, the
  module that does have the name, and whether `--fix` may rewrite the import.
- `build_deps.toml` (IMG001): packages that compile on `slim`/`alpine` images and the system
  packages they need.
- `databases.toml` (REQ004, REQ005): database URL dialects and drivers, the packages that
  provide them, and the driver families.

## Writing a rule

A rule is a class in a module: subclass `passmuster.scanner.rule.Rule`, set `code` (letters and
three digits), a kebab-case `name`, `severity` and `fix`, write the docstring with the headings
`## What it does`, `## Why is this bad?`, `## Example`, `## How to fix` (and
`## Configuration` for options in `default_options`), and yield findings from
`check(platform)`. Rules read the parsed `Platform` only. Name the module in the
`passmuster.rules` entry-point group of your package and it registers like a built-in one.
After changing a built-in rule's docstring, run `python -m passmuster.scanner.ruledocs`
(a test fails while the pages are stale)."""


def expected_files(rules: list[type[Rule]] | None = None) -> dict[str, str]:
    """File name -> content of every generated page."""
    rules = rules if rules is not None else builtin_rules()
    files = {f"{rule.code}.md": render_page(rule) for rule in rules}
    files["index.md"] = render_index(rules)
    return files


def stale(folder: Path, rules: list[type[Rule]] | None = None) -> list[str]:
    """Pages that are missing, out of date, or left over from a removed rule."""
    files = expected_files(rules)
    problems = []
    for name, text in sorted(files.items()):
        path = folder / name
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: out of date")
    if folder.is_dir():
        for path in sorted(folder.glob("*.md")):
            if path.name not in files:
                problems.append(f"{path}: no rule has this code any more")
    return problems


def write(folder: Path, rules: list[type[Rule]] | None = None) -> list[str]:
    """Write every page; returns the names written. Pages of removed rules are deleted."""
    files = expected_files(rules)
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.md"):
        if path.name not in files:
            path.unlink()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return sorted(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m passmuster.scanner.ruledocs")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="default: docs/rules")
    parser.add_argument("--check", action="store_true", help="only report stale pages")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale(args.dir)
        for problem in problems:
            print(problem)
        if problems:
            print("run `python -m passmuster.scanner.ruledocs` to regenerate", file=sys.stderr)
        return 1 if problems else 0
    written = write(args.dir)
    print(f"wrote {len(written)} pages to {args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
