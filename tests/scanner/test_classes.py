"""One small platform per class of defect that real repositories showed the scanner missing or
misjudging (tests/fixtures/classes/<NN-class>/{bad,good}): the bad tree gives exactly the
expected findings, the good tree none."""

from __future__ import annotations

from pathlib import Path

import pytest

from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import ScanResult, scan

CLASSES = Path(__file__).resolve().parents[1] / "fixtures" / "classes"

# class -> [(code, path, line)] the bad tree must give, in report order.
EXPECTED: dict[str, list[tuple[str, str, int]]] = {
    "01-several-compose-projects": [("REF001", "deploy/docker-compose.yml", 4)],
    "02-requirements-no-image-installs": [("REQ003", "api/requirements-dev.txt", 2)],
    "03-env-example-file": [("ENV001", "docker-compose.yml", 6)],
    "04-hidden-by-interpolation": [("ENV006", "docker-compose.yml", 15)],
    "05-image-works-on-its-own": [("IMG002", "api/Dockerfile", 5)],
    "06-hardcoded-localhost": [("CODE005", "orders/app/main.py", 6)],
    "07-rules-that-were-wrong": [("CODE003", "docker-compose.yml", 4)],
    "08-one-cause-one-finding": [("ENV003", "docker-compose.yml", 5)],
    "09-missing-rules": [("PORT006", "api/app/main.py", 7)],
    "10-messages-carry-values": [("ENV007", "docker-compose.yml", 5)],
}


def _scan(root: Path) -> ScanResult:
    return scan(root, ScanConfig())


def test_every_class_has_a_fixture_pair() -> None:
    assert sorted(p.name for p in CLASSES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_bad_platform_of_a_class_gives_its_findings(name: str) -> None:
    found = [(f.code, f.path, f.line) for f in _scan(CLASSES / name / "bad").findings]
    assert found == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_good_platform_of_a_class_gives_none(name: str) -> None:
    assert [(f.code, f.path, f.line) for f in _scan(CLASSES / name / "good").findings] == []


def test_one_cause_is_one_finding_listing_every_place() -> None:
    [finding] = _scan(CLASSES / "08-one-cause-one-finding" / "bad").findings
    assert [(r.path, r.line, r.service) for r in finding.related] == [
        ("docker-compose.yml", 9, "tenants"),
        ("docker-compose.yml", 13, "billing"),
    ]
    assert "3 services" in finding.message


def test_messages_carry_the_values_compared() -> None:
    socket = _scan(CLASSES / "10-messages-carry-values" / "bad").findings[0]
    assert "/var/run/docker.sock" in socket.message
    port = _scan(CLASSES / "09-missing-rules" / "bad").findings[0]
    assert "8001" in port.message and "8000" in port.message


def test_a_compose_project_finding_names_its_compose_file() -> None:
    result = _scan(CLASSES / "01-several-compose-projects" / "bad")
    assert {f.path for f in result.findings} == {"deploy/docker-compose.yml"}
    assert {s.project for s in result.platform.services if s.name == "api"} == {
        "deploy/docker-compose.yml",
        "docker-compose.yml",
    }
