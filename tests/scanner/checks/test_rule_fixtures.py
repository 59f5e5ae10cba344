"""Each rule against its fixture pair: the bad tree gives exactly the expected findings (and no
other rule's), the good tree gives none from any rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from passmuster.scanner.registry import default_registry
from tests.scanner.checks.helpers import FIXTURES, ScanTree

# code -> [(path, line, service)] the bad tree must produce, in report order.
EXPECTED: dict[str, list[tuple[str, int, str | None]]] = {
    "REQ001": [("services/api/requirements.txt", 2, "api")],
    "REQ002": [("services/web/requirements.txt", 1, "web")],
    "REQ003": [("services/api/requirements.txt", 2, "api")],
    "REQ004": [("requirements.shared.txt", 6, None)],
    "REQ005": [("docker-compose.yml", 7, "api"), ("services/api/app/main.py", 13, "api")],
    "REQ006": [("services/api/requirements.txt", 3, "api")],
    "REQ007": [("services/api/requirements.txt", 2, "api")],
    "REQ008": [("services/api/requirements.txt", 1, "api")],
    "REQ009": [("services/api/requirements.txt", 1, "api")],
    "REQ010": [("services/api/requirements.txt", 1, "api")],
    "IMG001": [("services/api/Dockerfile", 1, "api")],
    "IMG002": [("docker-compose.yml", 7, "api")],
    "IMG003": [("services/api/Dockerfile", 6, "api")],
    "IMG004": [("services/api/Dockerfile", 7, "api")],
    "IMG005": [("services/api/Dockerfile", 7, "api")],
    "IMG006": [("services/api/Dockerfile", 8, "api")],
    "PORT001": [("docker-compose.yml", 9, "web")],
    "PORT002": [("docker-compose.yml", 5, "api")],
    "PORT003": [("docker-compose.yml", 11, "web"), ("docker-compose.yml", 12, "web")],
    "PORT004": [("services/api/Dockerfile", 7, "api")],
    "PORT005": [("services/billing/Dockerfile", 6, "billing")],
    "PORT006": [("services/billing/app/main.py", 7, "billing")],
    "PORT007": [("docker-compose.yml", 7, "kafka")],
    "PORT008": [("docker-compose.yml", 7, "gateway")],
    "PORT009": [("docker-compose.yml", 10, "api")],
    "REF001": [("docker-compose.yml", 7, "api")],
    "REF002": [
        ("docker-compose.yml", 5, "api"),
        ("docker-compose.yml", 8, "api"),
        ("docker-compose.yml", 10, "api"),
        ("services/api/requirements.txt", 1, "api"),
        ("docker-compose.yml", 12, "web"),
    ],
    "REF003": [("docker-compose.yml", 7, "api")],
    "REF004": [("docker-compose.yml", 11, "db")],
    "REF005": [("services/api/Dockerfile", 3, "api")],
    "REF006": [("docker-compose.yml", 11, "orders")],
    "ENV001": [("docker-compose.yml", 7, "api")],
    "ENV002": [("api.env", 3, "api")],
    "ENV003": [("docker-compose.yml", 7, "api")],
    "ENV004": [("docker-compose.yml", 9, "billing"), ("docker-compose.yml", 14, "gateway")],
    "ENV005": [("docker-compose.yml", 10, "instances-worker")],
    "ENV006": [("docker-compose.yml", 13, "instances-worker")],
    "ENV007": [("docker-compose.yml", 5, "instances-worker")],
    "ENV008": [("api.env", 2, "api")],
    "ENV010": [(".env.example", 3, None), (".env.example", 3, None)],
    "ENV011": [("Dockerfile", 7, "order-service")],
    "ENV009": [("docker-compose.yml", 8, "api"), ("services/api/app/config.py", 8, "api")],
    "CODE001": [("services/api/app/main.py", 1, "api"), ("services/api/app/main.py", 3, "api")],
    "CODE002": [("services/api/app/main.py", 12, "api"), ("services/api/app/routes.py", 11, "api")],
    "CODE003": [("services/api/Dockerfile", 7, "api"), ("services/web/Dockerfile", 7, "web")],
    "CODE004": [("services/api/app/main.py", 3, "api")],
    "CODE005": [("services/api/app/main.py", 9, "api")],
    "CODE006": [("services/orders/app/main.py", 3, "orders")],
    "CODE007": [("docker-compose.yml", 7, "ai-worker")],
}


def catalogue_codes() -> list[str]:
    return [r.code for r in default_registry().rules() if not r.code.startswith("PM")]


def test_every_rule_has_a_fixture_pair_and_expectations() -> None:
    codes = catalogue_codes()
    assert sorted(EXPECTED) == sorted(codes)
    for code in codes:
        assert (FIXTURES / code / "bad").is_dir(), code
        assert (FIXTURES / code / "good").is_dir(), code


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_bad_tree_triggers_exactly_its_rule(code: str, scan_tree: ScanTree) -> None:
    result = scan_tree(FIXTURES / code / "bad")
    found = [(f.code, f.path, f.line, f.service) for f in result.findings]
    assert found == [(code, *where) for where in EXPECTED[code]]


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_good_tree_triggers_no_rule(code: str, scan_tree: ScanTree) -> None:
    result = scan_tree(FIXTURES / code / "good")
    assert [(f.code, f.path, f.line, f.message) for f in result.findings] == []


def test_cross_service_findings_point_at_the_other_service(scan_tree: ScanTree) -> None:
    collision = scan_tree(FIXTURES / "PORT001" / "bad").findings[0]
    assert [(r.path, r.line, r.service) for r in collision.related] == [
        ("docker-compose.yml", 5, "api")
    ]
    drift = scan_tree(FIXTURES / "REQ002" / "bad").findings[0]
    assert [(r.path, r.line, r.service) for r in drift.related] == [
        ("services/api/requirements.txt", 1, "api")
    ]
    assert "1.10.13" in drift.message and "2.11.7" in drift.message
    wrong_port = scan_tree(FIXTURES / "PORT003" / "bad").findings[0]
    assert wrong_port.related[0].service == "api"
    assert "9000" in wrong_port.message and "8000" in wrong_port.message


@pytest.mark.parametrize("code", ["ENV003", "ENV004", "ENV006", "REQ005"])
def test_messages_never_show_secret_values(code: str, scan_tree: ScanTree) -> None:
    root = FIXTURES / code / "bad"
    secrets = [
        "change_me",
        "Qm9vdHN0cmFwLWtleS0x",
        "T3RoZXIta2V5LTI",
        "bk-71c0e9d2",
        "bk-0b3f8a11",
        "Vh3kP9xq2LmZ",
        "Xk29fPq7",
    ]
    result = scan_tree(root)
    assert result.findings
    for finding in result.findings:
        texts = [finding.message, *(r.message for r in finding.related)]
        for secret in secrets:
            assert all(secret not in text for text in texts), (finding.code, secret)


def test_the_deferred_annotation_case_says_query_parameter(scan_tree: ScanTree) -> None:
    findings = scan_tree(FIXTURES / "CODE002" / "bad").findings
    by_file = {Path(f.path).name: f.message for f in findings}
    assert "NameError" in by_file["main.py"]
    assert "query parameter" in by_file["routes.py"]


def test_internal_port_convention_is_off_by_default(scan_tree: ScanTree, tmp_path: Path) -> None:
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "PORT004" / "bad", tree)
    (tree / "passmuster.toml").unlink()
    assert scan_tree(tree).findings == []
