"""Targets from the catalog, passmuster.toml and Gatus files; base-URL overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from passmuster.core.catalog import Service
from passmuster.core.targets import MonitorConfig, apply_base_url
from passmuster.errors import ConfigError, InvalidValue, ParseError
from passmuster.monitor.configuration import load_setup
from passmuster.monitor.targets import (
    build_targets,
    catalog_targets,
    parse_base_urls,
    parse_duration,
)

CATALOG = [
    Service(
        "identity",
        health_url="http://identity:8001/healthz",
        ports=["8001:8001"],
        depends_on=["postgres"],
    ),
    Service("gateway", health_url="curl -f http://localhost:8000/health", ports=["8000:8000"]),
    Service("mailer", ports=["8025:8025"]),
    Service("postgres", kind="database", ports=[]),
    Service("worker", kind="worker", health_url="http://worker:8003/healthz"),
    Service("docs"),
]


def test_catalog_services_become_targets_with_dependencies() -> None:
    found = {t.name: t for t in catalog_targets(CATALOG, MonitorConfig())}
    assert found["identity"].url == "http://identity:8001/healthz"
    assert found["identity"].depends_on == ("postgres",)
    assert found["gateway"].url == "http://gateway:8000/health"  # localhost means itself
    assert found["mailer"].url == "tcp://mailer:8025"  # no health route known: connect
    assert found["postgres"].url == "tcp://postgres:5432"
    assert found["postgres"].conditions == ("[CONNECTED] == true",)
    assert "worker" not in found and "docs" not in found


def test_a_health_path_and_per_service_overrides_apply() -> None:
    config = MonitorConfig.model_validate(
        {
            "health_path": "livez",
            "services": {"gateway": {"disabled": True}, "identity": {"severity": "critical"}},
            "base_urls": {"identity": "http://127.0.0.1:18001", "postgres": "127.0.0.1:5432"},
        }
    )
    found = {t.name: t for t in catalog_targets(CATALOG, config)}
    assert "gateway" not in found
    assert found["mailer"].url == "http://mailer:8025/livez"
    assert found["identity"].url == "http://127.0.0.1:18001/healthz"
    assert found["identity"].severity == "critical"
    assert found["postgres"].url == "tcp://127.0.0.1:5432"


@pytest.mark.parametrize(
    ("url", "mapping", "expected"),
    [
        (
            "http://identity:8001/healthz",
            {"identity": "http://127.0.0.1:9"},
            "http://127.0.0.1:9/healthz",
        ),
        (
            "http://identity:8001/h",
            {"identity:8001": "https://x.example/base"},
            "https://x.example/base/h",
        ),
        ("http://other:1/h", {"identity": "http://127.0.0.1:9"}, "http://other:1/h"),
    ],
)
def test_base_url_overrides(url: str, mapping: dict[str, str], expected: str) -> None:
    assert apply_base_url(url, mapping) == expected


def test_base_url_pairs_from_the_command_line_are_checked() -> None:
    assert parse_base_urls(["identity=http://127.0.0.1:8001/"]) == {
        "identity": "http://127.0.0.1:8001"
    }
    with pytest.raises(InvalidValue, match="HOST=URL"):
        parse_base_urls(["identity"])


def test_gatus_endpoints_are_read_with_their_conditions(tmp_path: Path) -> None:
    (tmp_path / "gatus.yaml").write_text(
        """
endpoints:
  - name: website
    group: frontend
    url: "https://example.org/health"
    interval: 30s
    client:
      timeout: 500ms
    conditions:
      - "[STATUS] == 200"
      - "[RESPONSE_TIME] < 300"
      - "[BODY].status == UP"
    alerts:
      - type: slack
        failure-threshold: 5
  - name: db
    service: postgres
    url: "tcp://db:5432"
    interval: 1m
    conditions: ["[CONNECTED] == true"]
  - name: off
    url: "http://x/"
    enabled: false
"""
    )
    (tmp_path / "passmuster.toml").write_text('[monitor]\ngatus = "gatus.yaml"\ncatalog = false\n')
    setup = load_setup(tmp_path / "passmuster.toml")
    found = setup.targets.targets
    assert set(found) == {"website", "db"}
    assert found["website"].interval == 30 and found["website"].timeout == 0.5
    assert found["website"].failure_threshold == 5 and found["website"].service is None
    assert found["db"].service == "postgres"
    assert found["website"].conditions[2] == "[BODY].status == UP"
    assert found["db"].interval == 60 and found["db"].kind == "tcp"
    assert tmp_path / "gatus.yaml" in setup.watch


def test_a_bad_gatus_endpoint_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "gatus.yaml"
    path.write_text(
        "endpoints:\n  - name: a\n    url: http://a/\n  - name: b\n    url: http://b/\n"
        "    interval: soon\n"
    )
    with pytest.raises(ParseError, match=r"gatus.yaml:4: endpoint 2: invalid interval 'soon'"):
        build_targets(MonitorConfig(catalog=False, gatus=[str(path)]))


def test_a_bad_condition_or_url_in_passmuster_toml_names_the_target(tmp_path: Path) -> None:
    bad = MonitorConfig.model_validate(
        {"targets": [{"name": "a", "url": "http://a/", "conditions": ["[FOO] == 1"]}]}
    )
    with pytest.raises(ConfigError, match=r"\[monitor.targets\]\[0\]: invalid condition"):
        build_targets(bad)
    ftp = MonitorConfig.model_validate({"targets": [{"name": "a", "url": "ftp://a/"}]})
    with pytest.raises(ConfigError, match="must start with http://, https:// or tcp://"):
        build_targets(ftp)


def test_a_wrong_monitor_setting_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "passmuster.toml"
    path.write_text("[monitor]\nfailure_threshold = 0\n")
    with pytest.raises(ConfigError, match=r"passmuster.toml: \[monitor.failure_threshold\]"):
        load_setup(path)


def test_durations() -> None:
    assert parse_duration("1h30m", "interval") == 5400
    assert parse_duration(5, "interval") == 5.0
    with pytest.raises(InvalidValue):
        parse_duration("10 s", "interval")
