"""The engine: rule selection, suppressions, baseline, parse errors, reporters, fixes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from passmuster.core.findings import Edit, Finding, Fix, Fixit, Location
from passmuster.core.issues import Severity
from passmuster.errors import ConfigError
from passmuster.scanner import meta
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.context import Platform
from passmuster.scanner.engine import read_baseline, scan, write_baseline
from passmuster.scanner.fixes import plan_fixes, write_fixes
from passmuster.scanner.registry import Registry
from passmuster.scanner.reporters import github_report, sarif_report, text_report
from passmuster.scanner.rule import Rule
from tests.scanner.helpers import WriteTree

SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "sarif-2.1.0-subset.schema.json"


class EveryPort(Rule):
    """## What it does
    Test rule: flags every published port, pointing at the other services too.

    ## Why is this bad?
    It is not; it exercises the engine.

    ## Example
    `ports: ["8000:8000"]`
    """

    code = "TST001"
    name = "every-port"
    severity = Severity.HIGH
    fix = Fix.SAFE

    def check(self, platform: Platform) -> Iterator[Finding]:
        for service in platform.services:
            for port in (p for p in service.ports if p.host is not None):
                others = [
                    Location(o.path, o.line, service=o.name, message="another service")
                    for o in platform.services
                    if o is not service
                ]
                edit = Edit(
                    port.path,
                    port.line or 1,
                    port.line or 1,
                    f'      - "{port.container}"',
                    expected=None,
                )
                yield self.finding(
                    f"publishes {port.host}",
                    port.path,
                    port.line,
                    service=service.name,
                    related=others,
                    key=str(port.host),
                    fix=Fixit("stop publishing", (edit,)),
                )


class Crashes(Rule):
    """## What it does
    Test rule that always fails.

    ## Why is this bad?
    It exercises PM003.

    ## Example
    none
    """

    code = "TST002"
    name = "crashes"

    def check(self, platform: Platform) -> Iterator[Finding]:
        raise KeyError("environment")


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.register_module(meta)
    registry.register(EveryPort)
    registry.register(Crashes)
    return registry


COMPOSE = """
services:
  api:
    image: api
    ports:
      - "8000:8000"  # passmuster: ignore[TST001] published on purpose
  web:
    image: web
    ports:
      # passmuster: ignore[TST001]
      - "8080:8080"
  admin:
    image: admin
    ports:
      - "9000:9000"
    environment:
      A: "1"  # passmuster: ignore[TST001, NOPE999] stale
"""


def test_suppressions_silence_their_line_and_unused_ones_are_reported(
    write_tree: WriteTree, registry: Registry
) -> None:
    root = write_tree({"docker-compose.yml": COMPOSE})
    result = scan(root, ScanConfig(ignore=["TST002"]), registry=registry)
    assert sorted((f.code, f.line, f.message) for f in result.findings) == [
        ("PM002", 16, "suppression names NOPE999, which no rule has"),
        ("PM002", 16, "unused suppression: TST001 reports nothing here"),
        ("TST001", 14, "publishes 9000"),
    ]
    # Line 5 by its trailing comment, line 10 by the comment alone on the line before it.
    assert sorted(f.line for f in result.suppressed) == [5, 10]


def test_a_crashing_rule_is_reported_and_the_scan_goes_on(
    write_tree: WriteTree, registry: Registry
) -> None:
    root = write_tree({"docker-compose.yml": COMPOSE})
    result = scan(root, ScanConfig(), registry=registry)
    codes = [f.code for f in result.findings]
    assert "PM003" in codes and "TST001" in codes
    crash = next(f for f in result.findings if f.code == "PM003")
    assert "TST002" in crash.message and "KeyError" in crash.message


def test_parse_errors_are_findings_with_file_and_line(
    write_tree: WriteTree, registry: Registry
) -> None:
    root = write_tree(
        {
            "docker-compose.yml": "services:\n  api:\n    build: ./api\n",
            "api/Dockerfile": "FROM python:3.11\n",
            "api/app.py": "def broken(:\n    pass\n",
        }
    )
    result = scan(root, ScanConfig(select=["PM001"]), registry=registry)
    assert [(f.code, f.path, f.line, f.service) for f in result.findings] == [
        ("PM001", "api/app.py", 1, "api")
    ]
    assert result.exit_code() == 1
    assert result.exit_code(Severity.CRITICAL) == 0


# Valid from Python 3.12 on (an f-string nesting its own quotes), a syntax error before it.
NEWER_SYNTAX = 'settings = {"name": "api"}\nprint(f"{settings["name"]} started")\n'


@pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="needs a Python that cannot read 3.12's f-strings"
)
def test_a_file_in_newer_python_syntax_is_no_parse_error_where_its_service_runs_that_python(
    write_tree: WriteTree, registry: Registry
) -> None:
    root = write_tree(
        {
            "docker-compose.yml": (
                "services:\n  api:\n    build: ./api\n  legacy:\n    build: ./legacy\n"
            ),
            "api/Dockerfile": "FROM python:3.13-slim\nCOPY . /app\n",
            "api/app.py": NEWER_SYNTAX,
            "legacy/Dockerfile": "FROM python:3.11-slim\nCOPY . /app\n",
            "legacy/app.py": NEWER_SYNTAX,
        }
    )
    result = scan(root, ScanConfig(select=["PM001"]), registry=registry)
    # Python 3.11 cannot run the legacy service's file: a real parse error there.
    assert [(f.path, f.service) for f in result.findings] == [("legacy/app.py", "legacy")]
    assert result.newer_python == ["api/app.py"]


def test_selection_takes_the_most_specific_selector(registry: Registry) -> None:
    assert [r.code for r in registry.select(["TST"], ["TST002"])] == ["TST001"]
    assert [r.code for r in registry.select(["PM"], ["PM0"], ["PM002"])] == ["PM002"]
    assert [r.code for r in registry.select(["every-port"])] == ["TST001"]
    with pytest.raises(ConfigError, match="no rule matches 'XYZ'"):
        registry.select(["XYZ"])


def test_a_rule_without_its_doc_headings_cannot_register() -> None:
    class Undocumented(Rule):
        """Does things."""

        code = "TST009"
        name = "undocumented"

    with pytest.raises(ConfigError, match="## Why is this bad"):
        Registry().register(Undocumented)


def test_the_baseline_hides_known_findings_even_when_lines_move(
    write_tree: WriteTree, registry: Registry, tmp_path: Path
) -> None:
    root = write_tree({"docker-compose.yml": COMPOSE})
    config = ScanConfig(select=["TST001"])
    first = scan(root, config, registry=registry)
    baseline = tmp_path / "baseline.json"
    assert write_baseline(baseline, first.findings) == 1
    moved = "# a new first line\n" + (root / "docker-compose.yml").read_text()
    (root / "docker-compose.yml").write_text(moved)
    again = scan(root, config, registry=registry, baseline=read_baseline(baseline))
    assert again.findings == []
    assert [f.line for f in again.baselined] == [15]


def test_a_bad_baseline_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text("{nope")
    with pytest.raises(ConfigError, match=r"b\.json"):
        read_baseline(path)


def test_sarif_validates_and_points_related_locations_at_other_services(
    write_tree: WriteTree, registry: Registry
) -> None:
    root = write_tree({"docker-compose.yml": COMPOSE})
    result = scan(root, ScanConfig(select=["TST001"]), registry=registry)
    log = json.loads(sarif_report(result, registry, []))
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    (only,) = log["runs"][0]["results"]
    assert only["ruleId"] == "TST001"
    assert only["locations"][0]["physicalLocation"]["region"]["startLine"] == 14
    related = only["relatedLocations"]
    assert {r["message"]["text"] for r in related} == {"another service"}
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == [2, 6]


def test_github_annotations_escape_their_fields(registry: Registry, tmp_path: Path) -> None:
    from passmuster.scanner.engine import ScanResult

    finding = Finding("TST001", "bad: 50%\nnext", "a,b:c.yml", 3, Severity.MEDIUM)
    result = ScanResult(Platform(tmp_path), [finding], [EveryPort])
    assert github_report(result, registry, []) == (
        "::warning file=a%2Cb%3Ac.yml,line=3,title=TST001::bad: 50%25%0Anext\n"
    )


def test_text_groups_by_service_with_file_and_line(
    write_tree: WriteTree, registry: Registry
) -> None:
    root = write_tree({"docker-compose.yml": COMPOSE})
    result = scan(root, ScanConfig(select=["TST001"]), registry=registry)
    text = text_report(result, registry, ["a note"])
    assert text.splitlines()[:2] == [
        "admin  (1)",
        "  docker-compose.yml:14: TST001 [high] publishes 9000 [*]",
    ]
    assert "a note" in text and "(2 suppressed)" in text


def test_fixes_apply_once_and_show_as_a_diff(write_tree: WriteTree, registry: Registry) -> None:
    root = write_tree({"docker-compose.yml": COMPOSE})
    result = scan(root, ScanConfig(select=["TST001"]), registry=registry)
    plan = plan_fixes(root, result.findings)
    assert '-      - "9000:9000"\n+      - "9000"\n' in plan.diff()
    assert write_fixes(root, plan) == ["docker-compose.yml"]
    assert '      - "9000"\n' in (root / "docker-compose.yml").read_text()
    assert scan(root, ScanConfig(select=["TST001"]), registry=registry).findings == []


def test_a_fix_whose_lines_changed_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("one\ntwo\n")
    edit = Edit("f.txt", 2, 2, "TWO", expected="zwei")
    finding = Finding("TST001", "m", "f.txt", 2, fix=Fixit("x", (edit,)))
    plan = plan_fixes(tmp_path, [finding])
    assert plan.applied == [] and plan.skipped[0][1] == "f.txt changed since the scan"


def test_unsafe_fixes_need_their_flag(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("one\n")
    edit = Edit("f.txt", 1, 1, "ONE")
    finding = Finding("TST001", "m", "f.txt", 1, fix=Fixit("x", (edit,), Fix.UNSAFE))
    assert plan_fixes(tmp_path, [finding]).applied == []
    assert plan_fixes(tmp_path, [finding], unsafe=True).new_texts == {"f.txt": "ONE\n"}


def test_scanned_code_is_never_run(write_tree: WriteTree, tmp_path: Path) -> None:
    from passmuster.scanner.registry import default_registry

    marker = tmp_path / "ran"
    payload = f"open({str(marker)!r}, 'w').write('x')\n"
    root = write_tree(
        {
            "compose.yaml": (
                "services:\n  api:\n    build: ./api\n"
                "    command: uvicorn app.main:app --host 0.0.0.0 --port 8000\n"
            ),
            "api/Dockerfile": "FROM python:3.12-slim\nCOPY . .\n",
            "api/app/__init__.py": payload,
            "api/app/main.py": payload + "from fastapi import FastAPI\napp = FastAPI()\n",
            "api/conftest.py": payload,
            "api/setup.py": payload,
        }
    )
    result = scan(root, ScanConfig(), registry=default_registry())
    assert result.platform.service("api") is not None
    assert not marker.exists()


def test_per_file_ignores_skip_rules_in_matching_files(
    write_tree: WriteTree, registry: Registry
) -> None:
    root = write_tree({"docker-compose.yml": COMPOSE, "dev/compose.yaml": COMPOSE})
    config = ScanConfig(select=["TST001"], per_file_ignores={"dev/*": ["TST"]})
    result = scan(root, config, registry=registry)
    assert {f.path for f in result.findings} == {"docker-compose.yml"}


PLUGIN = '''
from passmuster.scanner.rule import Rule


class NoLatest(Rule):
    """## What it does
    Flags `:latest` images.

    ## Why is this bad?
    Deploys float.

    ## Example
    `image: redis:latest`
    """

    code = "ACME001"
    name = "no-latest"

    def check(self, platform):
        return [
            self.finding("floats", s.path, s.line, service=s.name)
            for s in platform.services
            if (s.image or "").endswith(":latest")
        ]
'''


def test_a_plugin_module_registers_like_the_built_ins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, write_tree: WriteTree
) -> None:
    import importlib

    from passmuster.core import plugins
    from passmuster.scanner import registry as registry_module

    (tmp_path / "acme_checks.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))

    class EntryPoint:
        def load(self) -> object:
            return importlib.import_module("acme_checks")

    monkeypatch.setattr(plugins, "entry_points", lambda group: [EntryPoint()])
    registry = registry_module.build_registry()
    assert registry.get("no-latest").code == "ACME001"
    assert "PM001" in registry  # the built-ins are there too
    root = write_tree({"compose.yaml": "services:\n  cache:\n    image: redis:latest\n"})
    result = scan(root, ScanConfig(select=["ACME"]), registry=registry)
    assert [(f.code, f.service) for f in result.findings] == [("ACME001", "cache")]
