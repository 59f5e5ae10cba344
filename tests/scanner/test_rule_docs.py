"""The rule pages in docs/rules/ are generated from the docstrings and must be current."""

from __future__ import annotations

from pathlib import Path

from passmuster.core.findings import Fix
from passmuster.scanner import ruledocs
from passmuster.scanner.rule import Rule

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"


def test_rule_pages_are_generated_and_current() -> None:
    problems = ruledocs.stale(DOCS)
    assert problems == [], "run `python -m passmuster.scanner.ruledocs`: " + "; ".join(problems)


def test_every_catalogue_rule_documents_how_to_fix_and_its_options() -> None:
    for rule in ruledocs.builtin_rules():
        if rule.family() == "PM":
            continue
        docs = rule.docs()
        assert rule.problems() == [], rule.code
        assert "## How to fix" in docs, rule.code
        if rule.default_options:
            assert "## Configuration" in docs, rule.code
            for option in rule.default_options:
                assert option.replace("_", "-") in docs, (rule.code, option)


class Undocumented(Rule):
    """## What it does
    Stands for a rule added without regenerating the pages.

    ## Why is this bad?
    Its page would be missing.

    ## Example
    none
    """

    code = "ZZZ001"
    name = "undocumented"
    fix = Fix.NONE


def test_a_new_rule_without_a_page_and_a_removed_rules_page_are_reported(tmp_path: Path) -> None:
    rules = ruledocs.builtin_rules()
    ruledocs.write(tmp_path, rules)
    assert ruledocs.stale(tmp_path, rules) == []
    assert ruledocs.stale(tmp_path, [*rules, Undocumented]) == [
        f"{tmp_path}/ZZZ001.md: missing",
        f"{tmp_path}/index.md: out of date",
    ]
    (tmp_path / "OLD001.md").write_text("gone")
    assert f"{tmp_path}/OLD001.md: no rule has this code any more" in ruledocs.stale(
        tmp_path, rules
    )


def test_an_edited_docstring_makes_its_page_stale(tmp_path: Path) -> None:
    rules = ruledocs.builtin_rules()
    ruledocs.write(tmp_path, rules)
    page = tmp_path / "ENV007.md"
    page.write_text(page.read_text().replace("Docker socket", "socket"))
    assert ruledocs.stale(tmp_path, rules) == [f"{page}: out of date"]
    assert ruledocs.main(["--dir", str(tmp_path), "--check"]) == 1
    assert ruledocs.main(["--dir", str(tmp_path)]) == 0
    assert ruledocs.main(["--dir", str(tmp_path), "--check"]) == 0
