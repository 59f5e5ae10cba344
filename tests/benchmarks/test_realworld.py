"""The real-world benchmark's corpus file is valid, and findings are judged as its README says."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bench.realworld import (
    CORPUS,
    CorpusError,
    Row,
    Scanned,
    judge,
    load_corpus,
    scan_checkout,
    summarise,
)

SMALL = """
schema = 1

[[repo]]
name = "acme/shop"
commit = "0000000000000000000000000000000000000000"
checkout = "acme__shop"
kind = "hasty"
services = 2

[[repo.defects]]
id = "shop-01"
class = "placeholder-secret"
impact = "security"
rules = ["ENV003"]
summary = "JWT secret is a placeholder"
locations = ["docker-compose.yml:6"]
match = [{ path = "docker-compose.yml", code = "ENV003", contains = ["JWT_SECRET"] }]

[[repo.defects]]
id = "shop-02"
class = "other"
impact = "breaks"
rules = []
summary = "something no rule sees"
locations = ["api/main.py:1"]
match = [{ path = "api/main.py", line = 1 }]

[[repo.mustnot]]
id = "shop-m1"
class = "browser-facing-url"
summary = "CORS origin"
locations = ["docker-compose.yml:7"]
match = [{ path = "docker-compose.yml", lines = [7, 8] }]

[[repo.reviews]]
code = "REF"
path = "docker-compose.yml"
contains = ["api calls"]
verdict = "false"
reason = "called per request only"
"""


def _corpus(tmp_path: Path, text: str = SMALL) -> Path:
    path = tmp_path / "corpus.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_committed_corpus_follows_the_schema() -> None:
    repos = load_corpus(CORPUS)
    assert repos, "the corpus names no repository"
    for repo in repos:
        assert len(repo.commit) == 40 and repo.services > 0


def test_findings_are_judged_defect_then_mustnot_then_review(tmp_path: Path) -> None:
    [repo] = load_corpus(_corpus(tmp_path))
    findings = [
        {"code": "ENV003", "path": "docker-compose.yml", "line": 6, "message": "jwt_secret is x"},
        {"code": "CODE005", "path": "docker-compose.yml", "line": 8, "message": "localhost"},
        {"code": "REF003", "path": "docker-compose.yml", "line": 9, "message": "api calls db"},
        {"code": "PORT001", "path": "docker-compose.yml", "line": 3, "message": "clash"},
    ]
    verdicts = judge(repo, findings)
    assert verdicts.found == {"shop-01"}
    assert [f["code"] for f in verdicts.true] == ["ENV003"]
    assert [f["code"] for f, _ in verdicts.false] == ["CODE005", "REF003"]
    assert [m for m, _ in verdicts.violations] == ["shop-m1"]
    assert [f["code"] for f in verdicts.unreviewed] == ["PORT001"]


def test_a_broken_corpus_names_the_field(tmp_path: Path) -> None:
    broken = SMALL.replace("lines = [7, 8]", 'lines = "7"')
    with pytest.raises(CorpusError, match=r"mustnot\[0\]\.match\[0\]\.lines"):
        load_corpus(_corpus(tmp_path, broken))
    with pytest.raises(CorpusError, match="verdict"):
        load_corpus(_corpus(tmp_path, SMALL.replace('verdict = "false"', 'verdict = "no"')))


def test_a_checkout_is_scanned_by_the_cli_and_judged(tmp_path: Path) -> None:
    checkout = tmp_path / "data" / "acme__shop"
    (checkout / "api").mkdir(parents=True)
    (checkout / "docker-compose.yml").write_text(
        "services:\n  api:\n    image: acme/api:1\n    environment:\n"
        "      LOG_LEVEL: info\n      JWT_SECRET: change_me\n",
        encoding="utf-8",
    )
    [repo] = load_corpus(_corpus(tmp_path))
    scanned = scan_checkout(checkout)
    assert scanned.error is None and scanned.seconds > 0 and scanned.peak_mib > 0
    row = Row(repo, scanned, judge(repo, scanned.findings))
    assert row.verdicts.found == {"shop-01"}
    lines = summarise([row])
    assert lines[1].startswith("recall 1/2 = 50.0%") and lines[1].endswith("FAILS")


def test_a_control_is_judged_by_the_findings_that_match_no_labelled_defect(
    tmp_path: Path,
) -> None:
    [repo] = load_corpus(_corpus(tmp_path, SMALL.replace('kind = "hasty"', 'kind = "control"')))
    defect = {"code": "ENV003", "path": "docker-compose.yml", "line": 6, "message": "JWT_SECRET"}
    other = {"code": "PORT001", "path": "docker-compose.yml", "line": 3, "message": "clash"}

    def controls(findings: list[dict[str, object]]) -> str:
        scanned = Scanned(findings, 0.1, 1.0, None)
        lines = summarise([Row(repo, scanned, judge(repo, findings))])
        return next(line for line in lines if line.startswith("controls"))

    assert controls([defect] * 5 + [other] * 2).endswith("acme/shop 2 -> <= 2 each holds")
    assert controls([defect] + [other] * 3).endswith("acme/shop 3 -> <= 2 each FAILS")
