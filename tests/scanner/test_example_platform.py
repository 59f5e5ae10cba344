"""The bundled example platform (examples/platform/) gives exactly these findings: at least one
defect per rule family, each the kind a seed log records, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import ScanResult, scan
from passmuster.settings import load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "platform"

# (code, service, file, line), in report order.
EXPECTED = [
    ("REQ004", None, "requirements.shared.txt", 8),
    ("IMG001", "billing", "services/billing/Dockerfile", 1),
    ("CODE001", "billing", "services/billing/app/main.py", 5),
    ("REF001", "gateway", "docker-compose.yml", 25),
    ("REQ005", "identity", "docker-compose.yml", 39),
    ("ENV003", "identity", "docker-compose.yml", 40),
    ("REQ001", "identity", "services/identity/requirements.txt", 2),
    ("ENV003", "instances", "docker-compose.yml", 73),
    ("ENV007", "instances", "docker-compose.yml", 76),
    ("REQ006", "instances", "services/instances/requirements.txt", 3),
    ("ENV005", "instances-worker", "docker-compose.yml", 81),
    ("ENV003", "instances-worker", "docker-compose.yml", 92),
    ("ENV006", "instances-worker", "docker-compose.yml", 92),
    ("ENV007", "instances-worker", "docker-compose.yml", 94),
    ("PORT001", "notifications", "docker-compose.yml", 118),
    ("IMG002", "notifications", "docker-compose.yml", 125),
    ("CODE004", "notifications", "services/notifications/app/main.py", 8),
    ("IMG004", "tenants", "docker-compose.yml", 49),
    ("CODE005", "tenants", "services/tenants/app/main.py", 14),
    ("CODE002", "tenants", "services/tenants/app/main.py", 23),
]


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return scan(EXAMPLE, ScanConfig.from_project(load_config(EXAMPLE / "passmuster.toml")))


def test_the_example_platform_gives_exactly_its_planted_findings(result: ScanResult) -> None:
    assert [(f.code, f.service, f.path, f.line) for f in result.findings] == EXPECTED


def test_every_rule_family_has_a_defect_in_the_example(result: ScanResult) -> None:
    families = {f.code.rstrip("0123456789") for f in result.findings}
    assert families == {"REQ", "IMG", "PORT", "REF", "ENV", "CODE"}


def test_the_seed_failures_are_named_in_the_messages(result: ScanResult) -> None:
    messages = {(f.code, f.service): f.message for f in result.findings}
    assert "HTTPStatus" in messages[("CODE001", "billing")]
    assert "get_current_user" in messages[("CODE002", "tenants")]
    assert "query parameter" in messages[("CODE002", "tenants")]
    assert "DOCKER_HOST" in messages[("ENV005", "instances-worker")]
    assert "asyncpg and psycopg2-binary" in messages[("REQ004", None)]
    assert "docker < 7.1" in messages[("REQ006", "instances")]
    assert "8004" in messages[("PORT001", "notifications")]
    assert "identity" in messages[("CODE005", "tenants")]


def test_cross_service_findings_name_the_other_service_file(result: ScanResult) -> None:
    collision = next(f for f in result.findings if f.code == "PORT001")
    assert [(r.path, r.service) for r in collision.related] == [("docker-compose.yml", "billing")]
    localhost = next(f for f in result.findings if f.code == "CODE005")
    assert [(r.path, r.line, r.service) for r in localhost.related] == [
        ("docker-compose.yml", 30, "identity")
    ]


def test_no_secret_value_of_the_example_appears_in_any_message(result: ScanResult) -> None:
    secrets = ["change_me", "secure_password_change_me", "guest", "admin"]
    for finding in result.findings:
        for secret in secrets:
            assert secret not in finding.message, (finding.code, secret)
