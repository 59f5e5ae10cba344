"""`passmuster scan`, `services`, `rule` and `rules` as a user runs them."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from passmuster.cli.main import main
from passmuster.usecases.desk import Desk
from tests.scanner.helpers import WriteTree

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "platform"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code: object = 0
    try:
        main(args)
    except SystemExit as exited:
        code = exited.code
    out, err = capsys.readouterr()
    return (code if isinstance(code, int) else 0), out, err


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "platform"
    shutil.copytree(EXAMPLE, root)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    return root


def test_scan_reports_findings_as_json_and_exits_1(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["scan", str(platform), "--format", "json", "--no-record"], capsys)
    assert code == 1
    data = json.loads(out)
    families = {f["code"].rstrip("0123456789") for f in data["findings"]}
    assert {"REQ", "IMG", "ENV", "PORT", "REF"} <= families
    clash = next(f for f in data["findings"] if f["code"] == "PORT001")
    assert clash["path"] == "docker-compose.yml" and clash["related"][0]["service"] == "billing"


def test_fail_on_sets_the_threshold(platform: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(
        ["scan", str(platform), "--no-record", "--select", "IMG004", "--fail-on", "high"], capsys
    )
    assert code == 0  # --reload is medium
    code, out, _ = run(["scan", str(platform), "--no-record", "--select", "IMG004"], capsys)
    assert code == 1 and "IMG004" in out


def test_bad_options_exit_2_with_one_line(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["scan", str(platform), "--format", "xml"], capsys)
    assert code == 2 and "--format 'xml'" in err
    code, _, err = run(["scan", str(platform), "--select", "NOPE1"], capsys)
    assert code == 2 and "no rule matches 'NOPE1'" in err
    assert "Traceback" not in err


def test_a_clean_platform_exits_0(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree({"compose.yaml": "services:\n  web:\n    image: nginx:1.27\n"})
    code, out, _ = run(["scan", str(root), "--no-record"], capsys)
    assert (code, out.strip()) == (0, "No findings in 1 service.")


def test_diff_previews_and_fix_applies_the_safe_fixes(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = platform / "services" / "identity" / "requirements.txt"
    before = requirements.read_text()
    code, out, _ = run(["scan", str(platform), "--diff", "--select", "REQ001"], capsys)
    assert code == 1
    assert "+++ b/services/identity/requirements.txt" in out
    assert "+-r ../../requirements.shared.txt" in out
    assert requirements.read_text() == before
    code, _, err = run(
        ["scan", str(platform), "--fix", "--select", "REQ001", "--no-record"], capsys
    )
    assert "Fixed 1 finding" in err
    assert code == 0
    assert "-r ../../requirements.shared.txt" in requirements.read_text()


def test_a_fix_is_recorded_on_the_uncommitted_changes_not_on_the_commit_that_has_the_defect(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = "0123456789abcdef0123456789abcdef01234567"
    (platform / ".git").mkdir()
    (platform / ".git" / "HEAD").write_text(head + "\n", encoding="utf-8")
    assert run(["init", "--dir", str(platform)], capsys)[0] == 0
    code, out, _ = run(["scan", str(platform), "--select", "REQ001"], capsys)
    assert code == 1 and f"at commit {head[:12]}" in out
    code, out, _ = run(["scan", str(platform), "--fix", "--select", "REQ001"], capsys)
    assert code == 0
    assert f"on uncommitted changes over commit {head[:12]}" in out
    with Desk.open(start=platform) as desk:
        (fixed,) = [i for i in desk.issues() if "REQ001" in i.title]
        assert fixed.resolution.endswith(f"on uncommitted changes over commit {head[:12]}.")


def test_the_documented_baseline_path_works_in_a_repository_without_a_desk(
    platform: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(platform)
    code, _, err = run(["scan", "--write-baseline", ".passmuster/baseline.json"], capsys)
    assert code == 0 and "Wrote" in err
    assert (platform / ".passmuster" / "baseline.json").is_file()
    (platform / "blocked").write_text("a file, not a folder\n", encoding="utf-8")
    code, _, err = run(["scan", "--write-baseline", "blocked/baseline.json"], capsys)
    assert code == 2 and "blocked/baseline.json: cannot write the baseline" in err
    assert "Traceback" not in err


def test_baseline_hides_what_was_there(platform: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = platform / "baseline.json"
    code, _, err = run(["scan", str(platform), "--write-baseline", str(baseline)], capsys)
    assert code == 0 and "Wrote" in err
    code, out, _ = run(["scan", str(platform), "--baseline", str(baseline), "--no-record"], capsys)
    assert code == 0 and "in the baseline" in out


def test_scan_records_findings_when_a_desk_exists(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Desk.init(platform).close()
    code, out, _ = run(["scan", str(platform), "--select", "PORT001"], capsys)
    assert code == 1
    assert "Tracker: 1 opened" in out
    with Desk.open(start=platform) as desk:
        (issue,) = desk.issues()
    assert issue.source == "scan" and "rule:PORT001" in issue.labels
    assert set(issue.services) == {"notifications", "billing"}


def test_show_presents_how_often_scans_saw_the_finding(
    platform: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    Desk.init(platform).close()
    for _ in range(3):
        code, out, _ = run(["scan", str(platform), "--select", "PORT001"], capsys)
        assert code == 1
    monkeypatch.chdir(platform)
    code, out, _ = run(["show", "1", "--json"], capsys)
    assert code == 0
    shown = json.loads(out)
    assert shown["occurrences"]["count"] == 3
    assert shown["occurrences"]["first_seen_at"] <= shown["occurrences"]["last_seen_at"]
    assert [e["kind"] for e in shown["events"]] == ["created", "detected"]
    code, out, _ = run(["show", "1"], capsys)
    assert code == 0
    assert "Seen by scans" in out and "3 scans; first" in out


def test_services_lists_the_catalog_as_json(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["services", str(platform), "--json"], capsys)
    assert code == 0
    names = {s["name"]: s for s in json.loads(out)}
    assert {"gateway", "identity", "tenants", "instances", "instances-worker"} <= set(names)
    assert names["billing"]["health_url"] == "http://billing:8004/healthz"


def test_rule_prints_its_documentation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["rule", "PM002"], capsys)
    assert code == 0
    assert out.startswith("# PM002 unused-suppression") and "## Why is this bad?" in out
    code, _, err = run(["rule", "NOPE999"], capsys)
    assert code == 3 and "no rule 'NOPE999'" in err


def test_rules_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["rules", "--json"], capsys)
    codes = [r["code"] for r in json.loads(out)]
    assert code == 0 and codes == sorted(codes) and {"PM001", "PM002", "PM003"} <= set(codes)


def test_a_wrong_setting_names_the_file_and_field(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree(
        {
            "compose.yaml": "services:\n  web:\n    image: nginx:1.27\n",
            "passmuster.toml": '[scan]\nfail-on = "sometimes"\n',
        }
    )
    code, _, err = run(["scan", str(root), "--no-record"], capsys)
    assert code == 2
    assert "passmuster.toml" in err and "scan.fail-on" in err


def test_excluded_paths_are_never_read(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree(
        {
            "compose.yaml": "services:\n  web:\n    image: nginx:1.27\n",
            "legacy/docker-compose.yml": "services: [broken\n",
            "passmuster.toml": '[scan]\nexclude = ["legacy"]\n',
        }
    )
    code, out, _ = run(["scan", str(root), "--no-record"], capsys)
    assert (code, out.strip()) == (0, "No findings in 1 service.")


def test_sarif_of_the_example_platform_validates(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import jsonschema

    schema_path = Path(__file__).resolve().parents[1] / "fixtures"
    schema = json.loads((schema_path / "sarif-2.1.0-subset.schema.json").read_text())
    code, out, _ = run(["scan", str(platform), "-f", "sarif", "--no-record"], capsys)
    log = json.loads(out)
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    clash = next(r for r in results if r["ruleId"] == "PORT001")
    (related,) = clash["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "docker-compose.yml"
    assert code == 1


def test_github_format_annotates_each_finding(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["scan", str(platform), "-f", "github", "--select", "IMG004", "--no-record"]
    code, out, _ = run(args, capsys)
    assert out == (
        "::warning file=docker-compose.yml,line=49,title=IMG004::"
        "uvicorn runs with --reload in a production command\n"
    )
    assert code == 1


def test_services_record_puts_the_catalog_in_the_desk(
    platform: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    Desk.init(platform).close()
    monkeypatch.chdir(platform)
    code, _, err = run(["services", ".", "--record"], capsys)
    assert code == 0 and "Recorded 12 services" in err
    with Desk.open(start=platform) as desk:
        identity = desk.get_service("identity")
    assert identity.health_url == "http://identity:8001/healthz"
    assert identity.source == "docker-compose.yml"


def test_statistics_count_findings_per_rule_and_output_writes_a_file(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["scan", str(platform), "--statistics", "--no-record"], capsys)
    assert code == 1
    rows = [line.split() for line in out.splitlines()]
    counts = [int(row[0]) for row in rows]
    assert counts == sorted(counts, reverse=True) and counts[0] > 1  # most frequent first
    assert ["1", "REQ001", "copied-shared-requirements", "[*]"] in rows
    target = platform / "report.sarif"
    code, out, _ = run(
        ["scan", str(platform), "-f", "sarif", "-o", str(target), "--no-record"], capsys
    )
    assert (code, out) == (1, "")
    assert json.loads(target.read_text())["version"] == "2.1.0"


def test_configuration_in_pyproject_is_read(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (platform / "passmuster.toml").unlink()
    (platform / "pyproject.toml").write_text(
        '[tool.passmuster.scan]\nselect = ["IMG004"]\n\n'
        '[tool.passmuster.services.billing]\nowner = "payments"\n'
    )
    code, out, _ = run(["scan", str(platform), "-f", "concise", "--no-record"], capsys)
    assert code == 1 and [line.split()[1] for line in out.splitlines()] == ["IMG004"]
    code, out, _ = run(["services", str(platform), "--json"], capsys)
    owners = {s["name"]: s["owner"] for s in json.loads(out)}
    assert owners["billing"] == "payments"


def test_a_configured_baseline_is_relative_to_its_configuration_file(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = platform / "infrastructure"
    (sub / "compose" / "docker-compose.tools.yml").write_text(
        "services:\n  tool:\n    image: acme/tool:1\n    depends_on: [nowhere]\n"
    )
    baseline = platform / ".passmuster-baseline.json"
    run(["scan", str(sub), "--write-baseline", str(baseline)], capsys)
    config = platform / "passmuster.toml"
    setting = '[scan]\nbaseline = ".passmuster-baseline.json"\n'
    config.write_text(config.read_text().replace("[scan]\n", setting, 1))
    code, out, _ = run(["scan", str(sub), "--no-record"], capsys)
    assert code == 0 and "in the baseline" in out


@pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="needs a Python that cannot read 3.12's f-strings"
)
def test_scan_says_which_files_need_a_newer_python_to_be_analysed(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree(
        {
            "docker-compose.yml": "services:\n  api:\n    build: ./api\n",
            "api/Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
            "api/app.py": 'user = {"id": 1}\nprint(f"{user["id"]}")\n',
        }
    )
    code, out, err = run(["scan", str(root), "--format", "json", "--no-record"], capsys)
    assert [f["code"] for f in json.loads(out)["findings"]] == []
    assert code == 0
    assert "note: 1 Python file not analysed: api/app.py does not parse with Python 3.11" in err
